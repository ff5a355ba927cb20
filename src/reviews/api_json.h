// Reading a forge's JSON answers (GitHub's and GitLab's) with simdjson's DOM: the small field
// readers both parsers use, and the walk over every object of a page. Only the two parsers
// (github_json.cc, gitlab_json.cc) include this.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger::api_json {

using simdjson::dom::element;
using simdjson::dom::object;

// A string field, or "" when it is absent, null or no string.
inline std::string Str(const object& o, std::string_view key) {
  std::string_view v;
  return o[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

inline std::optional<int64_t> Int(const object& o, std::string_view key) {
  int64_t v = 0;
  return o[key].get(v) == simdjson::SUCCESS ? std::optional<int64_t>(v) : std::nullopt;
}

inline bool Bool(const object& o, std::string_view key) {
  bool v = false;
  return o[key].get(v) == simdjson::SUCCESS && v;
}

// An ISO 8601 time field ("2013-01-31T09:30:56Z", "2016-10-04T15:56:43.276-04:00"), or nullopt
// for null or an unreadable one.
std::optional<TimeMs> Time(const object& o, std::string_view key);

// Calls item(object) for each object of each array in "json": one API page, or several arrays
// back to back (`gh api --paginate` output, `[…][…]`). Fails naming "file" when the text is no
// JSON, or holds something other than arrays of objects.
template <typename Fn>
Result<void> ForEachItem(std::string_view json, const std::string& file, Fn&& item) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::document_stream docs;
  const size_t batch = std::max<size_t>(json.size() + 64, 1 << 20);
  if (auto e = parser.parse_many(padded, batch).get(docs); e) {
    return MakeError(ErrorCode::kParse, simdjson::error_message(e), file);
  }
  size_t arrays = 0;
  for (auto doc : docs) {
    element e;
    if (auto err = doc.get(e); err) {
      return MakeError(ErrorCode::kParse, std::string("not JSON: ") + simdjson::error_message(err),
                       file);
    }
    simdjson::dom::array arr;
    if (e.get(arr) != simdjson::SUCCESS) {
      return MakeError(ErrorCode::kParse, "expected a JSON array of API objects", file);
    }
    ++arrays;
    for (element x : arr) {
      object o;
      if (x.get(o) != simdjson::SUCCESS) {
        return MakeError(ErrorCode::kParse, "an array item is not an object", file);
      }
      item(o);
    }
  }
  if (arrays == 0 && json.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    return MakeError(ErrorCode::kParse, "not JSON", file);
  }
  return {};
}

}  // namespace gpuledger::api_json
