#include "sources/focus_billing.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "core/csv_table.h"
#include "core/time_parser.h"
#include "model/gpu_instance_types.h"
#include "sources/table_rows.h"

namespace gpuledger {
namespace {

struct Charge {
  TimeMs start = 0, end = 0;
  double cost_usd = 0;
  std::string owner, team, project, gpu_model;
  std::vector<std::pair<std::string, std::string>> tags;
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

// Where the columns the reader needs sit.
struct FocusColumns {
  std::optional<size_t> start, end, cost, key, tags, service, charge;
  // Where a row may name its instance type: an export's own column, FOCUS 1.1's SKU details,
  // the charge's description ("… per On Demand Linux g5.4xlarge Instance Hour").
  std::optional<size_t> instance_type, sku_details, description;
  std::string tag_key;  // set when the machine is named by a key of Tags
};

Result<FocusColumns> FindColumns(const CsvTable& table, const FocusOptions& o,
                                 const std::string& file) {
  FocusColumns c;
  if (o.machine_key.starts_with("tag:")) c.tag_key = Lower(o.machine_key.substr(4));
  c.start = table.Column({"chargeperiodstart"});
  c.end = table.Column({"chargeperiodend"});
  c.cost = table.Column({Lower(o.cost_column)});
  c.tags = table.Column({"tags"});
  c.key = c.tag_key.empty() ? table.Column({Lower(o.machine_key)}) : c.tags;
  c.service = table.Column({"servicecategory"});
  c.charge = table.Column({"chargecategory"});
  c.instance_type = table.Column({"x_instancetype", "instancetype", "x_instance_type"});
  c.sku_details = table.Column({"skupricedetails"});
  c.description = table.Column({"chargedescription"});
  if (!c.start || !c.end || !c.cost || !c.key) {
    return MakeError(ErrorCode::kParse,
                     "FOCUS header must name ChargePeriodStart, ChargePeriodEnd, " + o.cost_column +
                         " and " + (c.tag_key.empty() ? o.machine_key : std::string("Tags")),
                     file + ":" + std::to_string(std::max<uint64_t>(table.header_line(), 1)));
  }
  return c;
}

// Reads the rows of one bill: GPU machine charges by machine, the rest into other charges.
class ChargeReader {
 public:
  ChargeReader(const FocusColumns& columns, const FocusOptions& options, const TimeZone& zone,
               const std::set<std::string>& telemetry_machines,
               const std::function<int(const std::string&)>& telemetry_gpus, Fleet* fleet,
               SourceStats* stats)
      : c_(columns),
        o_(options),
        parser_(&zone),
        telemetry_machines_(telemetry_machines),
        telemetry_gpus_(telemetry_gpus),
        fleet_(fleet),
        stats_(stats) {}

  void Row(const TableRow& r);

  // Adds each GPU machine's charges to its billing (machines the inventory lacks are added).
  // "defaults" gives a machine's owner, team, project and model when the bill's tags do not.
  void Bill(const std::map<std::string, BillingPeriod>& defaults, const std::string& file,
            uint32_t file_index);

 private:
  static std::string Field(const TableRow& r, std::optional<size_t> column) {
    std::string v = r.Get(column);
    return v == "NULL" ? std::string() : v;
  }
  bool ReadPeriodAndCost(const TableRow& r, Charge* ch);
  // The GPU instance type the row names (model/gpu_instance_types.h), or nullopt.
  std::optional<GpuInstanceType> InstanceType(const TableRow& r) const;
  // The GPU count of a billed machine the inventory lacks: --gpus-per-machine, else the
  // telemetry's (noted once per machine), else 0.
  int GpuCount(const std::string& machine, const TableRow& r,
               const std::optional<GpuInstanceType>& type);
  void BillMachine(const std::string& name, std::vector<Charge>& charges, const BillingPeriod& base,
                   const std::string& file, uint32_t file_index);

  const FocusColumns& c_;
  const FocusOptions& o_;
  TimeParser parser_;
  const std::set<std::string>& telemetry_machines_;
  const std::function<int(const std::string&)>& telemetry_gpus_;
  std::map<std::string, int> gpu_counts_;  // GpuCount's answers, by machine
  Fleet* fleet_;
  SourceStats* stats_;
  std::map<std::string, std::vector<Charge>> by_machine_;
};

bool ChargeReader::ReadPeriodAndCost(const TableRow& r, Charge* ch) {
  ch->line = r.line();
  if (!parser_.Parse(Field(r, c_.start), &ch->start) ||
      !parser_.Parse(Field(r, c_.end), &ch->end)) {
    r.Reject("bad_time",
             "ChargePeriodStart '" + Field(r, c_.start) + "', End '" + Field(r, c_.end) + "'");
    return false;
  }
  if (ch->end <= ch->start) {
    r.Reject("end_before_start", "the charge period ends before it starts");
    return false;
  }
  if (!ParseCost(Field(r, c_.cost), &ch->cost_usd)) {
    r.Reject("bad_cost", o_.cost_column + " '" + Field(r, c_.cost) + "'");
    return false;
  }
  return true;
}

void ChargeReader::Row(const TableRow& r) {
  Charge ch;
  if (!ReadPeriodAndCost(r, &ch)) return;
  const auto tags = ParseTags(Field(r, c_.tags));
  auto tag = [&](const std::string& k) {
    auto it = tags.find(k);
    return it == tags.end() ? std::string() : it->second;
  };
  const std::string machine = c_.tag_key.empty() ? Field(r, c_.key) : tag(c_.tag_key);
  const std::string service = Field(r, c_.service), charge = Field(r, c_.charge);
  const bool usage = !c_.charge || charge == "Usage";
  const bool compute = !c_.service || service == "Compute";
  const std::optional<GpuInstanceType> type = InstanceType(r);
  const bool gpu_machine =
      !machine.empty() &&
      (fleet_->Find(machine) >= 0 || telemetry_machines_.count(machine) > 0 || type.has_value());
  // A GPU machine's $0 row (covered by a commitment or credit) is still a machine that ran; a
  // negative one (a refund) is a charge of the bill, netted with the rest.
  if (!usage || !compute || ch.cost_usd < 0 || !gpu_machine) {
    const std::string category = (service.empty() ? "(no service)" : service) + "/" +
                                 (charge.empty() ? "(no charge category)" : charge) +
                                 (usage && compute && !gpu_machine ? " (no GPU machine)" : "");
    fleet_->other_charges_usd[category] += ch.cost_usd;
    ++stats_->rows_accepted;
    if (charge == "Credit" || charge == "Purchase") {
      // Money in, not spend: a credit's cost is negative, a purchase's positive.
      const std::string label = Field(r, c_.description);
      fleet_->bill_credits.push_back(
          {label.empty() ? charge + " " + FormatIsoUtc(ch.start).substr(0, 10) : label, ch.start,
           std::abs(ch.cost_usd), r.order()});
    } else if (ch.cost_usd != 0) {  // refunds too: spend is the bill's net spend
      fleet_->timed_charges.push_back({ch.start, ch.end, ch.cost_usd, category});
    }
    return;
  }
  const int64_t known = fleet_->Find(machine);
  if ((known < 0 || fleet_->machines[known].gpu_count == 0) && GpuCount(machine, r, type) <= 0) {
    r.Reject("no_gpu_count", "GPU machine '" + machine +
                                 "' is in no inventory, names no GPU instance type and its "
                                 "telemetry names no GPU: give --inventory or --gpus-per-machine");
    return;
  }
  ch.owner = tag("owner"), ch.team = tag("team"), ch.project = tag("project");
  if (type) ch.gpu_model = type->gpu_model;
  ch.tags.assign(tags.begin(), tags.end());
  by_machine_[machine].push_back(std::move(ch));
}

std::optional<GpuInstanceType> ChargeReader::InstanceType(const TableRow& r) const {
  if (c_.instance_type) {
    if (auto t = FindGpuInstanceType(Field(r, c_.instance_type))) return t;
  }
  for (std::optional<size_t> column : {c_.sku_details, c_.description}) {
    if (!column) continue;
    if (auto t = FindGpuInstanceTypeIn(Field(r, column))) return t;
  }
  return std::nullopt;
}

int ChargeReader::GpuCount(const std::string& machine, const TableRow& r,
                           const std::optional<GpuInstanceType>& type) {
  if (type) {  // the instance type says; noted once per machine
    auto [it, fresh] = gpu_counts_.try_emplace(machine, type->gpu_count);
    if (fresh) {
      r.Note("gpu_count_from_instance_type",
             "machine '" + machine + "' is a " + type->instance_type + ": " +
                 std::to_string(type->gpu_count) + " x " + type->gpu_model);
    }
    return it->second;
  }
  auto [it, fresh] = gpu_counts_.try_emplace(machine, o_.gpus_per_machine);
  if (!fresh || it->second > 0) return it->second;
  if (telemetry_gpus_ && telemetry_machines_.count(machine) > 0)
    it->second = telemetry_gpus_(machine);
  if (it->second > 0) {
    r.Note("gpu_count_from_telemetry",
           "machine '" + machine + "' billed for " + std::to_string(it->second) +
               " GPUs: the highest GPU index its telemetry names, plus one");
  }
  return it->second;
}

void ChargeReader::Bill(const std::map<std::string, BillingPeriod>& defaults,
                        const std::string& file, uint32_t file_index) {
  for (auto& [name, charges] : by_machine_) {
    auto d = defaults.find(name);
    BillMachine(name, charges, d == defaults.end() ? BillingPeriod{} : d->second, file, file_index);
  }
}

void ChargeReader::BillMachine(const std::string& name, std::vector<Charge>& charges,
                               const BillingPeriod& base, const std::string& file,
                               uint32_t file_index) {
  std::stable_sort(charges.begin(), charges.end(), [](const Charge& a, const Charge& b) {
    return a.start != b.start ? a.start < b.start : a.end < b.end;
  });
  // A machine the inventory lacks had its count found by GpuCount when its rows were read.
  if (fleet_->Find(name) < 0) fleet_->AddMachine(name).gpu_count = gpu_counts_.at(name);
  Machine& m = fleet_->machines[fleet_->Find(name)];
  for (const Charge& ch : charges) {
    const double hourly_usd = ch.cost_usd / (static_cast<double>(ch.end - ch.start) / kMsPerHour);
    BillingPeriod* last = m.billing.empty() ? nullptr : &m.billing.back();
    if (last && last->start == ch.start && last->end == ch.end) {  // more cost, same period
      last->hourly_usd += hourly_usd;
      ++stats_->rows_accepted;
      continue;
    }
    if (last && ch.start < last->end) {
      stats_->rejected.Add("overlapping_charge", file, ch.line, InputOrder(file_index, ch.line),
                           "overlaps another charge period of " + name);
      continue;
    }
    BillingPeriod p = base;
    p.start = ch.start, p.end = ch.end, p.hourly_usd = hourly_usd;
    if (!ch.owner.empty()) p.owner = ch.owner;
    if (!ch.team.empty()) p.team = ch.team;
    if (!ch.project.empty()) p.project = ch.project;
    if (p.gpu_model.empty()) p.gpu_model = ch.gpu_model;
    p.tags = ch.tags;
    m.billing.push_back(std::move(p));
    ++stats_->rows_accepted;
  }
}

// The bill replaces the inventory's prices; the inventory still gives GPU counts and owners.
// Returns each inventory machine's first period, for those.
std::map<std::string, BillingPeriod> TakeInventoryPrices(Fleet* fleet) {
  std::map<std::string, BillingPeriod> defaults;
  for (Machine& m : fleet->machines) {
    if (!m.billing.empty()) defaults[m.name] = m.billing.front();
    m.billing.clear();
  }
  return defaults;
}

}  // namespace

Result<void> ReadFocusBilling(std::string_view text, const std::string& file, uint32_t file_index,
                              const TimeZone& zone, const FocusOptions& o,
                              const std::set<std::string>& telemetry_machines,
                              const std::function<int(const std::string&)>& telemetry_gpus,
                              Fleet* fleet, SourceStats* stats) {
  const CsvTable table(text);
  auto columns = FindColumns(table, o, file);
  if (!columns) return std::unexpected(columns.error());
  const auto defaults = TakeInventoryPrices(fleet);
  ++stats->files;
  ChargeReader reader(*columns, o, zone, telemetry_machines, telemetry_gpus, fleet, stats);
  ForEachTableRow(table, file, file_index, stats, [&](const TableRow& r) { reader.Row(r); });
  reader.Bill(defaults, file, file_index);
  return {};
}

}  // namespace gpuledger
