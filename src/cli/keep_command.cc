// gpuledger keep WORKLOAD DURATION --reason TEXT: ask this node's guard to spare a workload.
#include <fmt/format.h>
#include <simdjson.h>

#include <memory>

#include "cli/commands.h"
#include "guard/keep_socket.h"

namespace gpuledger::cli {
namespace {

struct KeepFlags {
  std::string workload, duration, reason, format = "table";
  std::string socket = "/run/gpuledger/guard.sock";
  bool list = false;
};

// A field that may be absent: the default stays.
void Ignore(simdjson::error_code) {}

int PrintList(const std::string& answer, const std::string& format) {
  if (format == "json") {
    fmt::print("{}\n", answer);
    return kExitOk;
  }
  using namespace simdjson;
  dom::parser parser;
  dom::element doc;
  dom::array workloads;
  if (parser.parse(padded_string(answer)).get(doc) != SUCCESS ||
      doc["workloads"].get(workloads) != SUCCESS) {
    return ReportError("keep", Error{ErrorCode::kIo, "the guard's answer is not a list", ""});
  }
  fmt::print("{:<40} {:<10} {:<12} {:<6} {:>8}  {}\n", "WORKLOAD", "STATE", "OWNER", "GPUS", "IDLE",
             "KEPT UNTIL (WHY)");
  for (dom::element w : workloads) {
    std::string_view id, state, owner, until = "", why = "";
    double idle = 0;
    Ignore(w["workload"].get(id)), Ignore(w["state"].get(state)), Ignore(w["owner"].get(owner));
    Ignore(w["idle_seconds"].get(idle));
    std::string gpus;
    dom::array list;
    if (w["gpus"].get(list) == SUCCESS) {
      for (dom::element g : list) {
        int64_t i = 0;
        if (g.get(i) == SUCCESS) gpus += (gpus.empty() ? "" : ",") + std::to_string(i);
      }
    }
    dom::element keep;
    if (w["keep"].get(keep) == SUCCESS && keep.is_object()) {
      Ignore(keep["until"].get(until)), Ignore(keep["reason"].get(why));
    }
    fmt::print("{:<40} {:<10} {:<12} {:<6} {:>8}  {}\n", id, state, owner, gpus,
               FormatDuration(static_cast<DurationMs>(idle * 1000)),
               until.empty() ? "-" : fmt::format("{} ({})", until, why));
  }
  return kExitOk;
}

int RunKeepCommand(const KeepFlags& f) {
  KeepRequest request;
  if (f.list) {
    request.op = "list";
  } else {
    if (f.workload.empty() || f.duration.empty()) {
      return ReportError(
          "keep", Error{ErrorCode::kUsage, "give WORKLOAD DURATION --reason TEXT, or --list", ""});
    }
    auto d = ParseDuration(f.duration);
    if (!d || *d <= 0) {
      return ReportError(
          "keep", Error{ErrorCode::kUsage, "'" + f.duration + "' is no duration (like 2h or 30m)",
                        "DURATION"});
    }
    if (f.reason.empty())
      return ReportError("keep", Error{ErrorCode::kUsage, "say why: --reason TEXT", "--reason"});
    request = {"keep", f.workload, f.reason, *d};
  }
  auto answer = AskGuard(f.socket, KeepRequestJson(request));
  if (!answer) return ReportError("keep", answer.error());
  using namespace simdjson;
  dom::parser parser;
  dom::element doc;
  bool ok = false;
  std::string_view message;
  if (parser.parse(padded_string(*answer)).get(doc) != SUCCESS || doc["ok"].get(ok) != SUCCESS)
    return ReportError("keep", Error{ErrorCode::kIo, "the guard's answer is not JSON", f.socket});
  if (!ok) {
    Ignore(doc["message"].get(message));
    return ReportError("keep", Error{ErrorCode::kInvalid, std::string(message), ""});
  }
  if (f.list) return PrintList(*answer, f.format);
  Ignore(doc["message"].get(message));
  if (f.format == "json")
    fmt::print("{}\n", *answer);
  else
    fmt::print("{}\n", message);
  return kExitOk;
}

}  // namespace

void AddKeepCommand(CLI::App* app, Outcome* outcome) {
  auto f = std::make_shared<KeepFlags>();
  CLI::App* cmd = app->add_subcommand(
      "keep",
      "Ask this node's guard to spare a workload for a while (at most the policy's max_keep), on "
      "the record: who asked, until when, why. Only its owner or root may keep a workload.");
  cmd->footer(
      "WORKLOAD is what the guard's warning names (pg:4242, jupyter:<id>, slurm:<id>) or a pid.");
  cmd->add_option("WORKLOAD", f->workload, "the workload, or the pid of one of its processes");
  cmd->add_option("DURATION", f->duration, "how long, e.g. 2h");
  cmd->add_option("--reason", f->reason, "why (recorded)");
  cmd->add_flag("--list", f->list, "list this node's GPU workloads with their state and keeps");
  cmd->add_option("--socket", f->socket, "the guard's socket")->capture_default_str();
  AddFormatOption(cmd, &f->format, {"table", "json"});
  cmd->callback([f, outcome] { outcome->exit_code = RunKeepCommand(*f); });
}

}  // namespace gpuledger::cli
