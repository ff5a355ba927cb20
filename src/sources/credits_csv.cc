#include "sources/credits_csv.h"

#include <algorithm>

#include "core/csv_table.h"
#include "sources/table_fields.h"
#include "sources/table_rows.h"

namespace gpuledger {

Result<void> ReadCredits(std::string_view text, const std::string& file, uint32_t file_index,
                         const TimeZone& zone, std::vector<CreditBatch>* out, SourceStats* stats) {
  CsvTable table(text);
  const auto c_date = table.Column({"date", "bought", "purchased"});
  const auto c_amount = table.Column({"amount_usd", "amount", "usd"});
  if (!c_date || !c_amount) {
    return MakeError(ErrorCode::kParse,
                     "credits header must name date and amount_usd (optional: label)",
                     file + ":" + std::to_string(std::max<uint64_t>(table.header_line(), 1)));
  }
  const auto c_label = table.Column({"label", "name", "batch"});
  ++stats->files;
  TimeParser parser(&zone);
  ForEachTableRow(table, file, file_index, stats, [&](const TableRow& r) {
    CreditBatch b;
    if (r.Get(c_date).empty() || !ReadTime(&parser, r[*c_date], 0, &b.date)) {
      r.Reject("bad_time", "date '" + r.Get(c_date) + "'");
      return;
    }
    if (!ReadUsd(r[*c_amount], &b.amount_usd) || b.amount_usd <= 0) {
      r.Reject("bad_amount", "amount_usd '" + r.Get(c_amount) + "' (a positive number)");
      return;
    }
    b.label = r.Get(c_label);
    if (b.label.empty()) b.label = "batch-" + std::to_string(out->size() + 1);
    b.order = r.order();
    out->push_back(std::move(b));
    ++stats->rows_accepted;
  });
  return {};
}

}  // namespace gpuledger
