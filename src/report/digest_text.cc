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
  out.push_back(
      fmt::format("GPU spend: {} ({:.1f} GPU-hours, {:.0f} % idle); the window before: "
                  "{} ({})",
                  FormatUsd(o.usd), o.gpu_hours, idle, FormatUsd(o.previous_usd),
                  Change(o.usd, o.previous_usd)));
  out.push_back(fmt::format("Jobs: {} ({} failed, {} killed)", o.jobs, o.failed, o.killed));
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

std::string DigestMarkdown(const Digest& d) {
  std::string out = fmt::format("# gpuledger digest, {}\n", Period(d));
  auto section = [&](const OwnerDigest& o) {
    out += fmt::format("\n## {}\n\n", Name(o));
    for (const std::string& line : Lines(o)) out += "- " + line + "\n";
  };
  section(d.fleet);
  for (const OwnerDigest& o : d.owners) section(o);
  return out;
}

void WriteDigestJson(JsonWriter& w, const Digest& d) {
  w.BeginObject().Key("from").String(FormatIsoUtc(d.from)).Key("to").String(FormatIsoUtc(d.to));
  w.Key("fleet");
  WriteSection(w, d.fleet);
  w.Key("owners").BeginArray();
  for (const OwnerDigest& o : d.owners) WriteSection(w, o);
  w.EndArray().EndObject();
}

Notice DigestNotice(const Digest& d, const OwnerDigest& o) {
  Notice n;
  n.title = fmt::format("gpuledger digest for {}: {}", Name(o), Period(d));
  const std::vector<std::string> lines = Lines(o);
  for (const std::string& line : lines) n.text += (n.text.empty() ? "" : "\n") + line;
  n.facts = {{"GPU spend", FormatUsd(o.usd)},
             {"The window before", FormatUsd(o.previous_usd)},
             {"Kills", std::to_string(o.kills)},
             {"Freed by kills",
              fmt::format("{:.1f} GPU-hours ({})", o.freed_gpu_hours, FormatUsd(o.freed_usd))},
             {"Keeps", std::to_string(o.keeps.size())},
             {"Possible false kills", std::to_string(o.possible_false_kills.size())}};
  JsonWriter w(false);
  w.BeginObject().Key("text").String(n.title + "\n" + n.text).Key("digest");
  WriteSection(w, o);
  w.EndObject();
  n.webhook_json = w.str();
  return n;
}

}  // namespace gpuledger
