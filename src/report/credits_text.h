// Credits and budgets as people read them: one sentence per batch, the runway sentence, the
// audit table's section, and their stable JSON (docs/audit-json.md, "credits", "budgets").
#pragma once

#include <string>
#include <vector>

#include "audit/budget_use.h"
#include "audit/credits.h"
#include "core/json_writer.h"

namespace gpuledger {

// "batch-7 ($50,000, bought 3 Mar 2025) ran out on 21 Mar 2025: vision $21,400 (38 % idle),
// nlp $9,800 (12 % idle); 31 % paid for runs that failed or were killed".
std::string BatchSentence(const BatchResult& b);

// "$12,300 left: at $2,100 a day (the last 14 days) it runs out on 9 Apr 2025; the waste
// categories cost $900 a day, 2.5 days of runway." Empty without batches.
std::string RunwaySentence(const CreditsResult& c);

// "team vision: $41,200 of $50,000 this month (2025-03, 82 %)".
std::string BudgetSentence(const BudgetUse& u);

// The "Who burned the last batch" and "Budgets" sections of the audit table ("" when neither).
std::string CreditsTable(const AuditResult& r);

// Writes "credits": {...} (null when none) and "budgets": [...] (null when none).
void WriteCreditsJson(JsonWriter& w, const AuditResult& r);

// Writes the budgets array: kind, name, budget (its key), period, period_start, measured_to,
// budget_usd, used_usd, used_pct, level, summary (BudgetSentence).
void WriteBudgetsJson(JsonWriter& w, const std::vector<BudgetUse>& uses);

// "3 Mar 2025"
std::string ShortDate(TimeMs t);

}  // namespace gpuledger
