#include "report/report_assets.h"

// Each file becomes a read-only symbol pair; GPULEDGER_ASSET_* are absolute paths CMake passes.
#define GPULEDGER_EMBED(name, path)                 \
  __asm__(                                          \
      ".pushsection .rodata\n"                      \
      ".global gpuledger_" #name                    \
      "_begin\n"                                    \
      "gpuledger_" #name                            \
      "_begin:\n"                                   \
      ".incbin \"" path                             \
      "\"\n"                                        \
      ".global gpuledger_" #name                    \
      "_end\n"                                      \
      "gpuledger_" #name                            \
      "_end:\n"                                     \
      ".byte 0\n"                                   \
      ".popsection\n");                             \
  extern "C" const char gpuledger_##name##_begin[]; \
  extern "C" const char gpuledger_##name##_end[];

GPULEDGER_EMBED(report_html, GPULEDGER_ASSET_REPORT_HTML)
GPULEDGER_EMBED(echarts_js, GPULEDGER_ASSET_ECHARTS_JS)

namespace gpuledger {

std::string_view ReportTemplateHtml() {
  return {gpuledger_report_html_begin, gpuledger_report_html_end};
}
std::string_view EchartsJs() { return {gpuledger_echarts_js_begin, gpuledger_echarts_js_end}; }

}  // namespace gpuledger
