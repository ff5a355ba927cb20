// Error values used across the library. Library code returns std::expected<T, Error>
// instead of throwing; only the CLI maps errors to exit codes.
#pragma once

#include <expected>
#include <string>

namespace gpuledger {

enum class ErrorCode {
  kUsage,     // the caller asked for something malformed (a bad flag value)
  kIo,        // a file or directory could not be read or written
  kParse,     // input text did not follow its format
  kInvalid,   // input parsed but breaks a rule (end before start, …)
  kTooLarge,  // an answer passed its size limit (the caller may ask for less)
};

struct Error {
  ErrorCode code = ErrorCode::kInvalid;
  std::string message;
  std::string where;  // "file:line", a file, a flag name, or empty

  // "where: message", or just the message when where is empty.
  std::string ToString() const { return where.empty() ? message : where + ": " + message; }
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> MakeError(ErrorCode code, std::string message,
                                        std::string where = {}) {
  return std::unexpected(Error{code, std::move(message), std::move(where)});
}

}  // namespace gpuledger
