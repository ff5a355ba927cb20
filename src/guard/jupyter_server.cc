#include "guard/jupyter_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/proc_stat.h"
#include "guard/workload.h"
#include "sources/http_get.h"

namespace gpuledger {
namespace {

constexpr uint64_t kMaxBody = 4 << 20;

// The file's text when it is a regular file (not a link, not a FIFO or device) owned by
// "uid" and at most "max_bytes"; opened without blocking and without following a link.
std::optional<std::string> ReadFileOwnedBy(const std::string& path, uint32_t uid,
                                           size_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> text;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == uid &&
      static_cast<size_t>(st.st_size) <= max_bytes) {
    std::string buf(static_cast<size_t>(st.st_size), '\0');
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n >= 0) buf.resize(static_cast<size_t>(n)), text = std::move(buf);
  }
  close(fd);
  return text;
}

// The effective uid of process "pid" (the owner of its /proc entry); -1 when it is gone.
int64_t ProcessUid(const std::string& proc_root, int64_t pid) {
  struct stat st {};
  if (stat((proc_root + "/" + std::to_string(pid)).c_str(), &st) != 0) return -1;
  return st.st_uid;
}

// True when "ancestor" is a parent, grandparent, … of "pid" (up to 64 generations).
bool DescendsFrom(const std::string& proc_root, int64_t pid, int64_t ancestor) {
  for (int depth = 0; depth < 64 && pid > 1; ++depth) {
    auto st = ReadProcStat(pid, proc_root);
    if (!st) return false;
    if (st->ppid == ancestor) return true;
    pid = st->ppid;
  }
  return false;
}

HttpAuth AuthFor(const JupyterServer& s) {
  HttpAuth auth;
  auth.bearer_token = s.token;
  auth.scheme = "token";
  auth.origin = OriginOf(s.url);
  return auth;
}

std::string Api(const JupyterServer& s, std::string_view path) {
  std::string url = s.url;
  if (!url.ends_with('/')) url += '/';
  return url + std::string(path);
}

// The kernel ids are uuids; anything else is not asked about (it would be put in a URL).
bool IsKernelId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

// The notebook of the session whose kernel is "kernel_id", from GET /api/sessions.
std::string NotebookOf(const JupyterServer& s, const std::string& kernel_id, long timeout_s) {
  const HttpResponse r = HttpRequest("GET", Api(s, "api/sessions"), AuthFor(s), "application/json",
                                     kMaxBody, timeout_s);
  if (r.status != 200) return "";
  using namespace simdjson;
  dom::parser parser;
  dom::array sessions;
  if (parser.parse(padded_string(r.body)).get(sessions) != SUCCESS) return "";
  for (dom::element session : sessions) {
    std::string_view id, path;
    if (session["kernel"]["id"].get(id) == SUCCESS && id == kernel_id &&
        session["path"].get(path) == SUCCESS)
      return std::string(path);
  }
  return "";
}

}  // namespace

std::string JupyterRuntimeDirOf(const std::vector<std::string>& argv) {
  const std::string file = JupyterConnectionFileOf(argv);
  return file.empty() ? "" : std::filesystem::path(file).parent_path().string();
}

bool IsLoopbackHttpUrl(std::string_view url) {
  std::string lower(url.substr(0, std::min<size_t>(url.size(), 8)));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t skip = lower.starts_with("http://") ? 7 : lower.starts_with("https://") ? 8 : 0;
  if (skip == 0) return false;
  std::string_view authority = url.substr(skip);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
    return host == "::1";
  }
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  // 127.a.b.c with four decimal parts
  if (!host.starts_with("127.")) return false;
  int parts = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    const size_t dot = host.find('.', i);
    std::string_view part = host.substr(i, dot == std::string_view::npos ? host.npos : dot - i);
    if (part.empty() || part.size() > 3 ||
        part.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(part)) > 255)
      return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    i = dot;
  }
  return parts == 4;
}

std::vector<JupyterServer> ListJupyterServers(const std::string& runtime_dir, uint32_t owner_uid) {
  std::vector<JupyterServer> out;
  std::error_code ec;
  int seen = 0;
  for (const auto& e : std::filesystem::directory_iterator(runtime_dir, ec)) {
    if (++seen > 256) break;
    const std::string name = e.path().filename().string();
    if (!(name.starts_with("jpserver-") || name.starts_with("nbserver-")) ||
        !name.ends_with(".json"))
      continue;
    auto text = ReadFileOwnedBy(e.path().string(), owner_uid, 64 * 1024);
    if (!text) continue;
    using namespace simdjson;
    dom::parser parser;
    dom::element doc;
    std::string_view url, token;
    int64_t pid = 0;
    if (parser.parse(padded_string(*text)).get(doc) != SUCCESS || doc["url"].get(url) != SUCCESS)
      continue;
    if (doc["token"].get(token) != SUCCESS) token = "";
    if (doc["pid"].get(pid) != SUCCESS) pid = 0;
    out.push_back({std::string(url), std::string(token), e.path().string(), pid});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.info_file < b.info_file; });
  return out;
}

Result<JupyterKernel> LocateJupyterKernel(const KernelProcess& k, const std::string& kernel_id,
                                          long timeout_s) {
  if (!IsKernelId(kernel_id))
    return MakeError(ErrorCode::kInvalid, "not a kernel id: " + kernel_id);
  const std::string dir = k.proc_root + "/" + std::to_string(k.pid) + "/root" + k.runtime_dir;
  const auto servers = ListJupyterServers(dir, k.uid);
  if (servers.empty())
    return MakeError(ErrorCode::kIo, "no Jupyter server of its user is listed in " + k.runtime_dir);
  for (const JupyterServer& s : servers) {
    if (s.pid <= 1 || !DescendsFrom(k.proc_root, k.pid, s.pid) ||
        ProcessUid(k.proc_root, s.pid) != k.uid)
      continue;  // not the server that started this kernel
    if (!IsLoopbackHttpUrl(s.url))
      return MakeError(ErrorCode::kInvalid,
                       "its Jupyter server's URL is not http(s) on a loopback address");
    const HttpResponse r = HttpRequest("GET", Api(s, "api/kernels/" + kernel_id), AuthFor(s),
                                       "application/json", kMaxBody, timeout_s);
    if (r.status == 200) return JupyterKernel{s, kernel_id, NotebookOf(s, kernel_id, timeout_s)};
    return MakeError(ErrorCode::kIo,
                     fmt::format("its Jupyter server does not list kernel {} ({})", kernel_id,
                                 r.status ? "HTTP " + std::to_string(r.status) : r.error));
  }
  return MakeError(ErrorCode::kIo, "no Jupyter server in " + k.runtime_dir +
                                       " is an ancestor of the kernel under the same user");
}

Result<void> ShutdownJupyterKernel(const JupyterKernel& k, long timeout_s) {
  if (!IsLoopbackHttpUrl(k.server.url))
    return MakeError(ErrorCode::kInvalid, "the Jupyter server is not on a loopback address");
  const HttpResponse r = HttpRequest("DELETE", Api(k.server, "api/kernels/" + k.kernel_id),
                                     AuthFor(k.server), "application/json", kMaxBody, timeout_s);
  if (r.status == 204 || r.status == 200) return {};
  return MakeError(ErrorCode::kIo,
                   fmt::format("the Jupyter server at {} answered {}", k.server.url,
                               r.status ? "HTTP " + std::to_string(r.status) : r.error));
}

}  // namespace gpuledger
