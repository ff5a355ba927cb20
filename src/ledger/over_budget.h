// Is a team or owner past its monthly budget? `gpuledger budgets check` records a 100 % alert
// in the ledger when one is; `run` and the guard look for it before new work (policy
// over_budget).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"

namespace gpuledger {

// Budget key ("team:vision", "owner:asha") → what its alert said, for every budget with a
// 100 % alert in the budget period holding "now".
using OverBudgets = std::map<std::string, std::string>;
Result<OverBudgets> ReadOverBudgets(const Ledger& ledger, TimeMs now);

// The budget keys of work by "owner" of "team" (either may be empty), team first.
std::vector<std::string> BudgetKeysOf(const std::string& owner, const std::string& team);

// The first of "keys" past its budget, with what its alert said; nullopt when none is.
std::optional<std::pair<std::string, std::string>> FirstOverBudget(
    const OverBudgets& over, const std::vector<std::string>& keys);

}  // namespace gpuledger
