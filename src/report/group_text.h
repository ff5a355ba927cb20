// The spend by experiment, run, pull request or repository (audit/group_spend.h) as the audit
// prints it: a table section, a JSON list, and a CSV for finance.
#pragma once

#include <string>

#include "audit/audit_result.h"
#include "core/json_writer.h"

namespace gpuledger {

// "Cost per experiment (N in all)": the first "top" groups; empty without AuditResult::groups.
std::string GroupsTable(const AuditResult& r, int top);

// "experiments": [{"experiment", "usd", "gpu_hours", "idle_usd", "idle_share", "held_idle_usd",
// "held_idle_share", "failed_usd", "failed_share", "jobs"}], costliest first (held idle null
// when no telemetry carried memory); nothing without AuditResult::groups.
void WriteGroupsJson(JsonWriter& w, const AuditResult& r);

// One row per group: KEY,usd,gpu_hours,idle_usd,held_idle_usd,failed_usd,jobs.
std::string GroupsCsv(const AuditResult& r);

}  // namespace gpuledger
