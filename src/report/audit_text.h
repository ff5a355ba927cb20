// The audit for people (a table) and for spreadsheets (CSV).
#pragma once

#include <string>

#include "audit/audit_result.h"

namespace gpuledger {

// A readable summary: totals, the category partition with dollars and share, never-used
// machines, top owners, top wasteful machines, the lenses and input problems. "top" bounds
// each list.
std::string AuditToTable(const AuditResult& result, int top = 10);

// One row per machine × category (all seven, zeros included):
// machine,owner,team,project,category,gpu_hours,cost_usd,held_idle_usd — the last the held
// idle dollars inside the row's category, empty when the machine has no memory readings.
std::string AuditToCsv(const AuditResult& result);

// "$1,234,567.89", or "$1,234,568" without cents.
std::string FormatUsd(double usd, bool cents = true);

}  // namespace gpuledger
