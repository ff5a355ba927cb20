#include "ledger/over_budget.h"

#include "model/budgets.h"

namespace gpuledger {

Result<OverBudgets> ReadOverBudgets(const Ledger& ledger, TimeMs now) {
  auto alerts = ledger.Alerts(MonthOf(now).Label());
  if (!alerts) return std::unexpected(alerts.error());
  OverBudgets over;
  for (const LedgerAlert& a : *alerts) {
    if (a.level >= 100) over[a.budget] = a.detail;
  }
  return over;
}

std::vector<std::string> BudgetKeysOf(const std::string& owner, const std::string& team) {
  std::vector<std::string> keys;
  if (!team.empty()) keys.push_back("team:" + team);
  if (!owner.empty()) keys.push_back("owner:" + owner);
  return keys;
}

std::optional<std::pair<std::string, std::string>> FirstOverBudget(
    const OverBudgets& over, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    if (auto it = over.find(key); it != over.end()) return *it;
  }
  return std::nullopt;
}

}  // namespace gpuledger
