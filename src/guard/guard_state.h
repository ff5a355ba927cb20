// What the guard carries over a restart (DESIGN.md: keeps and warnings survive it): per
// workload its processes, first active instant, warnings given and keep, as JSON in the state
// directory, written atomically (a temporary file renamed over the old one). Tied to this boot
// (/proc/sys/kernel/random/boot_id): after a reboot every pid is another process.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "guard/node_guard.h"

namespace gpuledger {

std::string GuardStateJson(const std::vector<SavedWorkload>& saved, const std::string& boot_id);
// The saved workloads, or none when the file is from another boot. kParse for a damaged file.
Result<std::vector<SavedWorkload>> ParseGuardState(std::string_view json,
                                                   const std::string& boot_id);

// Writes the state unless it is what *last_written holds (then nothing is written); updates it.
Result<void> SaveGuardState(const std::string& path, const std::vector<SavedWorkload>& saved,
                            std::string* last_written = nullptr);
// A missing file is no saved state.
Result<std::vector<SavedWorkload>> LoadGuardState(const std::string& path);

std::string BootId();

}  // namespace gpuledger
