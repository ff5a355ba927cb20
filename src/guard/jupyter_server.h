// The Jupyter server that owns a kernel, found the way Jupyter itself finds its servers: the
// runtime directory (the folder of the kernel's connection file) holds a jpserver-<pid>.json
// (nbserver-<pid>.json for classic Notebook servers) per running server, with its url, token and
// pid. The REST API then names the kernel's notebook (/api/sessions) and shuts the kernel down
// (DELETE /api/kernels/<id>): the notebook file and the server survive, and the server does not
// restart the kernel as it would after a signal.
//
// Everything in a runtime directory is written by its user, so a server is believed only when
// (docs/guard.md, "Threat model"): its runtime file is a regular file (never followed through a
// link, never a FIFO) owned by the kernel process's uid; the kernel process descends from the
// server's pid, which runs as that uid; its URL is http(s) to a loopback address; and the server
// itself lists the kernel id. At most one server can pass, so no user can make the guard try many.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gpuledger {

struct JupyterServer {
  std::string url;  // "http://127.0.0.1:8888/" (its base_url included)
  std::string token;
  std::string info_file;  // the jpserver-*.json it was read from
  int64_t pid = 0;        // the server process, from the file (checked against /proc)
};

// The servers listed in "runtime_dir" in files owned by "owner_uid" (unreadable, malformed,
// linked, special or foreign files are skipped; at most 64 KiB each, 256 files).
std::vector<JupyterServer> ListJupyterServers(const std::string& runtime_dir, uint32_t owner_uid);

// True for an http:// or https:// URL whose host is a loopback address (127.0.0.0/8, ::1,
// localhost) and that carries no user-info.
bool IsLoopbackHttpUrl(std::string_view url);

struct JupyterKernel {
  JupyterServer server;
  std::string kernel_id;
  std::string notebook;  // the session's path ("analysis/idle.ipynb"); empty when none names it
};

// The kernel process as the guard knows it from /proc.
struct KernelProcess {
  int64_t pid = 0;
  uint32_t uid = 0;
  std::string runtime_dir;          // of its -f connection file, as seen from its root
  std::string proc_root = "/proc";  // to check ancestry
};

// The server among the runtime directory's that passes every check above and answers 200 for
// GET /api/kernels/<id>, with the notebook its session names. kIo saying why
// when none does. Each request waits at most "timeout_s".
Result<JupyterKernel> LocateJupyterKernel(const KernelProcess& process,
                                          const std::string& kernel_id, long timeout_s = 3);

// DELETE /api/kernels/<id> on its server (204: shut down), waiting at most "timeout_s".
Result<void> ShutdownJupyterKernel(const JupyterKernel& kernel, long timeout_s = 5);

// The folder of a kernel command line's connection file (JupyterConnectionFileOf), or "".
std::string JupyterRuntimeDirOf(const std::vector<std::string>& argv);

}  // namespace gpuledger
