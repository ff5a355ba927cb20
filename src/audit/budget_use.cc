#include "audit/budget_use.h"

#include <algorithm>

namespace gpuledger {

std::vector<BudgetUse> UseAgainstBudgets(const Budgets& budgets, const AuditResult& audit) {
  std::vector<BudgetUse> out;
  if (audit.window_from >= audit.window_to) return out;
  const Period period = MonthOf(audit.window_to - 1);
  const TimeMs to = std::min(period.to, audit.window_to);
  for (const Budget& b : budgets.budgets) {
    BudgetUse u{b, period, to, 0, 0, 0};
    for (const MachineResult& m : audit.machines) {
      for (const SpendSegment& s : m.segments) {
        const std::string& who = b.kind == Budget::Kind::kTeam ? *s.team : *s.owner;
        if (who != b.name) continue;
        const TimeMs from = std::max(s.start, period.from), until = std::min(s.end, to);
        if (until <= from) continue;
        u.used_usd +=
            s.usd * static_cast<double>(until - from) / static_cast<double>(s.end - s.start);
      }
    }
    u.used_pct = 100 * u.used_usd / b.usd_per_period;
    for (int level : kBudgetLevels) {
      if (u.used_pct >= level) u.level = level;
    }
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace gpuledger
