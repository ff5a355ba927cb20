#include "guard/jupyter_server.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>

#include "core/line_reader.h"
#include "sources/http_get.h"

namespace gpuledger {
namespace {

constexpr long kTimeoutS = 5;  // the guard waits no longer for a server
constexpr uint64_t kMaxBody = 4 << 20;

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
std::string NotebookOf(const JupyterServer& s, const std::string& kernel_id) {
  const HttpResponse r = HttpRequest("GET", Api(s, "api/sessions"), AuthFor(s), "application/json",
                                     kMaxBody, kTimeoutS);
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
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string file;
    if ((argv[i] == "-f" || argv[i] == "--f") && i + 1 < argv.size()) file = argv[i + 1];
    if (argv[i].starts_with("-f=")) file = argv[i].substr(3);
    if (argv[i].starts_with("--f=")) file = argv[i].substr(4);
    if (file.find("kernel-") == std::string::npos) continue;
    return std::filesystem::path(file).parent_path().string();
  }
  return "";
}

std::vector<JupyterServer> ListJupyterServers(const std::string& runtime_dir) {
  std::vector<JupyterServer> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(runtime_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!(name.starts_with("jpserver-") || name.starts_with("nbserver-")) ||
        !name.ends_with(".json"))
      continue;
    auto text = ReadWholeFile(e.path().string());
    if (!text) continue;
    using namespace simdjson;
    dom::parser parser;
    dom::element doc;
    std::string_view url, token;
    if (parser.parse(padded_string(*text)).get(doc) != SUCCESS || doc["url"].get(url) != SUCCESS)
      continue;
    if (doc["token"].get(token) != SUCCESS) token = "";
    out.push_back({std::string(url), std::string(token), e.path().string()});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.info_file < b.info_file; });
  return out;
}

Result<JupyterKernel> LocateJupyterKernel(const std::string& runtime_dir,
                                          const std::string& kernel_id) {
  if (!IsKernelId(kernel_id))
    return MakeError(ErrorCode::kInvalid, "not a kernel id: " + kernel_id);
  const auto servers = ListJupyterServers(runtime_dir);
  if (servers.empty())
    return MakeError(ErrorCode::kIo, "no Jupyter server is listed in " + runtime_dir);
  std::string tried;
  for (const JupyterServer& s : servers) {
    const HttpResponse r = HttpRequest("GET", Api(s, "api/kernels/" + kernel_id), AuthFor(s),
                                       "application/json", kMaxBody, kTimeoutS);
    if (r.status == 200) return JupyterKernel{s, kernel_id, NotebookOf(s, kernel_id)};
    tried += fmt::format("{}{} ({})", tried.empty() ? "" : ", ", s.url,
                         r.status ? "HTTP " + std::to_string(r.status) : r.error);
  }
  return MakeError(ErrorCode::kIo,
                   "no Jupyter server answers for kernel " + kernel_id + ": " + tried);
}

Result<void> ShutdownJupyterKernel(const JupyterKernel& k) {
  const HttpResponse r = HttpRequest("DELETE", Api(k.server, "api/kernels/" + k.kernel_id),
                                     AuthFor(k.server), "application/json", kMaxBody, kTimeoutS);
  if (r.status == 204 || r.status == 200) return {};
  return MakeError(ErrorCode::kIo,
                   fmt::format("the Jupyter server at {} answered {}", k.server.url,
                               r.status ? "HTTP " + std::to_string(r.status) : r.error));
}

}  // namespace gpuledger
