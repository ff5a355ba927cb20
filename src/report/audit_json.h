// The audit as JSON: the stable, documented object of docs/audit-json.md.
#pragma once

#include <string>

#include "audit/audit_result.h"

namespace gpuledger {

// Schema "gpuledger.audit/1". Money in USD rounded to 4 decimals (a hundredth of a cent),
// GPU-hours to 6 decimals, times as ISO-8601 UTC with milliseconds.
std::string AuditToJson(const AuditResult& result);

}  // namespace gpuledger
