#include "guard/pid_namespace.h"

#include <fmt/format.h>
#include <unistd.h>

namespace gpuledger {
namespace {

// The target of a /proc/…/ns/pid link, or "" when it cannot be read.
std::string NamespaceLink(const std::string& path) {
  char link[64] = {};
  const ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : "";
}

}  // namespace

std::string PidNamespaceProblem(std::string_view own, std::string_view proc_root_link,
                                const std::string& proc_root) {
  if (own.empty()) return "cannot read /proc/self/ns/pid to tell the guard's PID namespace";
  if (own != kInitialPidNamespace)
    return fmt::format(
        "the guard is not in the host's PID namespace ({}; run it on the host or with hostPID: "
        "true)",
        own);
  if (!proc_root_link.empty() && proc_root_link != kInitialPidNamespace)
    return "--proc-root " + proc_root + " is not the host's /proc";
  return "";
}

std::string OutsideHostPidNamespace(const std::string& proc_root) {
  const std::string own = NamespaceLink("/proc/self/ns/pid");
  const std::string other = proc_root == "/proc" ? "" : NamespaceLink(proc_root + "/self/ns/pid");
  return PidNamespaceProblem(own, other, proc_root);
}

}  // namespace gpuledger
