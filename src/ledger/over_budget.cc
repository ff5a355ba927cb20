#include "ledger/over_budget.h"

#include <algorithm>

#include "model/budgets.h"

namespace gpuledger {

Result<std::optional<LedgerAlert>> OverBudget(const Ledger& ledger, TimeMs now,
                                              const std::vector<std::string>& budgets) {
  auto alerts = ledger.Alerts(MonthOf(now).Label());
  if (!alerts) return std::unexpected(alerts.error());
  for (const std::string& key : budgets) {
    for (const LedgerAlert& a : *alerts) {
      if (a.budget == key && a.level >= 100) return std::optional<LedgerAlert>(a);
    }
  }
  return std::optional<LedgerAlert>();
}

std::vector<std::string> BudgetKeysOf(const std::string& owner,
                                      const std::vector<std::string>& labels) {
  std::vector<std::string> keys;
  for (const std::string& l : labels) {
    if (l.starts_with("team=") && l.size() > 5) keys.push_back("team:" + l.substr(5));
  }
  if (!owner.empty()) keys.push_back("owner:" + owner);
  return keys;
}

}  // namespace gpuledger
