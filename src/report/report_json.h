// The report as JSON: the same figures the HTML page and the Markdown show, for other tools
// (docs/report.md documents the schema "gpuledger.report/1").
#pragma once

#include <string>

#include "report/report_data.h"

namespace gpuledger {

// Pretty-printed when "pretty"; the HTML page embeds the compact form.
std::string ReportToJson(const Report& report, bool pretty = true);

}  // namespace gpuledger
