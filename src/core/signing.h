// Secrets and signatures: HMAC-SHA256 (Slack's request signatures, gpuledger's signed keep
// links), a constant-time comparison, random nonces, URL-safe base64 and secrets read from files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gpuledger {

// HMAC-SHA256 of "data" under "key": 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
// SHA-256 of "data": 32 raw bytes.
std::string Sha256(std::string_view data);
// "bytes" as lower-case hex.
std::string HexOf(std::string_view bytes);
// Whether "a" equals "b", in time that depends only on their lengths.
bool SameBytes(std::string_view a, std::string_view b);
// "n" random bytes from the system's CSPRNG, as hex (2n characters).
std::string RandomHex(size_t n);

// Base64 with the URL-safe alphabet (- and _) and no padding (RFC 4648 §5), and back: none
// when "text" is not such base64.
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

// A secret read from "path" (a signing secret, a link key): the file's bytes less trailing
// whitespace. kIo when it cannot be read; kUsage when it is shorter than 16 bytes, naming "flag".
Result<std::string> ReadSecretFile(const std::string& path, std::string_view flag);

}  // namespace gpuledger
