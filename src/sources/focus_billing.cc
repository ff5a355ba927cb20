#include "sources/focus_billing.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "core/csv_table.h"
#include "core/time_parser.h"
#include "sources/table_rows.h"

namespace gpuledger {
namespace {

struct Charge {
  TimeMs start = 0, end = 0;
  double cost_usd = 0;
  std::string owner, team, project;
  uint64_t line = 0;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Tags JSON ({"owner": "asha", …}) → key (lower-cased) → value; empty when absent or malformed.
std::map<std::string, std::string> ParseTags(const std::string& json) {
  std::map<std::string, std::string> tags;
  if (json.empty()) return tags;
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(simdjson::padded_string(json)).get(o) != simdjson::SUCCESS) return tags;
  for (auto [key, value] : o) {
    std::string_view v;
    if (value.get(v) == simdjson::SUCCESS) tags[Lower(std::string(key))] = std::string(v);
  }
  return tags;
}

bool ParseCost(const std::string& text, double* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<void> ReadFocusBilling(std::string_view text, const std::string& file, uint32_t file_index,
                              const TimeZone& zone, const FocusOptions& o,
                              const std::set<std::string>& telemetry_machines, Fleet* fleet,
                              SourceStats* stats) {
  CsvTable table(text);
  const bool key_is_tag = o.machine_key.starts_with("tag:");
  const std::string tag_key = key_is_tag ? Lower(o.machine_key.substr(4)) : "";
  const auto c_start = table.Column({"chargeperiodstart"});
  const auto c_end = table.Column({"chargeperiodend"});
  const auto c_cost = table.Column({Lower(o.cost_column)});
  const auto c_key = key_is_tag ? table.Column({"tags"}) : table.Column({Lower(o.machine_key)});
  if (!c_start || !c_end || !c_cost || !c_key) {
    return MakeError(ErrorCode::kParse,
                     "FOCUS header must name ChargePeriodStart, ChargePeriodEnd, " + o.cost_column +
                         " and " + (key_is_tag ? std::string("Tags") : o.machine_key),
                     file + ":" + std::to_string(std::max<uint64_t>(table.header_line(), 1)));
  }
  const auto c_tags = table.Column({"tags"});
  const auto c_service = table.Column({"servicecategory"});
  const auto c_charge = table.Column({"chargecategory"});

  // The bill replaces the inventory's prices; the inventory still gives GPU counts and owners.
  std::map<std::string, BillingPeriod> inventory_defaults;
  for (Machine& m : fleet->machines) {
    if (!m.billing.empty()) inventory_defaults[m.name] = m.billing.front();
    m.billing.clear();
  }
  ++stats->files;
  TimeParser parser(&zone);
  std::map<std::string, std::vector<Charge>> by_machine;
  ForEachTableRow(table, file, file_index, stats, [&](const TableRow& r) {
    auto field = [&](std::optional<size_t> c) {
      std::string v = r.Get(c);
      return v == "NULL" ? std::string() : v;
    };
    Charge ch;
    ch.line = r.line();
    if (!parser.Parse(field(c_start), &ch.start) || !parser.Parse(field(c_end), &ch.end)) {
      r.Reject("bad_time",
               "ChargePeriodStart '" + field(c_start) + "', End '" + field(c_end) + "'");
      return;
    }
    if (ch.end <= ch.start) {
      r.Reject("end_before_start", "the charge period ends before it starts");
      return;
    }
    if (!ParseCost(field(c_cost), &ch.cost_usd)) {
      r.Reject("bad_cost", o.cost_column + " '" + field(c_cost) + "'");
      return;
    }
    const auto tags = ParseTags(field(c_tags));
    auto tag = [&](const std::string& k) {
      auto it = tags.find(k);
      return it == tags.end() ? std::string() : it->second;
    };
    const std::string machine = key_is_tag ? tag(tag_key) : field(c_key);
    const std::string service = field(c_service), charge = field(c_charge);
    const bool usage = !c_charge || charge == "Usage";
    const bool compute = !c_service || service == "Compute";
    const bool gpu_machine =
        !machine.empty() && (fleet->Find(machine) >= 0 || telemetry_machines.count(machine) > 0);
    if (!usage || !compute || ch.cost_usd <= 0 || !gpu_machine) {
      const std::string category = (service.empty() ? "(no service)" : service) + "/" +
                                   (charge.empty() ? "(no charge category)" : charge) +
                                   (usage && compute && !gpu_machine ? " (no GPU machine)" : "");
      fleet->other_charges_usd[category] += ch.cost_usd;
      ++stats->rows_accepted;
      return;
    }
    const int64_t known = fleet->Find(machine);
    if ((known < 0 || fleet->machines[known].gpu_count == 0) && o.gpus_per_machine <= 0) {
      r.Reject("no_gpu_count", "GPU machine '" + machine +
                                   "' is in no inventory: give --inventory or --gpus-per-machine");
      return;
    }
    ch.owner = tag("owner"), ch.team = tag("team"), ch.project = tag("project");
    by_machine[machine].push_back(std::move(ch));
  });

  for (auto& [name, charges] : by_machine) {
    std::stable_sort(charges.begin(), charges.end(), [](const Charge& a, const Charge& b) {
      return a.start != b.start ? a.start < b.start : a.end < b.end;
    });
    int64_t index = fleet->Find(name);
    if (index < 0) {
      fleet->AddMachine(name).gpu_count = o.gpus_per_machine;
      index = fleet->Find(name);
    }
    Machine& m = fleet->machines[index];
    const BillingPeriod base =
        inventory_defaults.count(name) ? inventory_defaults[name] : BillingPeriod{};
    for (const Charge& ch : charges) {
      BillingPeriod* last = m.billing.empty() ? nullptr : &m.billing.back();
      if (last && last->start == ch.start && last->end == ch.end) {  // more cost, same period
        last->hourly_usd += ch.cost_usd / (static_cast<double>(ch.end - ch.start) / kMsPerHour);
        ++stats->rows_accepted;
        continue;
      }
      if (last && ch.start < last->end) {
        stats->rejected.Add("overlapping_charge", file, ch.line, InputOrder(file_index, ch.line),
                            "overlaps another charge period of " + name);
        continue;
      }
      BillingPeriod p = base;
      p.start = ch.start, p.end = ch.end;
      p.hourly_usd = ch.cost_usd / (static_cast<double>(ch.end - ch.start) / kMsPerHour);
      if (!ch.owner.empty()) p.owner = ch.owner;
      if (!ch.team.empty()) p.team = ch.team;
      if (!ch.project.empty()) p.project = ch.project;
      m.billing.push_back(std::move(p));
      ++stats->rows_accepted;
    }
  }
  return {};
}

}  // namespace gpuledger
