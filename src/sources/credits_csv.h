// Credits CSV: date,amount_usd,label — the top-ups GPU time was bought with (--credits).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/problems.h"
#include "core/time_zone.h"
#include "model/credits.h"

namespace gpuledger {

// Appends the batches of credits CSV "text" to "out", in file order. Columns by name, in any
// order: date (any time gpuledger reads; a bare date is its midnight in "zone"), amount_usd
// (positive), label (optional: "batch-N" by row when empty). Rejected by reason with their first
// file:line: field_count, bad_time, bad_amount. Fails (kParse) when the header lacks date or
// amount_usd.
Result<void> ReadCredits(std::string_view text, const std::string& file, uint32_t file_index,
                         const TimeZone& zone, std::vector<CreditBatch>* out, SourceStats* stats);

}  // namespace gpuledger
