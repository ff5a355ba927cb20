// Shared field readers for the CSV tables (inventory, jobs): each returns false on bad text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/time_parser.h"

namespace gpuledger {

// A whole number in [lo, hi].
bool ReadInt(std::string_view text, int lo, int hi, int* out);
// A finite non-negative amount of money; a leading '$' is allowed.
bool ReadUsd(std::string_view text, double* out);
// GPU indices "0;1;3" (also separated by spaces or commas); empty text gives an empty list.
bool ReadGpuList(std::string_view text, std::vector<int>* out);
// A time; empty text gives "if_empty".
bool ReadTime(TimeParser* parser, std::string_view text, TimeMs if_empty, TimeMs* out);

}  // namespace gpuledger
