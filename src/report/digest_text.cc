#include "report/digest_text.h"

#include <fmt/format.h>

#include "report/audit_text.h"

namespace gpuledger {
namespace {

std::string Name(const OwnerDigest& o) { return o.owner.empty() ? "the fleet" : o.owner; }

std::string Change(double now, double before) {
  if (before <= 0) return now > 0 ? "new" : "no change";
  return fmt::format("{:+.0f} %", (now - before) / before * 100);
}

// The section's lines, without a heading: spend, jobs, what autokill did, freed, keeps, doubts.
std::vector<std::string> Lines(const OwnerDigest& o) {
  std::vector<std::string> out;
  const double idle = o.gpu_hours > 0 ? o.idle_gpu_hours / o.gpu_hours * 100 : 0;
  out.push_back(fmt::format(
      "Jobs: {} ({} failed, {} killed): {}, {:.1f} GPU-hours, {:.0f} % idle; the window before: "
      "{} ({})",
      o.jobs, o.failed, o.killed, FormatUsd(o.usd), o.gpu_hours, idle, FormatUsd(o.previous_usd),
      Change(o.usd, o.previous_usd)));
  auto count = [](size_t n, const char* what) {
    return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s");
  };
  out.push_back(fmt::format("Autokill: {}, {}, {}, {}{}", count(o.warnings, "warning"),
                            count(o.kills, "kill"), count(o.releases, "release"),
                            count(o.keeps.size(), "keep"),
                            o.warn_only ? fmt::format(", {} warned about only", o.warn_only) : ""));
  out.push_back(fmt::format("Freed by kills: {:.1f} GPU-hours ({}) until their GPUs were next used",
                            o.freed_gpu_hours, FormatUsd(o.freed_usd)));
  for (const DigestKeep& k : o.keeps) {
    out.push_back(fmt::format("Keep: {} for {} at {}: {}",
                              k.granted_by.empty() ? "?" : k.granted_by, k.job_id,
                              FormatIsoUtc(k.at), k.explanation));
  }
  for (const std::string& id : o.possible_false_kills) {
    out.push_back(
        fmt::format("Possible false kill: {} (its owner started the same command again "
                    "within an hour)",
                    id));
  }
  return out;
}

double Share(double part, double whole) { return whole > 0 ? part / whole : 0; }

// What the telemetry says of one team, owner or the fleet: spend, idle, held idle.
std::vector<std::string> SpendLines(const SpendSummary& s) {
  std::vector<std::string> out;
  out.push_back(fmt::format("Spend: {} ({:.1f} GPU-hours); the window before: {} ({})",
                            FormatUsd(s.usd), s.gpu_hours, FormatUsd(s.previous_usd),
                            Change(s.usd, s.previous_usd)));
  out.push_back(fmt::format("Idle: {} ({:.1f} % of the spend)", FormatUsd(s.idle_usd),
                            Share(s.idle_usd, s.usd) * 100));
  out.push_back(s.held_idle_usd
                    ? fmt::format("Idle with GPU memory held: {} ({:.1f} %)",
                                  FormatUsd(*s.held_idle_usd), Share(*s.held_idle_usd, s.usd) * 100)
                    : std::string("Idle with GPU memory held: unknown (no memory readings)"));
  return out;
}

std::vector<std::string> PracticeLines(const SpendSummary& s) {
  std::vector<std::string> out;
  for (const PracticeSpend& p : s.top_practices)
    out.push_back(fmt::format("{} ({}): {}", FormatUsd(p.usd), p.category, p.practice));
  if (out.empty()) out.push_back("no waste in this window");
  return out;
}

// The telemetry's summary of an owner, or null.
const SpendSummary* SpendOf(const DigestTelemetry* t, const OwnerDigest& o) {
  if (t == nullptr) return nullptr;
  if (o.owner.empty()) return &t->spend.fleet;
  auto it = t->spend.owners.find(o.owner);
  return it == t->spend.owners.end() ? nullptr : &it->second;
}

void WriteSpend(JsonWriter& w, const SpendSummary& s) {
  w.BeginObject().Key("usd").Number(s.usd, kUsdDecimals).Key("gpu_hours").Number(s.gpu_hours, 4);
  w.Key("previous_usd").Number(s.previous_usd, kUsdDecimals);
  w.Key("idle_usd").Number(s.idle_usd, kUsdDecimals);
  w.Key("idle_share").Number(Share(s.idle_usd, s.usd), 6);
  w.Key("held_idle_usd");
  s.held_idle_usd ? w.Number(*s.held_idle_usd, kUsdDecimals) : w.Null();
  w.Key("held_idle_share");
  s.held_idle_usd ? w.Number(Share(*s.held_idle_usd, s.usd), 6) : w.Null();
  w.Key("top_practices").BeginArray();
  for (const PracticeSpend& p : s.top_practices) {
    w.BeginObject().Key("category").String(p.category).Key("practice").String(p.practice);
    w.Key("usd").Number(p.usd, kUsdDecimals).EndObject();
  }
  w.EndArray().EndObject();
}

void WriteSection(JsonWriter& w, const OwnerDigest& o) {
  w.BeginObject();
  if (!o.owner.empty()) w.Key("owner").String(o.owner);
  w.Key("usd").Number(o.usd, kUsdDecimals).Key("gpu_hours").Number(o.gpu_hours, 4);
  w.Key("idle_gpu_hours").Number(o.idle_gpu_hours, 4);
  w.Key("previous_usd").Number(o.previous_usd, kUsdDecimals);
  w.Key("previous_gpu_hours").Number(o.previous_gpu_hours, 4);
  w.Key("jobs").Int(o.jobs).Key("failed").Int(o.failed).Key("killed").Int(o.killed);
  w.Key("warnings").Int(o.warnings).Key("kills").Int(o.kills).Key("releases").Int(o.releases);
  w.Key("warn_only").Int(o.warn_only);
  w.Key("keeps").BeginArray();
  for (const DigestKeep& k : o.keeps) {
    w.BeginObject().Key("job_id").String(k.job_id).Key("granted_by").String(k.granted_by);
    w.Key("at").String(FormatIsoUtc(k.at)).Key("explanation").String(k.explanation).EndObject();
  }
  w.EndArray().Key("freed").BeginArray();
  for (const DigestFreed& f : o.freed) {
    w.BeginObject().Key("job_id").String(f.job_id);
    w.Key("killed_at").String(FormatIsoUtc(f.killed_at)).Key("until").String(FormatIsoUtc(f.until));
    w.Key("gpus").Int(f.gpus).Key("gpu_hours").Number(f.gpu_hours, 4);
    w.Key("usd").Number(f.usd, kUsdDecimals).EndObject();
  }
  w.EndArray();
  w.Key("freed_gpu_hours").Number(o.freed_gpu_hours, 4);
  w.Key("freed_usd").Number(o.freed_usd, kUsdDecimals);
  w.Key("possible_false_kills").BeginArray();
  for (const std::string& id : o.possible_false_kills) w.String(id);
  w.EndArray().EndObject();
}

std::string Period(const Digest& d) {
  return fmt::format("{} to {}", FormatIsoUtc(d.from), FormatIsoUtc(d.to));
}

}  // namespace

std::string DigestMarkdown(const Digest& d, const DigestTelemetry* t) {
  std::string out = fmt::format("# gpuledger digest, {}\n", Period(d));
  auto list = [&](const std::vector<std::string>& lines, const char* indent) {
    for (const std::string& line : lines) out += indent + std::string("- ") + line + "\n";
  };
  auto spend = [&](const SpendSummary* s, bool fleet) {
    if (s == nullptr) return;
    out += "- From the telemetry:\n";
    list(SpendLines(*s), "  ");
    out += "- Top practices:\n";
    list(PracticeLines(*s), "  ");
    if (fleet && !t->runway.empty()) out += "- Credits: " + t->runway + "\n";
  };
  auto section = [&](const OwnerDigest& o) {
    out += fmt::format("\n## {}\n\n", Name(o));
    list(Lines(o), "");
    spend(SpendOf(t, o), o.owner.empty());
  };
  section(d.fleet);
  for (const OwnerDigest& o : d.owners) section(o);
  if (t != nullptr) {
    for (const auto& [team, s] : t->spend.teams) {
      out += fmt::format("\n## team {}\n\n", team);
      spend(&s, false);
    }
  }
  return out;
}

void WriteDigestJson(JsonWriter& w, const Digest& d, const DigestTelemetry* t) {
  w.BeginObject().Key("from").String(FormatIsoUtc(d.from)).Key("to").String(FormatIsoUtc(d.to));
  w.Key("fleet");
  WriteSection(w, d.fleet);
  w.Key("owners").BeginArray();
  for (const OwnerDigest& o : d.owners) WriteSection(w, o);
  w.EndArray();
  if (t != nullptr) {
    w.Key("spend").BeginObject().Key("fleet");
    WriteSpend(w, t->spend.fleet);
    for (const auto* group : {&t->spend.teams, &t->spend.owners}) {
      w.Key(group == &t->spend.teams ? "teams" : "owners").BeginObject();
      for (const auto& [name, s] : *group) {
        w.Key(name);
        WriteSpend(w, s);
      }
      w.EndObject();
    }
    w.Key("credits_runway");
    t->runway.empty() ? w.Null() : w.String(t->runway);
    w.EndObject();
  }
  w.EndObject();
}

Notice DigestNotice(const Digest& d, const OwnerDigest& o, const DigestTelemetry* t) {
  Notice n;
  n.title = fmt::format("gpuledger digest for {}: {}", Name(o), Period(d));
  const SpendSummary* spend = SpendOf(t, o);
  n.text = spend ? fmt::format(
                       "{} of GPU time, {:.0f} % of it idle; autokill freed {:.1f} "
                       "GPU-hours ({}).",
                       FormatUsd(spend->usd), Share(spend->idle_usd, spend->usd) * 100,
                       o.freed_gpu_hours, FormatUsd(o.freed_usd))
                 : fmt::format("{} of GPU jobs; autokill freed {:.1f} GPU-hours ({}).",
                               FormatUsd(o.usd), o.freed_gpu_hours, FormatUsd(o.freed_usd));
  n.facts = {{"GPU spend", FormatUsd(spend ? spend->usd : o.usd)},
             {"The window before", FormatUsd(spend ? spend->previous_usd : o.previous_usd)},
             {"Kills", std::to_string(o.kills)},
             {"Freed by kills",
              fmt::format("{:.1f} GPU-hours ({})", o.freed_gpu_hours, FormatUsd(o.freed_usd))},
             {"Keeps", std::to_string(o.keeps.size())},
             {"Possible false kills", std::to_string(o.possible_false_kills.size())}};
  if (spend) {
    n.sections.push_back({"Spend, from the telemetry", SpendLines(*spend)});
    n.sections.push_back({"Top practices", PracticeLines(*spend)});
    if (o.owner.empty() && !t->runway.empty()) n.sections.push_back({"Credits", {t->runway}});
  }
  n.sections.push_back({"Jobs and autokill, from the ledger", Lines(o)});
  JsonWriter w(false);
  w.BeginObject().Key("text").String(n.title + "\n" + n.text).Key("digest");
  WriteSection(w, o);
  if (spend) {
    w.Key("spend");
    WriteSpend(w, *spend);
  }
  w.EndObject();
  n.webhook_json = w.str();
  return n;
}

Notice TeamDigestNotice(const Digest& d, const std::string& team, const SpendSummary& s) {
  Notice n;
  n.title = fmt::format("gpuledger digest for team {}: {}", team, Period(d));
  n.text = fmt::format("{} of GPU time, {:.0f} % of it idle.", FormatUsd(s.usd),
                       Share(s.idle_usd, s.usd) * 100);
  n.facts = {{"GPU spend", FormatUsd(s.usd)},
             {"The window before", FormatUsd(s.previous_usd)},
             {"Idle", FormatUsd(s.idle_usd)}};
  n.sections = {{"Spend, from the telemetry", SpendLines(s)}, {"Top practices", PracticeLines(s)}};
  JsonWriter w(false);
  w.BeginObject().Key("text").String(n.title + "\n" + n.text).Key("team").String(team);
  w.Key("spend");
  WriteSpend(w, s);
  w.EndObject();
  n.webhook_json = w.str();
  return n;
}

}  // namespace gpuledger
