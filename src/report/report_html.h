// The report as one self-contained HTML page: the page template, the charting library and the
// report's JSON inlined, so it opens offline and can be mailed as a file.
#pragma once

#include <string>

#include "core/error.h"
#include "report/report_data.h"

namespace gpuledger {

// Fails (kInvalid) only when the built-in template lacks a placeholder.
Result<std::string> ReportToHtml(const Report& report);

}  // namespace gpuledger
