#include "sources/inventory_csv.h"

#include <algorithm>
#include <map>

#include "core/csv_table.h"
#include "sources/table_fields.h"
#include "sources/table_rows.h"

namespace gpuledger {
namespace {

struct Row {
  BillingPeriod period;
  int gpu_count = 0;
  uint64_t line = 0;
};

}  // namespace

Result<void> ReadInventory(std::string_view text, const std::string& file, uint32_t file_index,
                           const TimeZone& zone, Fleet* fleet, SourceStats* stats) {
  CsvTable table(text);
  const auto c_machine = table.Column({"machine", "host", "hostname", "instance"});
  const auto c_gpus = table.Column({"gpu_count", "gpus"});
  const auto c_price = table.Column({"hourly_usd", "usd_per_hour", "hourly_price"});
  const auto c_start = table.Column({"start", "billing_start"});
  if (!c_machine || !c_gpus || !c_price || !c_start) {
    return MakeError(ErrorCode::kParse,
                     "inventory header must name machine, gpu_count, hourly_usd and start "
                     "(optional: gpu_model, owner, team, project, end)",
                     file + ":" + std::to_string(std::max<uint64_t>(table.header_line(), 1)));
  }
  const auto c_end = table.Column({"end", "billing_end"});
  const auto c_model = table.Column({"gpu_model", "model"});
  const auto c_owner = table.Column({"owner"});
  const auto c_team = table.Column({"team"});
  const auto c_project = table.Column({"project"});

  ++stats->files;
  TimeParser parser(&zone);
  std::map<std::string, std::vector<Row>> by_machine;
  ForEachTableRow(table, file, file_index, stats, [&](const TableRow& r) {
    Row row;
    row.line = r.line();
    const std::string machine = r.Get(c_machine);
    if (machine.empty()) {
      r.Reject("missing_machine", "no machine name");
      return;
    }
    if (!ReadInt(r[*c_gpus], 1, 1024, &row.gpu_count)) {
      r.Reject("bad_gpu_count", "gpu_count '" + r.Get(c_gpus) + "'");
      return;
    }
    if (!ReadUsd(r[*c_price], &row.period.hourly_usd)) {
      r.Reject("bad_price", "hourly_usd '" + r.Get(c_price) + "'");
      return;
    }
    if (r.Get(c_start).empty() || !ReadTime(&parser, r[*c_start], 0, &row.period.start) ||
        (c_end && !ReadTime(&parser, r[*c_end], kTimeMax, &row.period.end))) {
      r.Reject("bad_time", "start '" + r.Get(c_start) + "', end '" + r.Get(c_end) + "'");
      return;
    }
    if (row.period.end <= row.period.start) {
      r.Reject("end_before_start", "end is not after start");
      return;
    }
    row.period.gpu_model = r.Get(c_model);
    row.period.owner = r.Get(c_owner);
    row.period.team = r.Get(c_team);
    row.period.project = r.Get(c_project);
    by_machine[machine].push_back(std::move(row));
  });

  for (auto& [name, rows] : by_machine) {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return a.period.start < b.period.start; });
    int64_t index = fleet->Find(name);
    for (Row& row : rows) {
      auto reject = [&](std::string_view reason, std::string detail) {
        stats->rejected.Add(reason, file, row.line, InputOrder(file_index, row.line), detail);
      };
      Machine* m = index >= 0 ? &fleet->machines[index] : nullptr;
      if (m != nullptr && m->gpu_count != row.gpu_count) {
        reject("gpu_count_mismatch",
               "an earlier row gives " + name + " " + std::to_string(m->gpu_count) + " GPUs");
        continue;
      }
      if (m != nullptr && !m->billing.empty() && row.period.start < m->billing.back().end) {
        reject("overlapping_billing", "overlaps another billing period of " + name);
        continue;
      }
      if (m == nullptr) {
        m = &fleet->AddMachine(name);
        m->gpu_count = row.gpu_count;
        index = fleet->Find(name);
      }
      m->billing.push_back(std::move(row.period));
      ++stats->rows_accepted;
    }
  }
  return {};
}

}  // namespace gpuledger
