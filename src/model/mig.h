// MIG instances as their own GPUs. A MIG instance (DCGM exporter labels gpu, GPU_I_ID,
// GPU_I_PROFILE) is audited like a GPU of its own, priced at its share of the physical GPU:
// the compute slices of its profile ("3g.40gb": 3) out of the GPU's (7, or 4 on an A30). Its
// GPU index lies above every physical index and encodes parent, instance and share, so samples
// carry it through every reader and sink unchanged.
#pragma once

#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace gpuledger {

inline constexpr int kMigIndexBase = 1 << 16;  // physical GPU indices stay below it

struct MigInstance {
  int parent = 0;    // the physical GPU index
  int instance = 0;  // GPU_I_ID, 0-31
  int slices = 1;    // compute slices of the profile, 1-7
  int of = 7;        // compute slices of the physical GPU, 1-7

  double Share() const { return static_cast<double>(slices) / of; }
};

inline bool IsMigIndex(int gpu) { return gpu >= kMigIndexBase; }

inline int MigIndex(const MigInstance& m) {
  return kMigIndexBase + ((m.parent * 32 + m.instance) * 8 + m.slices) * 8 + m.of;
}

inline MigInstance DecodeMigIndex(int gpu) {
  const int x = gpu - kMigIndexBase;
  return MigInstance{x / 2048, x / 64 % 32, x / 8 % 8, x % 8};
}

// The physical GPU a GPU index belongs to (itself when it is not a MIG instance).
inline int PhysicalGpu(int gpu) { return IsMigIndex(gpu) ? DecodeMigIndex(gpu).parent : gpu; }

// The share of a GPU's price each of "gpus" (physical indices and MIG instances of one machine)
// bears: a MIG instance its profile's, a physical GPU what its instances among "gpus" leave (1
// without MIG, never below 0).
std::map<int, double> PriceShares(const std::vector<int>& gpus);

// The instance of a series' labels: GPU_I_ID "instance", GPU_I_PROFILE "profile" (e.g.
// "1g.10gb"), modelName "model". nullopt when the profile or id is malformed or out of range.
std::optional<MigInstance> ParseMigInstance(int parent, std::string_view instance,
                                            std::string_view profile, std::string_view model);

}  // namespace gpuledger
