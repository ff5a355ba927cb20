#include "sources/slurm_sacct.h"

#include <fmt/format.h>

#include <charconv>

#include "core/csv_table.h"
#include "core/line_reader.h"
#include "core/time_parser.h"
#include "sources/table_fields.h"

namespace gpuledger {
namespace {

std::vector<std::string> SplitPipes(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    const size_t j = line.find('|', i);
    out.emplace_back(
        Trim(line.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i)));
    if (j == std::string_view::npos) return out;
    i = j + 1;
  }
}

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

Result<void> ReadSacct(std::string_view text, const std::string& file, uint32_t file_index,
                       const TimeZone& zone, const KnownMachines& machines, std::vector<Job>* jobs,
                       SourceStats* stats) {
  std::vector<std::string> header;
  int c_id = -1, c_user = -1, c_state = -1, c_exit = -1, c_start = -1, c_end = -1, c_nodes = -1,
      c_tres = -1;
  TimeParser parser(&zone);
  ++stats->files;
  Result<void> result;
  ForEachLineIn(text, [&](std::string_view line, uint64_t no) {
    if (Trim(line).empty()) return true;
    std::vector<std::string> f = SplitPipes(line);
    if (header.empty()) {
      header = f;
      for (size_t i = 0; i < f.size(); ++i) {
        const std::string& h = f[i];
        const int idx = static_cast<int>(i);
        if (h == "JobID")
          c_id = idx;
        else if (h == "User")
          c_user = idx;
        else if (h == "State")
          c_state = idx;
        else if (h == "ExitCode")
          c_exit = idx;
        else if (h == "Start")
          c_start = idx;
        else if (h == "End")
          c_end = idx;
        else if (h == "NodeList")
          c_nodes = idx;
        else if (h == "AllocTRES")
          c_tres = idx;
      }
      if (c_id < 0 || c_state < 0 || c_start < 0 || c_nodes < 0) {
        result =
            MakeError(ErrorCode::kParse,
                      "sacct header must name JobID, State, Start and NodeList (run sacct -P -o "
                      "JobID,User,Account,Partition,State,ExitCode,Start,End,NodeList,AllocTRES)",
                      file + ":" + std::to_string(no));
        return false;
      }
      return true;
    }
    ++stats->rows_read;
    const uint64_t order = InputOrder(file_index, no);
    auto reject = [&](std::string_view reason, std::string detail) {
      stats->rejected.Add(reason, file, no, order, detail);
    };
    if (f.size() != header.size()) {
      reject("field_count",
             fmt::format("{} fields where the header has {}", f.size(), header.size()));
      return true;
    }
    const std::string& id = f[c_id];
    if (id.find('.') != std::string::npos) {  // a job step: its job is the record
      stats->notes.Add("job_step_skipped", file, no, order, "step " + id);
      return true;
    }
    Job job;
    job.status = f[c_state];
    if (!ClassifyJobStatus(job.status, &job.failed)) {
      reject("unknown_status", "State '" + job.status + "'");
      return true;
    }
    const std::string start = f[c_start];
    if (start.empty() || start == "Unknown" || start == "None") {
      stats->notes.Add("not_started", file, no, order, "job " + id + " has no Start (pending)");
      return true;
    }
    const std::string end = c_end >= 0 ? f[c_end] : "";
    if (!parser.Parse(start, &job.start) ||
        !(end.empty() || end == "Unknown" || parser.Parse(end, &job.end))) {
      reject("bad_time", "Start '" + start + "', End '" + end + "'");
      return true;
    }
    if (end.empty() || end == "Unknown") job.end = kTimeMax;
    if (job.end < job.start) {
      reject("end_before_start", "End is before Start");
      return true;
    }
    const std::vector<std::string> nodes = ExpandNodeList(f[c_nodes]);
    if (nodes.empty()) {
      reject("bad_nodelist", "NodeList '" + f[c_nodes] + "'");
      return true;
    }
    const int gpus_total = c_tres >= 0 ? TresGpuCount(f[c_tres]) : 0;
    job.owner = c_user >= 0 ? f[c_user] : "";
    job.exit_code = c_exit >= 0 ? f[c_exit] : "";
    job.input_order = order;
    size_t known = 0;
    for (const std::string& node : nodes) {
      auto m = machines.find(node);
      if (m == machines.end()) continue;
      ++known;
      Job j = job;
      j.id = nodes.size() > 1 ? id + "@" + node : id;
      j.machine = node;
      const int per_node = gpus_total / static_cast<int>(nodes.size());
      if (per_node > 0 && (m->second == 0 || per_node < m->second)) {
        for (int g = 0; g < per_node; ++g) j.gpus.push_back(g);
        stats->notes.Add("gpu_indices_assumed", file, no, order,
                         fmt::format("job {} holds {} GPU(s) of {}: sacct does not say which, "
                                     "taken as 0-{}",
                                     id, per_node, node, per_node - 1));
      }
      jobs->push_back(std::move(j));
    }
    if (known == 0) {
      reject("unknown_machine", "no node of '" + f[c_nodes] + "' is in the audit");
      return true;
    }
    ++stats->rows_accepted;
    return true;
  });
  if (header.empty() && result) {
    return MakeError(ErrorCode::kParse, "empty sacct output (no header line)", file);
  }
  return result;
}

}  // namespace gpuledger
