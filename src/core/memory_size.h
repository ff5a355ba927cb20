// GPU memory sizes as people write them on the command line, in MiB.
#pragma once

#include <optional>
#include <string_view>

namespace gpuledger {

// MiB in one unit: "bytes"/"B", "KiB", "MiB", "GiB" (case-insensitive; KB/MB/GB read as the
// binary units nvidia-smi and DCGM mean); nullopt for anything else.
std::optional<double> MibPerUnit(std::string_view unit);

// "1GiB", "512 MiB", "1.5GiB", "1073741824" (bare numbers are bytes) → MiB; nullopt when it is
// not a non-negative size.
std::optional<double> ParseMemorySize(std::string_view text);

}  // namespace gpuledger
