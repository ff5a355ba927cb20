// The Jupyter server that owns a kernel, found the way Jupyter itself finds its servers: the
// runtime directory (the folder of the kernel's connection file, else $JUPYTER_RUNTIME_DIR)
// holds a jpserver-<pid>.json (nbserver-<pid>.json for classic Notebook servers) per running
// server, with its url and token. The REST API then names the kernel's notebook
// (/api/sessions) and shuts the kernel down (DELETE /api/kernels/<id>): the notebook file and
// the server survive, and the server does not restart the kernel as it would after a signal.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace gpuledger {

struct JupyterServer {
  std::string url;  // "http://127.0.0.1:8888/" (its base_url included)
  std::string token;
  std::string info_file;  // the jpserver-*.json it was read from
};

// The servers listed in "runtime_dir" (unreadable or malformed files are skipped).
std::vector<JupyterServer> ListJupyterServers(const std::string& runtime_dir);

struct JupyterKernel {
  JupyterServer server;
  std::string kernel_id;
  std::string notebook;  // the session's path ("analysis/idle.ipynb"); empty when none names it
};

// The server among "runtime_dir"'s that has kernel "kernel_id" (GET /api/kernels/<id> answers
// 200), with the notebook its session names. kIo saying why when none answers for it.
Result<JupyterKernel> LocateJupyterKernel(const std::string& runtime_dir,
                                          const std::string& kernel_id);

// DELETE /api/kernels/<id> on its server (204: shut down).
Result<void> ShutdownJupyterKernel(const JupyterKernel& kernel);

// The runtime directory of a kernel started with "-f DIR/kernel-<id>.json", or "".
std::string JupyterRuntimeDirOf(const std::vector<std::string>& argv);

}  // namespace gpuledger
