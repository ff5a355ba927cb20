// The review audit as JSON (schema gpuledger.reviews/1), as a table that says the headline
// sentences in words, and as CSV (one row per PR).
#pragma once

#include <string>

#include "reviews/review_audit.h"

namespace gpuledger {

std::string ReviewsToJson(const ReviewAudit& audit);
std::string ReviewsToTable(const ReviewAudit& audit, int top);
std::string ReviewsToCsv(const ReviewAudit& audit);

}  // namespace gpuledger
