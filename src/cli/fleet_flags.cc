#include "cli/fleet_flags.h"

#include <cstdlib>

#include "audit/budget_use.h"
#include "audit/credits.h"
#include "audit/group_spend.h"
#include "core/line_reader.h"
#include "core/memory_size.h"
#include "model/budgets.h"
#include "sources/credits_csv.h"

namespace gpuledger::cli {

void AddFleetOptions(CLI::App* cmd, FleetFlags* f, bool window_and_owners) {
  cmd->add_option("--telemetry", f->paths.telemetry,
                  "GPU telemetry files, or directories of them (see --telemetry-format)")
      ->expected(1, -1);
  cmd->add_option("--prometheus", f->prometheus_url,
                  "read DCGM_FI_DEV_GPU_UTIL (--metric) from this Prometheus-compatible server "
                  "instead; needs --from and --to; $PROMETHEUS_TOKEN or --prometheus-user with "
                  "$PROMETHEUS_PASSWORD authenticate");
  cmd->add_option("--prometheus-chunk", f->prometheus_chunk,
                  "time range of one request (default 1h; with --rollup, 24 buckets)");
  cmd->add_option("--rollup", f->rollup,
                  "with --prometheus: let the server count, per GPU and per bucket of this "
                  "length (e.g. 1h), the samples below --threshold, so only the counts cross the "
                  "wire; figures can differ slightly from the raw path "
                  "(docs/sources/prometheus-and-dcgm.md)");
  cmd->add_option("--step", f->step,
                  "with --rollup: the resolution of the server's subqueries; use the scrape "
                  "interval")
      ->capture_default_str();
  cmd->add_option("--prometheus-user", f->prometheus_user, "user for HTTP basic authentication");
  cmd->add_option("--max-response-bytes", f->max_response,
                  "with --prometheus: the largest answer read (e.g. 256MiB; it is parsed as it "
                  "arrives, never held whole); a larger one is asked for again in halves of its "
                  "time range")
      ->capture_default_str();
  cmd->add_option("--machine", f->paths.machine,
                  "machine name for telemetry files given directly (default: the file name)");
  cmd->add_option("--inventory", f->paths.inventory,
                  "inventory CSV: machine,gpu_count,gpu_model,hourly_usd,owner,team,project,"
                  "start,end");
  cmd->add_option("--price-per-gpu-hour", f->price_per_gpu_hour,
                  "no inventory: bill every machine seen from its first to its last sample "
                  "(+ max gap) at this price per GPU-hour")
      ->check(NonNegative());
  cmd->add_option("--billing", f->paths.billing,
                  "FinOps FOCUS cost-and-usage CSV as the cost source (with --inventory or "
                  "--gpus-per-machine for GPU counts)");
  cmd->add_option("--cost-column", f->paths.focus.cost_column, "FOCUS cost column")
      ->capture_default_str();
  cmd->add_option("--machine-key", f->paths.focus.machine_key,
                  "FOCUS column naming the machine: ResourceId, ResourceName, or tag:KEY")
      ->capture_default_str();
  cmd->add_option("--gpus-per-machine", f->paths.focus.gpus_per_machine,
                  "GPU count of billed machines the inventory does not list")
      ->check(NonNegative());
  if (window_and_owners) {
    cmd->add_option("--owners", f->paths.owners,
                    "owners.toml: ordered [[owner]] rules naming owner, team and project from "
                    "machine, namespace, pod, container, label:NAME or tag:KEY (docs/audit.md)");
  }
  cmd->add_option(
      "--jobs", f->paths.jobs,
      "jobs CSV (job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr), or a "
      "ledger's jobs: ledger:PATH or postgresql://USER@HOST:PORT/DB");
  cmd->add_option("--telemetry-format", f->paths.telemetry_format,
                  "nvidia-smi (one CSV log per machine), prometheus (query_range JSON), dcgm "
                  "(exporter text with timestamps) or long (time, series, value CSV)")
      ->check(CLI::IsMember({"nvidia-smi", "prometheus", "dcgm", "long"}))
      ->capture_default_str();
  SeriesMapping& m = f->paths.mapping;
  cmd->add_option(
      "--machine-label", m.machine_labels,
      "labels naming the machine, first found wins (default Hostname hostname instance)");
  cmd->add_option("--gpu-label", m.gpu_label, "label naming the GPU index")->capture_default_str();
  cmd->add_option("--metric", m.metric, "utilisation metric of DCGM scrapes")
      ->capture_default_str();
  cmd->add_option("--value-scale", m.value_scale,
                  "auto (ratio for DCGM_FI_PROF_* and *_RATIO), percent or ratio (0-1)")
      ->check(CLI::IsMember({"auto", "percent", "ratio"}))
      ->capture_default_str();
  cmd->add_option("--time-col", m.time_col, "long tables: the time column")->capture_default_str();
  cmd->add_option("--series-col", m.series_col, "long tables: the series column")
      ->capture_default_str();
  cmd->add_option("--value-col", m.value_col, "long tables: the value column")
      ->capture_default_str();
  cmd->add_option("--machine-col", m.machine_col, "long tables: a machine column");
  cmd->add_option("--memory-col", m.memory_col,
                  "long tables: a column of GPU memory in use (in --memory-unit), for the "
                  "held-idle lens");
  cmd->add_option("--memory-telemetry", f->paths.memory_telemetry,
                  "long tables of GPU memory in use (same --time-col/--series-col), joined to the "
                  "utilisation sample of the same series at the same instant")
      ->expected(1, -1);
  cmd->add_option("--memory-value-col", f->paths.memory_value_col,
                  "the value column of --memory-telemetry tables")
      ->capture_default_str();
  cmd->add_option("--memory-unit", m.memory_unit, "unit of memory columns: bytes, KiB, MiB, GiB")
      ->check(CLI::IsMember({"bytes", "KiB", "MiB", "GiB"}))
      ->capture_default_str();
  cmd->add_option("--metric-memory", m.memory_metric,
                  "GPU memory metric of DCGM scrapes and Prometheus (MiB)")
      ->capture_default_str();
  cmd->add_option("--scrape-time", f->scrape_time,
                  "DCGM scrapes saved without timestamps (curl node:9400/metrics) stand at this "
                  "time; default: each file's modification time");
  cmd->add_option("--gpu-col", m.gpu_col, "long tables: a GPU index column");
  cmd->add_option("--jobs-format", f->paths.jobs_format,
                  "csv (the jobs CSV) or sacct (sacct -a -X -P -o JobID,User,Account,Partition,"
                  "State,ExitCode,Start,End,NodeList,AllocTRES)")
      ->check(CLI::IsMember({"csv", "sacct"}))
      ->capture_default_str();
  if (window_and_owners) {
    cmd->add_option("--from", f->from, "window start (inclusive), e.g. 2025-01-01");
    cmd->add_option("--to", f->to, "window end (exclusive)");
  }
  cmd->add_option("--tz", f->tz, "zone of timestamps that carry none: UTC, +02:00 or an IANA name")
      ->capture_default_str();
  cmd->add_option("--threads", f->threads, "worker threads (default: one per core)")
      ->check(NonNegative());
}

void AddAuditKnobs(CLI::App* cmd, AuditFlags* flags) {
  cmd->add_option("--threshold", flags->threshold_pct, "utilisation below this percent is idle")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--max-gap", flags->max_gap, "how long one sample stands at most, e.g. 5m")
      ->capture_default_str();
  cmd->add_option("--held-memory", flags->held_memory,
                  "idle time with at least this much GPU memory in use is held idle (the "
                  "held_idle_usd lens), e.g. 1GiB, 500MiB")
      ->capture_default_str();
  cmd->add_option("--credits", flags->credits,
                  "who burned each top-up: a credits CSV (date,amount_usd,label), or 'focus' for "
                  "the --billing bill's Credit and Purchase rows");
  cmd->add_option("--burn-window", flags->burn_window,
                  "the credits' runway: daily burn as the mean over this much of the end")
      ->capture_default_str();
  cmd->add_option("--budgets", flags->budgets,
                  "budgets.toml: USD per month per team or owner; use against them");
}

Result<AuditOptions> MakeAuditOptions(const AuditFlags& flags, int threads) {
  auto gap = ParseDuration(flags.max_gap);
  if (!gap || *gap <= 0) {
    return MakeError(ErrorCode::kUsage, "must be a positive duration like 5m", "--max-gap");
  }
  auto held = ParseMemorySize(flags.held_memory);
  if (!held) {
    return MakeError(ErrorCode::kUsage, "must be a size like 1GiB, 512MiB or 1073741824 (bytes)",
                     "--held-memory");
  }
  AuditOptions options;
  options.held_memory_mib = *held;
  options.threshold_pct = flags.threshold_pct;
  options.max_gap_ms = *gap;
  options.threads = threads;
  options.segments = !flags.credits.empty() || !flags.budgets.empty();
  if (auto w = ParseDuration(flags.burn_window); !w || *w < kMsPerDay) {
    return MakeError(ErrorCode::kUsage, "must be a duration of a day or more, like 14d",
                     "--burn-window");
  }
  return options;
}

Result<void> AttachCreditsAndBudgets(const AuditFlags& flags, const Fleet& fleet,
                                     const TimeZone& zone, const std::vector<CreditBatch>* fallback,
                                     AuditResult* audit) {
  std::vector<CreditBatch> batches;
  bool want = true;
  if (flags.credits == "focus") {
    if (fleet.bill_credits.empty()) {
      return MakeError(ErrorCode::kUsage,
                       "'focus' takes the batches from the --billing bill's Credit and Purchase "
                       "rows, and it has none",
                       "--credits");
    }
    batches = fleet.bill_credits;
  } else if (!flags.credits.empty()) {
    auto text = ReadWholeFile(flags.credits);
    if (!text) return std::unexpected(text.error());
    SourceStats stats;
    if (auto r = ReadCredits(*text, flags.credits, 0, zone, &batches, &stats); !r) return r;
    if (stats.RowsRejected() > 0) {
      const auto& [reason, first] = *stats.rejected.entries().begin();
      return MakeError(ErrorCode::kParse,
                       "a credits row is " + reason + ": " + first.detail +
                           " (every top-up must be read: none is skipped)",
                       first.Where());
    }
  } else if (fallback != nullptr && !fallback->empty()) {
    batches = *fallback;
  } else {
    want = false;
  }
  if (want) {
    CreditsOptions options;
    options.burn_window_ms = *ParseDuration(flags.burn_window);
    audit->credits = std::make_shared<CreditsResult>(
        ConsumeCredits(std::move(batches), *audit, fleet.timed_charges, options));
  }
  if (!flags.budgets.empty()) {
    auto text = ReadWholeFile(flags.budgets);
    if (!text) return std::unexpected(text.error());
    auto budgets = Budgets::Parse(*text, flags.budgets);
    if (!budgets) return std::unexpected(budgets.error());
    audit->budgets = std::make_shared<std::vector<BudgetUse>>(UseAgainstBudgets(*budgets, *audit));
  }
  return {};
}

void AddGroupByOption(CLI::App* cmd, std::string* group_by) {
  cmd->add_option("--group-by", *group_by,
                  "also the spend per experiment, run, pr or repo of the jobs (the jobs CSV's "
                  "experiment/run/pr/repo columns, the ledger's, --owners rules for pods; "
                  "docs/experiments.md)")
      ->check(CLI::IsMember({"experiment", "run", "pr", "repo"}));
}

bool WantGroups(const std::string& group_by, AuditOptions* options) {
  if (group_by.empty()) return false;
  options->segments = options->breakdown = true;  // each job's spend by category
  return true;
}

void AttachGroups(const std::string& group_by, AuditResult* audit) {
  auto by = ParseGroupBy(group_by);  // checked by the option's IsMember
  if (!by) return;
  audit->groups = std::make_shared<GroupedSpend>(GroupedSpend{*by, SpendByGroup(*audit, *by)});
}

void UseInputWindow(const FleetInput& in, AuditOptions* options) {
  options->window_from = in.from;
  options->window_to = in.to;
  options->price_per_gpu_hour = in.price_per_gpu_hour;
}

namespace {

Result<std::optional<RollupSpec>> RollupOf(const FleetFlags& f, double threshold_pct) {
  if (f.rollup.empty()) return std::optional<RollupSpec>();
  if (f.prometheus_url.empty()) {
    return MakeError(ErrorCode::kUsage, "works with --prometheus only", "--rollup");
  }
  if (f.price_per_gpu_hour >= 0) {
    return MakeError(ErrorCode::kUsage,
                     "needs --inventory or --billing: roll-ups carry no first and last sample "
                     "to bill from",
                     "--rollup");
  }
  auto bucket = ParseDuration(f.rollup);
  if (!bucket || *bucket < kMsPerSecond) {
    return MakeError(ErrorCode::kUsage, "must be a duration like 1h", "--rollup");
  }
  auto step = ParseDuration(f.step);
  if (!step || *step < kMsPerSecond) {
    return MakeError(ErrorCode::kUsage, "must be a duration like 30s", "--step");
  }
  RollupSpec spec;
  spec.rollup_ms = *bucket, spec.step_ms = *step, spec.threshold_pct = threshold_pct;
  return std::optional<RollupSpec>(spec);
}

}  // namespace

Result<std::unique_ptr<FleetInput>> LoadFleetFlags(const FleetFlags& f, double threshold_pct,
                                                   DurationMs max_gap_ms) {
  const bool priced = !f.paths.inventory.empty() || !f.paths.billing.empty();
  if (priced == (f.price_per_gpu_hour >= 0)) {
    return MakeError(ErrorCode::kUsage,
                     "give --inventory FILE, --billing FOCUS.csv (with --inventory or "
                     "--gpus-per-machine), or --price-per-gpu-hour X");
  }
  auto in = std::make_unique<FleetInput>();
  auto zone = TimeZone::Parse(f.tz);
  if (!zone) return std::unexpected(zone.error());
  in->zone = *zone;
  auto from = ParseTimeFlag("--from", f.from, in->zone, kTimeMin);
  if (!from) return std::unexpected(from.error());
  auto to = ParseTimeFlag("--to", f.to, in->zone, kTimeMax);
  if (!to) return std::unexpected(to.error());
  if (*from >= *to) return MakeError(ErrorCode::kUsage, "--from must be before --to");
  in->from = *from;
  in->to = *to;
  if (f.price_per_gpu_hour >= 0) in->price_per_gpu_hour = f.price_per_gpu_hour;
  FleetPaths paths = f.paths;
  paths.max_gap_ms = max_gap_ms;
  paths.threads = f.threads;
  if (!f.scrape_time.empty()) {
    auto t = ParseTimeFlag("--scrape-time", f.scrape_time, in->zone, kTimeMin);
    if (!t) return std::unexpected(t.error());
    paths.scrape_time = *t;
  }
  if (!f.paths.telemetry.empty() && !f.prometheus_url.empty()) {
    return MakeError(ErrorCode::kUsage, "give either --telemetry PATH… or --prometheus URL");
  }
  // Without telemetry an inventory or a bill still says what was paid and who owns it: all of
  // it is unmonitored. A flat price has nothing to bill from.
  if (f.paths.telemetry.empty() && f.prometheus_url.empty() && f.price_per_gpu_hour >= 0) {
    return MakeError(ErrorCode::kUsage,
                     "--price-per-gpu-hour bills machines from their telemetry: give --telemetry "
                     "PATH… or --prometheus URL");
  }
  auto rollup = RollupOf(f, threshold_pct);
  if (!rollup) return std::unexpected(rollup.error());
  paths.rollup = *rollup;
  if (!f.prometheus_url.empty()) {
    const std::string chunk_text = !f.prometheus_chunk.empty() ? f.prometheus_chunk
                                   : *rollup ? FormatDuration(24 * (*rollup)->rollup_ms)
                                             : "1h";
    auto chunk = ParseDuration(chunk_text);
    if (!chunk || *chunk < kMsPerSecond) {
      return MakeError(ErrorCode::kUsage, "must be a duration of a second or more",
                       "--prometheus-chunk");
    }
    if (in->from == kTimeMin || in->to == kTimeMax) {
      return MakeError(ErrorCode::kUsage, "--prometheus needs --from and --to");
    }
    PrometheusQuery q;
    q.url = f.prometheus_url;
    q.from = in->from, q.to = in->to, q.chunk_ms = *chunk;
    if (const char* t = std::getenv("PROMETHEUS_TOKEN")) q.auth.bearer_token = t;
    q.auth.user = f.prometheus_user;
    auto cap = ParseMemorySize(f.max_response);
    if (!cap || *cap < 1.0 / 1024) {
      return MakeError(ErrorCode::kUsage, "must be a size like 256MiB", "--max-response-bytes");
    }
    q.max_response_bytes = static_cast<uint64_t>(*cap * 1024 * 1024);
    if (const char* p = std::getenv("PROMETHEUS_PASSWORD")) q.auth.password = p;
    paths.prometheus = q;
  }
  auto loaded = LoadFleet(paths, in->price_per_gpu_hour, &in->zone);
  if (!loaded) return std::unexpected(loaded.error());
  in->loaded = std::move(*loaded);
  return in;
}

}  // namespace gpuledger::cli
