#include "report/report_html.h"

#include "report/report_assets.h"
#include "report/report_json.h"

namespace gpuledger {
namespace {

constexpr std::string_view kLibraryMark = "<!--GPULEDGER:ECHARTS-->";
constexpr std::string_view kDataMark = "<!--GPULEDGER:DATA-->";

// "text" made safe inside a <script> element: "</" cannot close it early. In JSON "<\/" reads
// back as "</"; the library is checked to contain no "</script" by a test.
std::string ScriptSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') out += '\\';
  }
  return out;
}

}  // namespace

Result<std::string> ReportToHtml(const Report& report) {
  const std::string_view page = ReportTemplateHtml();
  const size_t lib = page.find(kLibraryMark), data = page.find(kDataMark);
  if (lib == std::string_view::npos || data == std::string_view::npos || data < lib) {
    return MakeError(ErrorCode::kInvalid, "the built-in report template lacks a placeholder");
  }
  const std::string json = ScriptSafe(ReportToJson(report, false));
  std::string out;
  out.reserve(page.size() + EchartsJs().size() + json.size() + 256);
  out += page.substr(0, lib);
  out += "<script>\n/* Apache ECharts (Apache License 2.0), inlined by gpuledger */\n";
  out += EchartsJs();
  out += "\n</script>";
  out += page.substr(lib + kLibraryMark.size(), data - lib - kLibraryMark.size());
  out += "<script type=\"application/json\" id=\"report-data\">";
  out += json;
  out += "</script>";
  out += page.substr(data + kDataMark.size());
  return out;
}

}  // namespace gpuledger
