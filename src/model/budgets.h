// Budgets (`--budgets budgets.toml`): what a team or an owner may spend per period.
//
//   period = "month"            # the only period so far: UTC calendar months
//   [budgets]
//   vision = 50000              # a team
//   "team:nlp" = 20000          # the same, said explicitly
//   "owner:asha" = 5000         # an owner
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

struct Budget {
  enum class Kind { kTeam, kOwner };
  Kind kind = Kind::kTeam;
  std::string name;
  double usd_per_period = 0;
  uint32_t line = 0;        // where budgets.toml says it
  std::string Key() const;  // "team:NAME" or "owner:NAME"
};

struct Budgets {
  std::string period = "month";
  std::vector<Budget> budgets;  // in the file's order

  // Parses budgets.toml text; kParse naming source:line:column.
  static Result<Budgets> Parse(std::string_view toml_text, const std::string& source);
};

// The UTC calendar month [from, to) that holds "t".
struct Period {
  TimeMs from = 0, to = 0;
  std::string Label() const;  // "2025-03"
};
Period MonthOf(TimeMs t);

// The alert levels budgets are checked at, in percent of the budget.
inline constexpr int kBudgetLevels[] = {50, 80, 100};

}  // namespace gpuledger
