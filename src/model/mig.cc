#include "model/mig.h"

#include <algorithm>
#include <charconv>

namespace gpuledger {

std::map<int, double> PriceShares(const std::vector<int>& gpus) {
  std::map<int, double> carved;  // physical GPU -> the share its instances take
  for (int g : gpus) {
    if (IsMigIndex(g)) carved[DecodeMigIndex(g).parent] += DecodeMigIndex(g).Share();
  }
  std::map<int, double> shares;
  for (int g : gpus) {
    auto c = carved.find(g);
    shares[g] = IsMigIndex(g) ? DecodeMigIndex(g).Share()
                              : std::max(0.0, 1.0 - (c == carved.end() ? 0.0 : c->second));
  }
  return shares;
}

std::optional<MigInstance> ParseMigInstance(int parent, std::string_view instance,
                                            std::string_view profile, std::string_view model) {
  MigInstance m;
  m.parent = parent;
  auto [end, ec] = std::from_chars(instance.data(), instance.data() + instance.size(), m.instance);
  if (ec != std::errc() || end != instance.data() + instance.size() || m.instance < 0 ||
      m.instance > 31 || parent < 0 || parent > 1023) {
    return std::nullopt;
  }
  auto [pend, pec] = std::from_chars(profile.data(), profile.data() + profile.size(), m.slices);
  if (pec != std::errc() || pend == profile.data() + profile.size() || *pend != 'g') {
    return std::nullopt;
  }
  m.of = model.find("A30") != std::string_view::npos ? 4 : 7;
  if (m.slices < 1 || m.slices > m.of) return std::nullopt;
  return m;
}

}  // namespace gpuledger
