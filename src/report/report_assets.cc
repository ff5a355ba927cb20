#include "report/report_assets.h"

#include "core/embed.h"

// GPULEDGER_ASSET_* are absolute paths CMake passes.
GPULEDGER_EMBED(report_html, GPULEDGER_ASSET_REPORT_HTML)
GPULEDGER_EMBED(echarts_js, GPULEDGER_ASSET_ECHARTS_JS)

namespace gpuledger {

std::string_view ReportTemplateHtml() {
  return {gpuledger_report_html_begin, gpuledger_report_html_end};
}
std::string_view EchartsJs() { return {gpuledger_echarts_js_begin, gpuledger_echarts_js_end}; }

}  // namespace gpuledger
