#include "core/toml_text.h"

#include <fmt/format.h>

namespace gpuledger {

std::string TomlWhere(const std::string& source, const toml::source_region& r) {
  return fmt::format("{}:{}:{}", source, r.begin.line, r.begin.column);
}

Result<toml::table> ParseTomlText(std::string_view text, const std::string& source) {
  try {  // toml++ as Debian builds it reports syntax errors by exception
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return MakeError(ErrorCode::kParse, std::string(e.description()),
                     TomlWhere(source, e.source()));
  }
}

}  // namespace gpuledger
