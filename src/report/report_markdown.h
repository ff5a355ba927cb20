// The report as Markdown, for pasting into a PR, an issue or a chat: the headline, the
// practice map and the tables (charts are the HTML page's).
#pragma once

#include <string>

#include "report/report_data.h"

namespace gpuledger {

// "top" bounds each list; a longer list ends with a line saying how many were left out.
std::string ReportToMarkdown(const Report& report, int top = 20);

}  // namespace gpuledger
