// Whether the guard may signal the pids NVML reports. NVML names processes by their pid in the
// host's (initial) PID namespace, and kill() takes pids of the caller's own, so a guard in any
// other namespace would signal whatever process has that number there.
#pragma once

#include <string>
#include <string_view>

namespace gpuledger {

// The initial PID namespace as /proc/PID/ns/pid links to it (the kernel's PROC_PID_INIT_INO).
inline constexpr std::string_view kInitialPidNamespace = "pid:[4026531836]";

// Why no pid may be signalled, from the links of the guard's own namespace ("own") and of the
// /proc it reads ("proc_root_link", empty when it reads /proc itself); "" when they may be.
std::string PidNamespaceProblem(std::string_view own, std::string_view proc_root_link,
                                const std::string& proc_root);

// PidNamespaceProblem for this process and "proc_root".
std::string OutsideHostPidNamespace(const std::string& proc_root);

}  // namespace gpuledger
