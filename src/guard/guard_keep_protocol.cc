// The keep socket's answers: keep, and list.
#include "core/signing.h"
#include "guard/guard_daemon_internal.h"
#include "notify/keep_link.h"

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

Result<Guard::Granted> Guard::GrantKeep(const std::string& workload, uint32_t uid,
                                        const std::string& who, DurationMs duration,
                                        const std::string& reason, std::string_view via) {
  const TimeMs now = WallNow();
  std::string note;
  auto grant = guard_.Keep(workload, uid, who, duration, reason, now, &note);
  if (!grant) {
    Say(fmt::format("keep of {} asked by {}{} refused: {}", workload, who, via,
                    grant.error().message));
    return std::unexpected(grant.error());
  }
  ++counters_.keeps;
  const std::string message =
      fmt::format("{} kept until {} for {} ({}){}", grant->workload, FormatIsoUtc(grant->until),
                  who, grant->reason, note.empty() ? "" : "; " + note);
  Say(message + std::string(via));
  const TrackedWorkload& w = guard_.workloads().at(grant->workload);
  outbox_.AddDecision({JobId(w.info, w.first_seen), now, "keep", "keep", message,
                       w.gpu_ms / kMsPerHour, 0, 0, who, 0});
  SaveState();
  return Granted{*grant, message};
}

std::string Guard::AnswerKeep(const Result<KeepRequest>& request, const Peer& peer) {
  auto fail = [](const std::string& message) {
    JsonWriter w(false);
    w.BeginObject().Key("ok").Bool(false).Key("message").String(message).EndObject();
    return w.str();
  };
  if (!request) return fail(request.error().message);
  if (request->op == "list") return ListJson();
  auto granted = GrantKeep(request->workload, peer.uid, procs_.UserName(peer.uid),
                           request->duration_ms, request->reason, "");
  if (!granted) return fail(granted.error().message);
  JsonWriter out(false);
  out.BeginObject().Key("ok").Bool(true).Key("message").String(granted->message);
  out.Key("workload").String(granted->grant.workload);
  out.Key("until").String(FormatIsoUtc(granted->grant.until)).EndObject();
  return out.str();
}

std::vector<KeepOffer> Guard::KeepOffersFor(const std::string& workload, const TrackedWorkload& w,
                                            TimeMs due_at) const {
  std::vector<KeepOffer> out;
  if (o_.keep_url.empty()) return out;
  std::string base = o_.keep_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  DurationMs last = 0;
  for (DurationMs d : {2 * kMsPerHour, 8 * kMsPerHour}) {
    d = std::min(d, o_.policy.max_keep_ms);  // never offered more than a keep may have
    if (d <= 0 || d == last) continue;
    last = d;
    const KeepAsk ask{host_, workload, w.info.owner, d};
    KeepOffer offer{"Keep " + FormatDuration(d), KeepButtonValue(ask), ""};
    if (!o_.keep_link_secret.empty()) {
      // Good until the stop it would prevent, and once (its nonce is its request's id).
      if (auto token = SignKeepLink({ask, due_at, RandomHex(16)}, o_.keep_link_secret))
        offer.url = base + "/keep?t=" + *token;
    }
    out.push_back(std::move(offer));
  }
  return out;
}

void Guard::ApplyRemoteKeeps() {
  for (const LedgerKeepRequest& r : outbox_.TakeKeepRequests()) {
    LedgerKeepAnswer answer{r.id, "refused", "", WallNow()};
    const std::string via = fmt::format(" (from {}, request {})", r.source, r.id);
    const std::optional<uint32_t> uid = r.admin ? std::optional<uint32_t>(0) : procs_.UidOf(r.who);
    if (answer.at - r.asked_at > kRemoteKeepMaxAgeMs) {
      answer.answer = fmt::format("asked at {}, too long ago: ask again", FormatIsoUtc(r.asked_at));
      Say("keep of " + r.workload + " asked by " + r.who + via + " refused: " + answer.answer);
    } else if (!uid) {
      answer.answer = "there is no user '" + r.who + "' on " + host_;
      Say("keep of " + r.workload + via + " refused: " + answer.answer);
    } else if (auto granted = GrantKeep(r.workload, *uid, r.who, r.duration_ms, r.reason, via)) {
      answer.state = "kept", answer.answer = granted->message;
    } else {
      answer.answer = granted.error().message;
    }
    outbox_.AnswerKeepRequest(std::move(answer));
  }
}

}  // namespace gpuledger::guard_daemon
