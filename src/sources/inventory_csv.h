// The inventory: machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/problems.h"
#include "core/time_zone.h"
#include "model/fleet.h"

namespace gpuledger {

// Adds the billing periods in inventory CSV "text" to "fleet". Columns are found by name in
// any order; machine, gpu_count, hourly_usd and start are required, end empty means still
// billed. A machine may have several rows (several billing periods) with the same gpu_count.
// Rows are rejected, counted in "stats" by reason with their first file:line:
//   field_count, missing_machine, bad_gpu_count, bad_price, bad_time, end_before_start,
//   gpu_count_mismatch, overlapping_billing.
// Fails (kParse) only when the header lacks a required column.
Result<void> ReadInventory(std::string_view text, const std::string& file, uint32_t file_index,
                           const TimeZone& zone, Fleet* fleet, SourceStats* stats);

}  // namespace gpuledger
