// Writes a synthetic nvidia-smi fleet for the audit benchmark: MACHINES files named
// node-NNN.csv, each with GPUS GPUs polled POLLS times, in the full default query format
// (timestamp, index, name, pci.bus_id, utilization.gpu [%], utilization.memory [%],
// memory.used/free/total [MiB]) with units, as `nvidia-smi --query-gpu=… --format=csv` logs.
// Usage: make_smi_fleet DIR MACHINES GPUS POLLS
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/time.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: make_smi_fleet DIR MACHINES GPUS POLLS\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int machines = std::atoi(argv[2]), gpus = std::atoi(argv[3]);
  const long polls = std::atol(argv[4]);
  std::filesystem::create_directories(dir);
  const gpuledger::TimeMs start = 1735689600000;  // 2025-01-01
  uint64_t state = 42;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int m = 0; m < machines; ++m) {
    std::FILE* f = std::fopen(fmt::format("{}/node-{:03}.csv", dir, m).c_str(), "wb");
    if (f == nullptr) return 1;
    std::string buf =
        "timestamp, index, name, pci.bus_id, utilization.gpu [%], utilization.memory [%], "
        "memory.used [MiB], memory.free [MiB], memory.total [MiB]\n";
    for (long p = 0; p < polls; ++p) {
      // 10 s polls with a little jitter, as a real logger has.
      const gpuledger::TimeMs t = start + p * 10000 + static_cast<long>(next() % 300);
      std::string stamp = gpuledger::FormatIsoUtc(t);
      stamp[4] = stamp[7] = '/';
      stamp[10] = ' ';
      stamp.pop_back();
      const bool busy = (p / 2000 + m) % 3 != 0;
      for (int g = 0; g < gpus; ++g) {
        const unsigned util = busy ? 40 + next() % 60 : next() % 4;
        // Half of each idle stretch holds memory (a notebook left open): the held-idle lens.
        const bool held = !busy && (p / 1000) % 2 == 1;
        const unsigned used = busy ? 40000 + next() % 30000 : held ? 20000 + g : 3;
        fmt::format_to(std::back_inserter(buf),
                       "{}, {}, NVIDIA H100 80GB HBM3, 00000000:{:02X}:00.0, {} %, {} %, {} MiB, "
                       "{} MiB, 81559 MiB\n",
                       stamp, g, 0x18 + g * 0x10, util, util / 2, used, 81559 - used);
      }
      if (buf.size() > (1 << 22)) {
        std::fwrite(buf.data(), 1, buf.size(), f);
        buf.clear();
      }
    }
    std::fwrite(buf.data(), 1, buf.size(), f);
    std::fclose(f);
  }
  return 0;
}
