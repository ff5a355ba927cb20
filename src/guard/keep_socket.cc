#include "guard/keep_socket.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/json_writer.h"
#include "core/text_safety.h"

namespace gpuledger {
namespace {

constexpr size_t kMaxAnswer = 16 * 1024 * 1024;  // `keep --list` of a very busy node

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The id of the group named "name" (the system's group database), or nothing.
std::optional<gid_t> GroupId(const std::string& name) {
  group gr{};
  group* found = nullptr;
  std::vector<char> buf(16384);
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found)
    return std::nullopt;
  return found->gr_gid;
}

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return MakeError(ErrorCode::kUsage, "socket path empty or too long", path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// Reads one line (up to kMaxAnswer) from "fd" within "timeout_ms"; what came when it ends.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  char buf[4096];
  while (line.size() < kMaxAnswer && line.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  if (const size_t nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  return line;
}

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// True when something accepts connections at "path" (a live guard, even a busy one).
bool Listening(const sockaddr_un& addr) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

Result<KeepRequest> ParseKeepRequest(std::string_view line) {
  using namespace simdjson;
  dom::parser parser;
  dom::element doc;
  if (parser.parse(padded_string(line)).get(doc) != SUCCESS)
    return MakeError(ErrorCode::kParse, "the request is not JSON");
  KeepRequest r;
  std::string_view op, workload, reason;
  if (doc["op"].get(op) != SUCCESS) return MakeError(ErrorCode::kParse, "the request has no op");
  r.op = op;
  if (r.op == "list") return r;
  if (r.op != "keep") return MakeError(ErrorCode::kParse, "unknown op '" + r.op + "'");
  int64_t duration = 0;
  if (doc["workload"].get(workload) != SUCCESS || doc["duration_ms"].get(duration) != SUCCESS)
    return MakeError(ErrorCode::kParse, "keep needs workload and duration_ms");
  if (doc["reason"].get(reason) != SUCCESS) reason = "";
  if (workload.size() > 256) return MakeError(ErrorCode::kParse, "the workload is too long");
  if (reason.size() > kMaxReason)
    return MakeError(ErrorCode::kParse,
                     fmt::format("the reason is longer than {} bytes", kMaxReason));
  r.workload = ValidUtf8(workload), r.reason = ValidUtf8(reason), r.duration_ms = duration;
  return r;
}

std::string KeepRequestJson(const KeepRequest& r) {
  JsonWriter w(false);
  w.BeginObject().Key("op").String(r.op);
  if (r.op == "keep") {
    w.Key("workload").String(r.workload).Key("duration_ms").Int(r.duration_ms);
    w.Key("reason").String(r.reason);
  }
  w.EndObject();
  return w.str();
}

Result<std::unique_ptr<KeepSocket>> KeepSocket::Listen(const std::string& path,
                                                       const std::string& group) {
  auto addr = Address(path);
  if (!addr) return std::unexpected(addr.error());
  std::optional<gid_t> gid;
  if (!group.empty()) {
    gid = GroupId(group);
    if (!gid) return MakeError(ErrorCode::kUsage, "no such group: " + group, "--socket-group");
  }
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return MakeError(ErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message(),
                       "--socket");
    chmod(dir.c_str(), 0755);
  }
  if (std::filesystem::exists(path, ec)) {
    if (Listening(*addr)) {
      return MakeError(ErrorCode::kIo, "another guard is listening on " + path, "--socket");
    }
    unlink(path.c_str());  // stale: left by a guard that died
  }
  auto s = std::unique_ptr<KeepSocket>(new KeepSocket());
  s->fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->fd_ < 0) return MakeError(ErrorCode::kIo, std::strerror(errno), "--socket");
  if (bind(s->fd_, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0 ||
      listen(s->fd_, 16) != 0) {
    return MakeError(ErrorCode::kIo,
                     fmt::format("cannot listen on {}: {}", path, std::strerror(errno)),
                     "--socket");
  }
  s->path_ = path;
  if (!gid) {
    chmod(path.c_str(), 0666);
  } else if (chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0 ||
             chmod(path.c_str(), 0660) != 0) {
    return MakeError(
        ErrorCode::kIo,
        fmt::format("cannot give {} to group {}: {}", path, group, std::strerror(errno)),
        "--socket-group");
  }
  return s;
}

KeepSocket::~KeepSocket() {
  for (Connection& c : conns_) close(c.fd);
  if (fd_ >= 0) close(fd_);
  if (!path_.empty()) unlink(path_.c_str());
}

bool KeepSocket::RateAllows(uint32_t uid, int64_t now_ms) {
  if (uid == 0) return true;
  if (rate_.size() > 4096) rate_.clear();  // bounded whatever the number of users
  auto& [start, count] = rate_[uid];
  if (now_ms - start >= kRateWindowMs) start = now_ms, count = 0;
  return ++count <= kRatePerUid;
}

void KeepSocket::Accept(int64_t now_ms) {
  while (true) {
    const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;  // none waiting (EAGAIN) or an error: next time
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        conns_.size() >= kMaxConnections) {
      close(c);
      continue;
    }
    const size_t mine = std::count_if(conns_.begin(), conns_.end(),
                                      [&](const Connection& k) { return k.peer.uid == cred.uid; });
    if (cred.uid != 0 && mine >= kMaxPerUid) {
      close(c);
      continue;
    }
    conns_.push_back({c, Peer{cred.uid, cred.pid}, now_ms + kDeadlineMs, "", "", false});
  }
}

bool KeepSocket::Read(Connection& c, const Handler& handler, int64_t now_ms) {
  char buf[4096];
  while (!c.answered) {
    const ssize_t n = read(c.fd, buf, sizeof buf);
    if (n == 0) return false;  // closed before a whole line: a probe, or nothing to answer
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.in.append(buf, static_cast<size_t>(n));
    const size_t nl = c.in.find('\n');
    if (nl == std::string::npos) {
      if (c.in.size() > kMaxRequest) return false;
      continue;
    }
    c.in.resize(nl);
    const std::string answer =
        RateAllows(c.peer.uid, now_ms)
            ? handler(ParseKeepRequest(c.in), c.peer)
            : R"j({"ok":false,"message":"too many requests from this user; try again in a few seconds"})j";
    c.out = answer + "\n";
    c.answered = true;
  }
  return true;
}

bool KeepSocket::Write(Connection& c) {
  while (!c.out.empty()) {
    const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.out.erase(0, static_cast<size_t>(n));
  }
  return false;  // all written: done
}

void KeepSocket::Poll(int timeout_ms, const Handler& handler) {
  std::vector<pollfd> fds;
  fds.reserve(conns_.size() + 1);
  fds.push_back({fd_, POLLIN, 0});
  for (const Connection& c : conns_)
    fds.push_back({c.fd, static_cast<short>(c.answered ? POLLOUT : POLLIN), 0});
  poll(fds.data(), fds.size(), timeout_ms);
  const int64_t now = SteadyNowMs();
  std::vector<bool> keep(conns_.size(), true);
  for (size_t i = 0; i < conns_.size(); ++i) {
    Connection& c = conns_[i];
    const short ready = fds[i + 1].revents;
    if (ready & (POLLERR | POLLNVAL)) {
      keep[i] = false;
    } else if (ready & (POLLIN | POLLHUP) && !c.answered) {
      keep[i] = Read(c, handler, now);
      if (keep[i] && c.answered) keep[i] = Write(c);
    } else if (ready & POLLOUT && c.answered) {
      keep[i] = Write(c);
    }
    if (now >= c.deadline_ms) keep[i] = false;  // slow or silent peers lose their turn
  }
  for (size_t i = conns_.size(); i-- > 0;) {
    if (keep[i]) continue;
    close(conns_[i].fd);
    conns_.erase(conns_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  if (fds[0].revents & POLLIN) Accept(now);
}

Result<std::string> AskGuard(const std::string& path, const std::string& request_json) {
  auto addr = Address(path);
  if (!addr) return std::unexpected(addr.error());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return MakeError(ErrorCode::kIo, std::strerror(errno), path);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    return MakeError(ErrorCode::kIo,
                     "no guard answers here (" + why + "): is gpuledger guard running?", path);
  }
  WriteAll(fd, request_json + "\n");
  std::string answer = ReadLine(fd, 10000);
  close(fd);
  if (answer.empty()) return MakeError(ErrorCode::kIo, "the guard did not answer", path);
  return answer;
}

}  // namespace gpuledger
