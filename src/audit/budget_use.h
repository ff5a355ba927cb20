// Use against budget (model/budgets.h): what each budgeted team or owner spent in the budget
// period that holds the end of the audited time. Pure.
#pragma once

#include <vector>

#include "audit/audit_result.h"
#include "model/budgets.h"

namespace gpuledger {

struct BudgetUse {
  Budget budget;
  Period period;
  TimeMs measured_to = 0;  // the period's spend is known up to here (the audit's end)
  double used_usd = 0;
  double used_pct = 0;
  int level = 0;  // the highest of kBudgetLevels reached, 0 when none
};

// "audit" must carry spend segments (AuditOptions::segments). A GPU-second counts against the
// budget of its team (the job's, else the machine's) and, separately, of its owner.
std::vector<BudgetUse> UseAgainstBudgets(const Budgets& budgets, const AuditResult& audit);

}  // namespace gpuledger
