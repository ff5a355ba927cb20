#include "sources/slurm_sacct.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/csv_table.h"
#include "core/time_parser.h"
#include "sources/table_fields.h"
#include "sources/table_rows.h"

namespace gpuledger {
namespace {

// Expands "01-04,07" with prefix "gpu" into names; false when malformed.
bool ExpandRanges(const std::string& prefix, std::string_view ranges,
                  std::vector<std::string>* out) {
  size_t i = 0;
  while (i <= ranges.size()) {
    size_t j = ranges.find(',', i);
    if (j == std::string_view::npos) j = ranges.size();
    const std::string_view part = ranges.substr(i, j - i);
    const size_t dash = part.find('-');
    const std::string_view a = part.substr(0, dash);
    const std::string_view b = dash == std::string_view::npos ? a : part.substr(dash + 1);
    int lo = 0, hi = 0;
    if (a.empty() || b.empty() ||
        std::from_chars(a.data(), a.data() + a.size(), lo).ec != std::errc() ||
        std::from_chars(b.data(), b.data() + b.size(), hi).ec != std::errc() || hi < lo ||
        hi - lo > 100000) {
      return false;
    }
    for (int n = lo; n <= hi; ++n) {
      out->push_back(prefix + fmt::format("{:0{}}", n, static_cast<int>(a.size())));
    }
    i = j + 1;
  }
  return true;
}

}  // namespace

std::vector<std::string> ExpandNodeList(std::string_view list) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < list.size()) {
    const size_t bracket = list.find('[', i), comma = list.find(',', i);
    if (bracket != std::string_view::npos && (comma == std::string_view::npos || bracket < comma)) {
      const size_t close = list.find(']', bracket);
      if (close == std::string_view::npos) return {};
      const std::string prefix(list.substr(i, bracket - i));
      if (!ExpandRanges(prefix, list.substr(bracket + 1, close - bracket - 1), &out)) return {};
      i = close + 1;
      if (i < list.size() && list[i] != ',') return {};
      ++i;
    } else {
      const size_t end = comma == std::string_view::npos ? list.size() : comma;
      if (end > i) out.emplace_back(list.substr(i, end - i));
      i = end + 1;
    }
  }
  return out;
}

int TresGpuCount(std::string_view tres) {
  int total = 0;
  for (size_t i = 0; i < tres.size();) {
    size_t j = tres.find(',', i);
    if (j == std::string_view::npos) j = tres.size();
    const std::string_view item = tres.substr(i, j - i);
    if (item.starts_with("gres/gpu=") || item.starts_with("gres/gpu:")) {
      const size_t eq = item.find('=');
      int n = 0;
      if (eq != std::string_view::npos &&
          std::from_chars(item.data() + eq + 1, item.data() + item.size(), n).ec == std::errc()) {
        // gres/gpu=N is the total; gres/gpu:TYPE=N repeats it by type: count typed ones only
        // when no untyped total is given.
        if (item.starts_with("gres/gpu=")) return n;
        total += n;
      }
    }
    i = j + 1;
  }
  return total;
}

namespace {

struct SacctColumns {
  std::optional<size_t> id, user, state, exit, start, end, nodes, tres, comment, admin_comment;
};

// experiment=…, run=…, repo=…, pr=…, commit=… among the key=value pairs (separated by spaces,
// commas or semicolons) of a job's Comment or AdminComment; other text is left alone.
void ReadIdentityPairs(std::string_view text, Job* job) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find_first_of(" ,;", at);
    const std::string_view pair = text.substr(at, end == std::string_view::npos ? end : end - at);
    at = end == std::string_view::npos ? text.size() : end + 1;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq + 1 == pair.size()) continue;
    const std::string_view key = pair.substr(0, eq);
    const std::string value(pair.substr(eq + 1));
    std::string* field = key == "experiment" ? &job->experiment
                         : key == "run"      ? &job->run
                         : key == "repo"     ? &job->repo
                         : key == "pr"       ? &job->pr
                         : key == "commit"   ? &job->commit
                                             : nullptr;
    if (field && field->empty()) *field = value;
  }
}

// Reads the job-level fields of a row into *job; false (after reporting why) when the row is
// no job to audit.
bool ReadJobFields(const TableRow& r, const SacctColumns& c, TimeParser* parser, Job* job) {
  const std::string id = r.Get(c.id);
  if (id.find('.') != std::string::npos) {  // a job step: its job is the record
    r.Note("job_step_skipped", "step " + id);
    return false;
  }
  job->id = id;
  job->status = r.Get(c.state);
  if (!ClassifyJobStatus(job->status, &job->failed)) {
    r.Reject("unknown_status", "State '" + job->status + "'");
    return false;
  }
  const std::string start = r.Get(c.start), end = r.Get(c.end);
  if (start.empty() || start == "Unknown" || start == "None") {
    r.Note("not_started", "job " + id + " has no Start (pending)");
    return false;
  }
  const bool running = end.empty() || end == "Unknown";
  if (!parser->Parse(start, &job->start) || !(running || parser->Parse(end, &job->end))) {
    r.Reject("bad_time", "Start '" + start + "', End '" + end + "'");
    return false;
  }
  if (running) job->end = kTimeMax;
  if (job->end < job->start) {
    r.Reject("end_before_start", "End is before Start");
    return false;
  }
  job->owner = r.Get(c.user);
  job->exit_code = r.Get(c.exit);
  ReadIdentityPairs(r.Get(c.comment), job);
  ReadIdentityPairs(r.Get(c.admin_comment), job);
  job->input_order = r.order();
  return true;
}

// One job per node of "nodes" that the audit knows and on which the job holds GPUs. Slurm
// allocates a job's GPUs node by node in NodeList order, so each node is filled up to its GPU
// count (the inventory's) before the next; a node whose count is unknown gets an even share of
// what is left. With no gres/gpu in AllocTRES, each node's job holds all its GPUs. Returns how
// many nodes were known.
size_t SplitOverNodes(const TableRow& r, const Job& job, const std::vector<std::string>& nodes,
                      int gpus_total, const KnownMachines& machines, std::vector<Job>* jobs) {
  size_t known = 0;
  int left = gpus_total;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string& node = nodes[i];
    auto m = machines.find(node);
    if (m == machines.end()) continue;
    ++known;
    const int share = static_cast<int>(left / static_cast<int>(nodes.size() - i));
    const int take = m->second > 0 ? std::min(left, m->second) : share;
    left -= take;
    if (gpus_total > 0 && take == 0) continue;  // the job holds no GPU of this node
    Job j = job;
    j.id = nodes.size() > 1 ? job.id + "@" + node : job.id;
    j.machine = node;
    const int per_node = take;
    if (per_node > 0 && (m->second == 0 || per_node < m->second)) {
      for (int g = 0; g < per_node; ++g) j.gpus.push_back(g);
      r.Note("gpu_indices_assumed",
             fmt::format("job {} holds {} GPU(s) of {}: sacct does not say which, taken as 0-{}",
                         job.id, per_node, node, per_node - 1));
    }
    jobs->push_back(std::move(j));
  }
  return known;
}

}  // namespace

Result<void> ReadSacct(std::string_view text, const std::string& file, uint32_t file_index,
                       const TimeZone& zone, const KnownMachines& machines, std::vector<Job>* jobs,
                       SourceStats* stats) {
  const CsvTable table(text, '|', /*quotes=*/false);
  if (table.header().empty()) {
    return MakeError(ErrorCode::kParse, "empty sacct output (no header line)", file);
  }
  SacctColumns c{table.Column({"jobid"}),    table.Column({"user"}),
                 table.Column({"state"}),    table.Column({"exitcode"}),
                 table.Column({"start"}),    table.Column({"end"}),
                 table.Column({"nodelist"}), table.Column({"alloctres"}),
                 table.Column({"comment"}),  table.Column({"admincomment"})};
  if (!c.id || !c.state || !c.start || !c.nodes) {
    return MakeError(ErrorCode::kParse,
                     "sacct header must name JobID, State, Start and NodeList (run sacct -P -o "
                     "JobID,User,Account,Partition,State,ExitCode,Start,End,NodeList,AllocTRES)",
                     file + ":" + std::to_string(table.header_line()));
  }
  ++stats->files;
  TimeParser parser(&zone);
  ForEachTableRow(table, file, file_index, stats, [&](const TableRow& r) {
    Job job;
    if (!ReadJobFields(r, c, &parser, &job)) return;
    const std::vector<std::string> nodes = ExpandNodeList(r.Get(c.nodes));
    if (nodes.empty()) {
      r.Reject("bad_nodelist", "NodeList '" + r.Get(c.nodes) + "'");
      return;
    }
    if (SplitOverNodes(r, job, nodes, TresGpuCount(r.Get(c.tres)), machines, jobs) == 0) {
      r.Reject("unknown_machine", "no node of '" + r.Get(c.nodes) + "' is in the audit");
      return;
    }
    ++stats->rows_accepted;
  });
  return {};
}

}  // namespace gpuledger
