// `gpuledger keep` ↔ the guard, over a Unix stream socket. One request per connection, one
// JSON object per line each way:
//   → {"op":"keep","workload":"pg:4242","duration_ms":7200000,"reason":"demo at 3pm"}
//   → {"op":"list"}
//   ← {"ok":true,"message":"…","keep":{…}}   or   {"ok":false,"message":"…"}
// The guard learns who asks from the kernel (SO_PEERCRED), never from the request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

struct KeepRequest {
  std::string op;  // keep, list
  std::string workload, reason;
  DurationMs duration_ms = 0;
};

struct Peer {
  uint32_t uid = 0;
  int64_t pid = 0;
};

// The request's JSON; kParse naming what is wrong.
Result<KeepRequest> ParseKeepRequest(std::string_view line);
std::string KeepRequestJson(const KeepRequest& r);

class KeepSocket {
 public:
  // Listens at "path" (its folder created 0755; the socket 0666, since every user may ask and
  // SO_PEERCRED says who did). A stale socket file is replaced; a live one (another guard) is
  // an error.
  static Result<std::unique_ptr<KeepSocket>> Listen(const std::string& path);
  ~KeepSocket();  // closes and removes the socket file
  KeepSocket(const KeepSocket&) = delete;
  KeepSocket& operator=(const KeepSocket&) = delete;

  int fd() const { return fd_; }
  // Answers every connection waiting now (none blocks the caller for more than ~0.5 s):
  // "handler" gets the parsed request and the peer and returns the response line's JSON.
  using Handler = std::function<std::string(const Result<KeepRequest>&, const Peer&)>;
  void Serve(const Handler& handler);

 private:
  KeepSocket() = default;
  int fd_ = -1;
  std::string path_;
};

// Sends one request to the guard at "path" and returns its answer line; kIo when no guard
// answers there.
Result<std::string> AskGuard(const std::string& path, const std::string& request_json);

}  // namespace gpuledger
