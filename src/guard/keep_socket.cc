#include "guard/keep_socket.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/json_writer.h"

namespace gpuledger {
namespace {

constexpr size_t kMaxRequest = 64 * 1024;

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return MakeError(ErrorCode::kUsage, "socket path empty or too long", path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// Reads one line (up to kMaxRequest) from "fd" within "timeout_ms"; what came when it ends.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  char buf[4096];
  while (line.size() < kMaxRequest && line.find('\n') == std::string::npos) {
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
  r.workload = workload, r.reason = reason, r.duration_ms = duration;
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

Result<std::unique_ptr<KeepSocket>> KeepSocket::Listen(const std::string& path) {
  auto addr = Address(path);
  if (!addr) return std::unexpected(addr.error());
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
  chmod(path.c_str(), 0666);
  return s;
}

KeepSocket::~KeepSocket() {
  if (fd_ >= 0) close(fd_);
  if (!path_.empty()) unlink(path_.c_str());
}

void KeepSocket::Serve(const Handler& handler) {
  while (true) {
    const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;  // none waiting (EAGAIN) or an error: next time
    ucred cred{};
    socklen_t len = sizeof cred;
    std::string answer;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      answer = R"j({"ok":false,"message":"cannot tell who is asking (SO_PEERCRED)"})j";
    } else {
      const std::string line = ReadLine(c, 500);
      if (line.empty()) {  // a probe (another guard checking the socket is live), or nothing
        close(c);
        continue;
      }
      answer = handler(ParseKeepRequest(line), Peer{cred.uid, cred.pid});
    }
    WriteAll(c, answer + "\n");
    close(c);
  }
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
