// Is a team or owner past its monthly budget? `gpuledger budgets check` records a 100 % alert
// in the ledger when one is; `run` and the guard look for it before new work (policy
// over_budget).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"

namespace gpuledger {

// The 100 % alert, in the budget period holding "now", of the first of "budgets" (Budget keys:
// "owner:asha", "team:vision") that has one; nullopt when none has.
Result<std::optional<LedgerAlert>> OverBudget(const Ledger& ledger, TimeMs now,
                                              const std::vector<std::string>& budgets);

// The budget keys of work by "owner" with "labels" (k=v; a team=X label names its team).
std::vector<std::string> BudgetKeysOf(const std::string& owner,
                                      const std::vector<std::string>& labels);

}  // namespace gpuledger
