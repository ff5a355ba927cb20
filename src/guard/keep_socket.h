// `gpuledger keep` ↔ the guard, over a Unix stream socket. One request per connection, one
// JSON object per line each way:
//   → {"op":"keep","workload":"pg:4242","duration_ms":7200000,"reason":"demo at 3pm"}
//   → {"op":"list"}
//   ← {"ok":true,"message":"…","keep":{…}}   or   {"ok":false,"message":"…"}
// The guard learns who asks from the kernel (SO_PEERCRED), never from the request.
//
// Any user may connect, so no connection may hold the guard up: the socket and every connection
// are non-blocking and served from the guard's loop with a deadline each (kDeadlineMs from
// accept to the last byte of the answer), a size cap (kMaxRequest), at most kMaxConnections at
// once and kMaxPerUid per user, and at most kRatePerUid requests per user every kRateWindowMs
// (root is not limited). A connection that breaks any of these is closed; nothing waits for it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

// The request's JSON; kParse naming what is wrong. A workload over 256 bytes or a reason over
// kMaxReason bytes is refused; the reason is kept as valid UTF-8 (logs escape it).
constexpr size_t kMaxReason = 500;
Result<KeepRequest> ParseKeepRequest(std::string_view line);
std::string KeepRequestJson(const KeepRequest& r);

class KeepSocket {
 public:
  // Listens at "path" (its folder created 0755; the socket 0666, since every user may ask and
  // SO_PEERCRED says who did). A stale socket file is replaced; a live one (another guard) is
  // an error.
  // With "group" (a group name), the socket is 0660 and that group's instead: only its members
  // (and root) may connect; an unknown group is an error.
  static Result<std::unique_ptr<KeepSocket>> Listen(const std::string& path,
                                                    const std::string& group = "");
  ~KeepSocket();  // closes and removes the socket file
  KeepSocket(const KeepSocket&) = delete;
  KeepSocket& operator=(const KeepSocket&) = delete;

  // Waits up to "timeout_ms" for the socket or a connection to be ready, then does what can be
  // done without blocking: accepts, reads, answers complete requests, writes answers, closes
  // what is done or past its deadline. "handler" gets the parsed request and the peer and
  // returns the response line's JSON.
  using Handler = std::function<std::string(const Result<KeepRequest>&, const Peer&)>;
  void Poll(int timeout_ms, const Handler& handler);

  size_t connections() const { return conns_.size(); }

  static constexpr size_t kMaxRequest = 8 * 1024;
  static constexpr size_t kMaxConnections = 64;
  static constexpr size_t kMaxPerUid = 4;
  static constexpr int64_t kDeadlineMs = 2000;
  static constexpr int kRatePerUid = 20;
  static constexpr int64_t kRateWindowMs = 10'000;

 private:
  struct Connection {
    int fd = -1;
    Peer peer;
    int64_t deadline_ms = 0;  // steady clock
    std::string in, out;
    bool answered = false;
  };
  KeepSocket() = default;
  void Accept(int64_t now_ms);
  // False when the connection is done (answered and written, broken, or too big).
  bool Read(Connection& c, const Handler& handler, int64_t now_ms);
  bool Write(Connection& c);
  bool RateAllows(uint32_t uid, int64_t now_ms);

  int fd_ = -1;
  std::string path_;
  std::vector<Connection> conns_;
  std::map<uint32_t, std::pair<int64_t, int>> rate_;  // uid → window start, requests in it
};

// Sends one request to the guard at "path" and returns its answer line; kIo when no guard
// answers there.
Result<std::string> AskGuard(const std::string& path, const std::string& request_json);

}  // namespace gpuledger
