#include "report/json_input.h"

namespace gpuledger {
namespace {

void WriteProblems(JsonWriter& w, const Problems& problems) {
  w.BeginObject();
  for (const auto& [reason, e] : problems.entries()) {
    w.Key(reason).BeginObject();
    w.Key("count").Int(static_cast<int64_t>(e.count));
    w.Key("first").String(e.Where());
    w.Key("detail").String(e.detail);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

void WriteSourceStats(JsonWriter& w, const SourceStats& s) {
  w.BeginObject();
  w.Key("files").Int(static_cast<int64_t>(s.files));
  w.Key("rows_read").Int(static_cast<int64_t>(s.rows_read));
  w.Key("rows_accepted").Int(static_cast<int64_t>(s.rows_accepted));
  w.Key("rows_rejected").Int(static_cast<int64_t>(s.RowsRejected()));
  w.Key("rejected");
  WriteProblems(w, s.rejected);
  w.Key("notes");
  WriteProblems(w, s.notes);
  w.EndObject();
}

void WriteInputSection(JsonWriter& w, const SourceStats& telemetry, const SourceStats& inventory,
                       const SourceStats& jobs) {
  w.Key("input").BeginObject();
  w.Key("telemetry");
  WriteSourceStats(w, telemetry);
  w.Key("inventory");
  WriteSourceStats(w, inventory);
  w.Key("jobs");
  WriteSourceStats(w, jobs);
  w.EndObject();
}

void WriteTime(JsonWriter& w, TimeMs t) {
  if (t <= kTimeMin || t >= kTimeMax)
    w.Null();
  else
    w.String(FormatIsoUtc(t));
}

}  // namespace gpuledger
