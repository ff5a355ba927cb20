// FinOps FOCUS cost-and-usage rows as the audit's billing: each compute usage row of a GPU
// machine is a billing period whose cost is spread evenly over its time and the machine's GPUs.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/problems.h"
#include "core/time_zone.h"
#include "model/fleet.h"

namespace gpuledger {

struct FocusOptions {
  std::string cost_column = "EffectiveCost";  // or BilledCost, ListCost, ContractedCost
  std::string machine_key = "ResourceId";     // or ResourceName, or tag:KEY (a key of Tags)
  int gpus_per_machine = 0;                   // for GPU machines the inventory does not list
};

// Reads FOCUS CSV "text" into "fleet". A row is billed to a GPU machine when it is a usage charge
// (ChargeCategory Usage, when the column exists) of the Compute service (ServiceCategory, when
// it exists), with a positive cost, for a resource that is a GPU machine: in the inventory already
// in "fleet" (its prices are then replaced by the bill's), or named in "telemetry_machines".
// Everything else — storage, network, tax, credits, CPU-only instances — is summed into
// fleet->other_charges_usd by "ServiceCategory/ChargeCategory" and never attributed to GPUs.
// Rows of one machine with the same charge period are added up. Quirks handled: a UTF-8 BOM,
// literal NULL, "YYYY-MM-DD HH:MM:SS" times (read in "zone"), extra and x_ columns.
// Rejected by reason with their first file:line: field_count, bad_time, bad_cost,
// end_before_start, no_gpu_count (a GPU machine whose GPU count nobody gives: not in the
// inventory, no --gpus-per-machine, and "telemetry_gpus" — the highest GPU index its telemetry
// names, plus one; called only for such machines — gives 0),
// overlapping_charge (a charge period overlapping another of the machine's but not equal to it).
// Fails (kParse) when the header lacks ChargePeriodStart, ChargePeriodEnd, the cost column or
// the machine key column.
Result<void> ReadFocusBilling(std::string_view text, const std::string& file, uint32_t file_index,
                              const TimeZone& zone, const FocusOptions& options,
                              const std::set<std::string>& telemetry_machines,
                              const std::function<int(const std::string&)>& telemetry_gpus,
                              Fleet* fleet, SourceStats* stats);

}  // namespace gpuledger
