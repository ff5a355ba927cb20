// Text that came from users (reasons, command lines, notebook paths, names) made safe to log
// and to store: one line, valid UTF-8, bounded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gpuledger {

// The length (1-4) of the well-formed UTF-8 sequence at s[i], or 0 when there is none there
// (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF, no sequence cut at the end).
size_t Utf8SequenceLength(std::string_view s, size_t i);

// "s" as valid UTF-8: each byte that does not start a well-formed sequence (RFC 3629: no
// overlongs, no surrogates, nothing past U+10FFFF, a sequence cut at the end) becomes U+FFFD.
std::string ValidUtf8(std::string_view s);

// ValidUtf8 with every control character (C0, DEL, C1) escaped as \n, \r, \t or \xNN and each
// backslash doubled, so a value can never start a new log line or forge one.
std::string EscapeForLog(std::string_view s);

// At most "max_bytes" of "s", cut at a character boundary (never inside a UTF-8 sequence).
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

// An email address that can go in a mail header and an SMTP command as it is: local@domain,
// printable ASCII, no space, angle bracket, comma, quote or line break (so no header injection).
bool IsPlainEmail(std::string_view s);

// "s" with &, <, > and " written as HTML entities: text for an element or a quoted attribute.
std::string HtmlEscaped(std::string_view s);

}  // namespace gpuledger
