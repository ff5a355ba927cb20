#include "audit/spend_digest.h"

#include <algorithm>
#include <array>

#include "audit/category.h"

namespace gpuledger {
namespace {

// Sums per category, turned into a summary once every machine is in.
struct Tally {
  std::array<double, kCategoryCount> usd{};
  double held_idle_usd = 0, gpu_hours = 0, previous_usd = 0;

  void Add(const TakerSpend& t) {
    for (Category c : kAllCategories) {
      const int i = static_cast<int>(c);
      usd[i] += t.categories[i].usd;
      gpu_hours += t.categories[i].GpuHours();
      held_idle_usd += t.held_idle_usd[i];
    }
  }

  SpendSummary Summary(bool memory_known) const {
    SpendSummary s;
    s.gpu_hours = gpu_hours, s.previous_usd = previous_usd;
    for (Category c : kAllCategories) {
      const double v = usd[static_cast<int>(c)];
      s.usd += v;
      if (IsIdle(c)) s.idle_usd += v;
      if (IsWaste(c) && v > 0)
        s.top_practices.push_back(
            {std::string(CategoryId(c)), std::string(CategoryPractice(c)), v});
    }
    if (memory_known) s.held_idle_usd = held_idle_usd;
    std::stable_sort(s.top_practices.begin(), s.top_practices.end(),
                     [](const PracticeSpend& a, const PracticeSpend& b) { return a.usd > b.usd; });
    if (s.top_practices.size() > kTopPractices) s.top_practices.resize(kTopPractices);
    return s;
  }
};

}  // namespace

SpendDigest BuildSpendDigest(const AuditResult& window, const AuditResult& previous) {
  Tally fleet;
  std::map<std::string, Tally> teams, owners;
  for (const MachineResult& m : window.machines) {
    for (const auto& [key, spend] : m.by_taker) {
      const auto& [owner, team, project] = key;
      fleet.Add(spend);
      teams[*team].Add(spend);
      owners[*owner].Add(spend);
    }
  }
  for (const MachineResult& m : previous.machines) {
    for (const auto& [key, spend] : m.by_taker) {
      const auto& [owner, team, project] = key;
      double usd = 0;
      for (const Spend& s : spend.categories) usd += s.usd;
      fleet.previous_usd += usd;
      teams[*team].previous_usd += usd;
      owners[*owner].previous_usd += usd;
    }
  }
  SpendDigest d;
  d.fleet = fleet.Summary(window.memory_known);
  for (const auto& [name, t] : teams) d.teams[name] = t.Summary(window.memory_known);
  for (const auto& [name, t] : owners) d.owners[name] = t.Summary(window.memory_known);
  return d;
}

}  // namespace gpuledger
