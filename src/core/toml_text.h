// TOML files gpuledger reads (the policy, owners rules), parsed with toml++ at the library's
// edge: its exceptions become Errors that name source:line:column. Include only from .cc files
// of the library (toml++ is a private dependency).
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "core/error.h"

namespace gpuledger {

// "source:line:column" of a region of a TOML file.
std::string TomlWhere(const std::string& source, const toml::source_region& region);

// Parses "text"; kParse naming source:line:column on a syntax error.
Result<toml::table> ParseTomlText(std::string_view text, const std::string& source);

}  // namespace gpuledger
