// Files built into the binary (CMake embeds them with .incbin, see CMakeLists.txt): the HTML
// report's page template and the charting library it inlines (Apache ECharts, from the npm
// package web/ pins with its lock file).
#pragma once

#include <string_view>

namespace gpuledger {

std::string_view ReportTemplateHtml();  // src/report/web/report.html
std::string_view EchartsJs();           // web/node_modules/echarts/dist/echarts.min.js

}  // namespace gpuledger
