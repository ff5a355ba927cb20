#include "model/budgets.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/toml_text.h"

namespace gpuledger {

std::string Budget::Key() const { return (kind == Kind::kTeam ? "team:" : "owner:") + name; }

Result<Budgets> Budgets::Parse(std::string_view text, const std::string& source) {
  auto table = ParseTomlText(text, source);
  if (!table) return std::unexpected(table.error());
  Budgets out;
  for (const auto& [key, value] : *table) {
    const std::string k(key.str());
    if (k == "period") {
      auto p = value.value<std::string>();
      if (!p || *p != "month") {
        return MakeError(ErrorCode::kParse, "period must be \"month\"",
                         TomlWhere(source, value.source()));
      }
      out.period = *p;
    } else if (k != "budgets" || !value.is_table()) {
      return MakeError(
          ErrorCode::kParse,
          "budgets.toml holds period = \"month\" and a [budgets] table, not '" + k + "'",
          TomlWhere(source, value.source()));
    }
  }
  const toml::table* budgets = (*table)["budgets"].as_table();
  if (budgets == nullptr) return out;
  for (const auto& [key, value] : *budgets) {
    Budget b;
    std::string name(key.str());
    if (name.starts_with("owner:")) {
      b.kind = Budget::Kind::kOwner, name = name.substr(6);
    } else if (name.starts_with("team:")) {
      name = name.substr(5);
    }
    const std::optional<double> usd = value.value<double>();
    if (name.empty() || !usd || !(*usd > 0) || !std::isfinite(*usd)) {
      return MakeError(ErrorCode::kParse,
                       "a budget is TEAM, \"team:TEAM\" or \"owner:OWNER\" = USD per month (a "
                       "positive number)",
                       TomlWhere(source, value.source()));
    }
    b.name = name, b.usd_per_period = *usd;
    b.line = value.source().begin.line;
    out.budgets.push_back(std::move(b));
  }
  // toml++ keeps keys sorted: put them back in the file's order.
  std::stable_sort(out.budgets.begin(), out.budgets.end(),
                   [](const Budget& x, const Budget& y) { return x.line < y.line; });
  return out;
}

Period MonthOf(TimeMs t) {
  using namespace std::chrono;
  const sys_days day{days{DayOf(t)}};
  const year_month_day ymd{day};
  const sys_days first{ymd.year() / ymd.month() / 1};
  const sys_days next{(ymd.year() / ymd.month() + months{1}) / 1};
  return {first.time_since_epoch().count() * kMsPerDay,
          next.time_since_epoch().count() * kMsPerDay};
}

std::string Period::Label() const { return FormatIsoUtc(from).substr(0, 7); }

}  // namespace gpuledger
