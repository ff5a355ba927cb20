// The keep socket's answers: keep, and list.
#include "guard/guard_daemon_internal.h"

namespace gpuledger::guard_daemon {

std::string Guard::ListJson() const {
  const TimeMs now = WallNow();
  JsonWriter w(false);
  w.BeginObject().Key("ok").Bool(true).Key("host").String(host_).Key("workloads").BeginArray();
  for (const auto& [id, t] : guard_.workloads()) {
    w.BeginObject().Key("workload").String(id).Key("kind").String(WorkloadKindId(t.info.name.kind));
    w.Key("owner").String(t.info.owner).Key("uid").Int(t.info.uid);
    w.Key("command").String(t.info.command).Key("gpus").BeginArray();
    for (int g : t.gpus) w.Int(g);
    w.EndArray().Key("state").String(guard_.StateOf(t, now));
    w.Key("idle_seconds").Number(t.IdleSince() ? (now - *t.IdleSince()) / 1000.0 : 0, 1);
    w.Key("keep");
    if (t.keep) {
      w.BeginObject()
          .Key("until")
          .String(FormatIsoUtc(t.keep->until))
          .Key("who")
          .String(t.keep->who);
      w.Key("reason").String(t.keep->reason).EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string Guard::AnswerKeep(const Result<KeepRequest>& request, const Peer& peer) {
  auto fail = [](const std::string& message) {
    JsonWriter w(false);
    w.BeginObject().Key("ok").Bool(false).Key("message").String(message).EndObject();
    return w.str();
  };
  if (!request) return fail(request.error().message);
  if (request->op == "list") return ListJson();
  const TimeMs now = WallNow();
  const std::string who = procs_.UserName(peer.uid);
  std::string note;
  auto grant = guard_.Keep(request->workload, peer.uid, who, request->duration_ms, request->reason,
                           now, &note);
  if (!grant) {
    Say(fmt::format("keep of {} asked by {} refused: {}", request->workload, who,
                    grant.error().message));
    return fail(grant.error().message);
  }
  ++counters_.keeps;
  const std::string message =
      fmt::format("{} kept until {} for {} ({}){}", grant->workload, FormatIsoUtc(grant->until),
                  who, grant->reason, note.empty() ? "" : "; " + note);
  Say(message);
  const TrackedWorkload& w = guard_.workloads().at(grant->workload);
  outbox_.AddDecision({JobId(w.info, w.first_seen), now, "keep", "keep", message,
                       w.gpu_ms / kMsPerHour, 0, 0, who, 0});
  SaveState();
  JsonWriter out(false);
  out.BeginObject().Key("ok").Bool(true).Key("message").String(message);
  out.Key("workload").String(grant->workload).Key("until").String(FormatIsoUtc(grant->until));
  out.EndObject();
  return out.str();
}

}  // namespace gpuledger::guard_daemon
