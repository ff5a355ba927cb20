// Policy over_budget for the workloads the guard sees (Outbox::OverBudget says who is past).
#include "guard/guard_daemon_internal.h"

namespace gpuledger::guard_daemon {

void Guard::CheckBudget(const std::string& workload, TimeMs now) {
  if (o_.ledger.empty()) return;
  if (!outbox_.BudgetsRead()) {  // judged once the ledger has been read (CheckPendingBudgets)
    budget_pending_.insert(workload);
    return;
  }
  auto it = guard_.workloads().find(workload);
  if (it == guard_.workloads().end() || it->second.info.name.kind == WorkloadKind::kRun) return;
  const WorkloadInfo& info = it->second.info;
  // A pod's namespace is its team.
  const auto first =
      FirstOverBudget(outbox_.OverBudget(), BudgetKeysOf(info.owner, info.pod_namespace));
  if (!first) return;
  const bool refuse = o_.policy.over_budget == "refuse";
  GuardEvent e;
  e.kind = refuse ? GuardEventKind::kKill : GuardEventKind::kWarnOnly;
  e.workload = workload;
  e.rule = KillRule::kOverBudget;
  e.at = e.due_at = now;
  e.message = fmt::format(
      "{} of {}: {} is past its monthly budget ({}){}", workload, info.owner, first->first,
      first->second,
      refuse ? "; over_budget = \"refuse\": stopped" : "; over_budget = \"warn\": it runs");
  Handle(e, now);
}

void Guard::CheckPendingBudgets(TimeMs now) {
  if (budget_pending_.empty() || !outbox_.BudgetsRead()) return;
  const std::set<std::string> pending = std::move(budget_pending_);
  budget_pending_.clear();
  for (const std::string& w : pending) CheckBudget(w, now);
}

}  // namespace gpuledger::guard_daemon
