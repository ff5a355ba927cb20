#include "guard/outbox.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <utility>

#include "core/json_writer.h"
#include "core/text_safety.h"

namespace gpuledger {
namespace {

constexpr int kExact = 15;  // decimals that carry a double through the journal

void JobJson(JsonWriter& w, const LedgerJob& j) {
  w.Key("w").String("job").Key("job_id").String(j.job_id).Key("owner").String(j.owner);
  w.Key("labels").String(j.labels).Key("command").String(j.command);
  w.Key("host").String(j.host).Key("gpus").String(j.gpus).Key("start").Int(j.start);
  if (j.end) w.Key("end").Int(*j.end);
  w.Key("status").String(j.status);
  if (j.exit_code) w.Key("exit_code").Int(*j.exit_code);
  w.Key("killed_by").String(j.killed_by).Key("gpu_hours").Number(j.gpu_hours, kExact);
  w.Key("cost_usd").Number(j.cost_usd, kExact).Key("repo").String(j.repo);
  w.Key("commit").String(j.commit).Key("pr").String(j.pr);
  w.Key("runner_pid").Int(j.runner_pid).Key("runner_start").Int(j.runner_start);
  w.Key("dirty").Bool(j.dirty).Key("output_tail").String(j.output_tail);
  w.Key("kind").String(j.kind).Key("experiment").String(j.experiment).Key("run").String(j.run);
  if (j.idle_gpu_hours) w.Key("idle_gpu_hours").Number(*j.idle_gpu_hours, kExact);
}

void DecisionJson(JsonWriter& w, const LedgerDecision& d) {
  w.Key("w").String("decision").Key("job_id").String(d.job_id).Key("at").Int(d.at);
  w.Key("kind").String(d.kind).Key("rule").String(d.rule);
  w.Key("explanation").String(d.explanation);
  w.Key("gpu_hours_used").Number(d.gpu_hours_used, kExact);
  w.Key("gpu_hours_saved").Number(d.gpu_hours_saved, kExact);
  w.Key("usd_saved").Number(d.usd_saved, kExact).Key("granted_by").String(d.granted_by);
  w.Key("usd_per_hour_saved").Number(d.usd_per_hour_saved, kExact);
}

void KeepAnswerJson(JsonWriter& w, const LedgerKeepAnswer& a) {
  w.Key("w").String("keep_answer").Key("id").String(a.id).Key("state").String(a.state);
  w.Key("answer").String(a.answer).Key("at").Int(a.at);
}

}  // namespace

// JsonWriter writes valid UTF-8 whatever the bytes, so every line parses back.
std::string LedgerWriteJson(const LedgerWrite& write) {
  JsonWriter w(false);
  w.BeginObject();
  if (const auto* job = std::get_if<LedgerJob>(&write))
    JobJson(w, *job);
  else if (const auto* answer = std::get_if<LedgerKeepAnswer>(&write))
    KeepAnswerJson(w, *answer);
  else
    DecisionJson(w, std::get<LedgerDecision>(write));
  w.EndObject();
  return w.str();
}

Result<LedgerWrite> ParseLedgerWriteJson(std::string_view line) {
  using namespace simdjson;
  dom::parser parser;
  dom::object o;
  if (parser.parse(padded_string(line)).get(o) != SUCCESS)
    return MakeError(ErrorCode::kParse, "not a JSON object");
  auto text = [&](const char* key) {
    std::string_view v;
    return o[key].get(v) == SUCCESS ? std::string(v) : std::string();
  };
  auto integer = [&](const char* key) -> std::optional<int64_t> {
    int64_t v = 0;
    return o[key].get(v) == SUCCESS ? std::optional<int64_t>(v) : std::nullopt;
  };
  auto real = [&](const char* key) -> std::optional<double> {
    double v = 0;
    return o[key].get(v) == SUCCESS ? std::optional<double>(v) : std::nullopt;
  };
  const std::string which = text("w");
  if (which == "job") {
    LedgerJob j;
    j.job_id = text("job_id"), j.owner = text("owner"), j.labels = text("labels");
    j.command = text("command"), j.host = text("host"), j.gpus = text("gpus");
    j.start = integer("start").value_or(0), j.end = integer("end");
    j.status = text("status");
    if (auto code = integer("exit_code")) j.exit_code = static_cast<int>(*code);
    j.killed_by = text("killed_by"), j.gpu_hours = real("gpu_hours").value_or(0);
    j.cost_usd = real("cost_usd").value_or(0), j.repo = text("repo"), j.commit = text("commit");
    j.pr = text("pr"), j.runner_pid = integer("runner_pid").value_or(0);
    j.runner_start = integer("runner_start").value_or(0);
    bool dirty = false;
    j.dirty = o["dirty"].get(dirty) == SUCCESS && dirty;
    j.output_tail = text("output_tail"), j.kind = text("kind");
    j.experiment = text("experiment"), j.run = text("run");
    j.idle_gpu_hours = real("idle_gpu_hours");
    if (j.job_id.empty() || j.status.empty())
      return MakeError(ErrorCode::kParse, "a job without job_id or status");
    return LedgerWrite(std::move(j));
  }
  if (which == "decision") {
    LedgerDecision d;
    d.job_id = text("job_id"), d.at = integer("at").value_or(0), d.kind = text("kind");
    d.rule = text("rule"), d.explanation = text("explanation");
    d.gpu_hours_used = real("gpu_hours_used").value_or(0);
    d.gpu_hours_saved = real("gpu_hours_saved").value_or(0);
    d.usd_saved = real("usd_saved").value_or(0), d.granted_by = text("granted_by");
    d.usd_per_hour_saved = real("usd_per_hour_saved").value_or(0);
    if (d.job_id.empty() || d.kind.empty())
      return MakeError(ErrorCode::kParse, "a decision without job_id or kind");
    return LedgerWrite(std::move(d));
  }
  if (which == "keep_answer") {
    LedgerKeepAnswer a{text("id"), text("state"), text("answer"), integer("at").value_or(0)};
    if (a.id.empty() || a.state.empty())
      return MakeError(ErrorCode::kParse, "a keep answer without id or state");
    return LedgerWrite(std::move(a));
  }
  return MakeError(ErrorCode::kParse, "neither a job, a decision nor a keep answer");
}

Outbox::Outbox(std::string ledger, std::FILE* log) : ledger_path_(std::move(ledger)), log_(log) {
  thread_ = std::thread([this] { LedgerLoop(); });
}

Outbox::~Outbox() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (journal_) std::fclose(journal_);
}

Result<size_t> Outbox::UseJournal(const std::string& path, size_t* skipped) {
  if (ledger_path_.empty()) return 0;
  std::deque<LedgerWrite> earlier;
  size_t bad = 0;
  {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto w = ParseLedgerWriteJson(line);
      if (w)
        earlier.push_back(std::move(*w));
      else
        ++bad;  // a line cut by a crash mid-write
    }
  }
  if (skipped) *skipped = bad;
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return MakeError(ErrorCode::kIo, "cannot open the outbox journal", path);
  std::lock_guard lock(mu_);
  journal_ = f;
  for (const LedgerWrite& w : writes_) Journal(w);  // queued before the journal was open
  writes_.insert(writes_.begin(), earlier.begin(), earlier.end());
  wake_.notify_all();
  return earlier.size();
}

void Outbox::Journal(const LedgerWrite& w) {
  if (journal_ == nullptr) return;
  const std::string line = LedgerWriteJson(w) + "\n";
  std::fwrite(line.data(), 1, line.size(), journal_);
  std::fflush(journal_);
}

void Outbox::Enqueue(LedgerWrite w) {
  Journal(w);
  if (writes_.size() >= kMaxQueued) writes_.pop_front(), ++counts_.dropped;
  writes_.push_back(std::move(w));
  wake_.notify_all();
}

void Outbox::PutJob(LedgerJob job) {
  if (ledger_path_.empty()) return;
  std::lock_guard lock(mu_);
  // A newer state of a job still queued replaces it: one write per job is enough.
  for (auto it = writes_.rbegin(); it != writes_.rend(); ++it) {
    if (auto* queued = std::get_if<LedgerJob>(&*it); queued && queued->job_id == job.job_id) {
      Journal(job);
      *queued = std::move(job);
      return;
    }
    if (!std::holds_alternative<LedgerJob>(*it)) break;  // keep decisions after their job
  }
  Enqueue(std::move(job));
}

void Outbox::AddDecision(LedgerDecision decision) {
  if (ledger_path_.empty()) return;
  std::lock_guard lock(mu_);
  Enqueue(std::move(decision));
}

void Outbox::WatchKeepRequests(std::string host) {
  std::lock_guard lock(mu_);
  keep_host_ = std::move(host);
  wake_.notify_all();
}

std::vector<LedgerKeepRequest> Outbox::TakeKeepRequests() {
  std::lock_guard lock(mu_);
  return std::exchange(keep_requests_, {});
}

void Outbox::AnswerKeepRequest(LedgerKeepAnswer answer) {
  if (ledger_path_.empty()) return;
  std::lock_guard lock(mu_);
  Enqueue(std::move(answer));
}

void Outbox::RefreshKeepRequests(const std::string& host) {
  if (!OpenLedger()) return;
  auto pending = ledger_->PendingKeeps(host);
  if (!pending) {
    // Said once per distinct failure: the poll runs every second through an outage.
    const std::string why = pending.error().ToString();
    if (why != last_keep_error_)
      fmt::print(log_, "gpuledger guard: ledger: keep requests: {}\n", EscapeForLog(why));
    last_keep_error_ = why;
    ledger_.reset();
    return;
  }
  last_keep_error_.clear();
  std::lock_guard lock(mu_);
  // A request is handed to the guard once; it stays pending in the ledger until the guard's
  // answer is written, and is not handed over again meanwhile.
  std::set<std::string> still_pending;
  for (LedgerKeepRequest& r : *pending) {
    still_pending.insert(r.id);
    if (keep_handed_.insert(r.id).second) keep_requests_.push_back(std::move(r));
  }
  std::erase_if(keep_handed_, [&](const std::string& id) { return !still_pending.count(id); });
}

Outbox::Counts Outbox::counts() const {
  std::lock_guard lock(mu_);
  Counts c = counts_;
  c.queued = writes_.size() + in_flight_;
  return c;
}

bool Outbox::OpenLedger() {
  if (ledger_) return true;
  auto opened = Ledger::Open(ledger_path_);
  if (!opened) {
    fmt::print(log_, "gpuledger guard: ledger: {} (writes queued, retrying)\n",
               EscapeForLog(opened.error().ToString()));
    return false;
  }
  ledger_ = std::move(*opened);
  return true;
}

OverBudgets Outbox::OverBudget() const {
  std::lock_guard lock(mu_);
  return over_budget_;
}

void Outbox::RefreshBudgets() {
  if (!OpenLedger()) return;
  auto over = ReadOverBudgets(*ledger_, WallNow());
  if (!over) return;  // kept as last read; the next write finds a broken ledger
  std::lock_guard lock(mu_);
  over_budget_ = std::move(*over);
  budgets_read_ = true;
}

bool Outbox::BudgetsRead() const {
  std::lock_guard lock(mu_);
  return budgets_read_;
}

Outbox::Written Outbox::WriteBatch(const std::vector<LedgerWrite>& batch) {
  if (!OpenLedger()) return Written::kCannotOpen;
  if (auto r = ledger_->Write(batch); !r) {
    last_error_ = r.error().ToString();
    fmt::print(log_, "gpuledger guard: ledger: {} (writes queued, retrying)\n",
               EscapeForLog(last_error_));
    ledger_.reset();  // open it afresh next time (the file may have been replaced)
    return Written::kRejected;
  }
  return Written::kOk;
}

void Outbox::Quarantine(const LedgerWrite& w, const std::string& why) {
  ++counts_.quarantined;
  if (counts_.quarantined == 1 ||
      (counts_.quarantined & (counts_.quarantined - 1)) == 0) {  // 1st, 2nd, 4th, 8th…
    fmt::print(log_,
               "gpuledger guard: ledger: set aside a write the ledger rejects ({} so far; "
               "the rest go on): {} — {}\n",
               counts_.quarantined, EscapeForLog(TruncateUtf8(LedgerWriteJson(w), 300)),
               EscapeForLog(why));
  }
}

void Outbox::LedgerLoop() {
  using namespace std::chrono;
  auto retry_at = steady_clock::now();
  auto budgets_at = steady_clock::now();
  auto keeps_at = steady_clock::now();
  std::optional<steady_clock::time_point> drain_until;
  size_t one_by_one = 0;      // writes to try alone, after a batch the ledger rejected
  bool failed_alone = false;  // the write in front was rejected alone once
  std::unique_lock lock(mu_);
  while (true) {
    if (stopping_ && !drain_until) drain_until = steady_clock::now() + milliseconds(drain_ms);
    if (!writes_.empty() && steady_clock::now() >= retry_at) {
      // Taken out of the queue while it is written, so producers only ever replace writes
      // that are not in flight; put back in front, in order, when it fails.
      const size_t n = one_by_one > 0 ? 1 : std::min(writes_.size(), kBatch);
      std::vector<LedgerWrite> batch(std::make_move_iterator(writes_.begin()),
                                     std::make_move_iterator(writes_.begin() + n));
      writes_.erase(writes_.begin(), writes_.begin() + n);
      in_flight_ = n;
      lock.unlock();
      const Written r = WriteBatch(batch);
      lock.lock();
      in_flight_ = 0;
      if (r == Written::kOk) {
        if (one_by_one > 0) --one_by_one;
        failed_alone = false;
        if (writes_.empty() && journal_) {  // all written: nothing to replay after a crash
          std::fflush(journal_);
          if (ftruncate(fileno(journal_), 0) != 0) { /* replayed again: idempotent */
          }
        }
        continue;
      }
      if (r == Written::kRejected && n == 1 && failed_alone) {
        Quarantine(batch[0], last_error_);
        failed_alone = false;
        if (one_by_one > 0) --one_by_one;
        continue;
      }
      writes_.insert(writes_.begin(), std::make_move_iterator(batch.begin()),
                     std::make_move_iterator(batch.end()));
      ++counts_.ledger_failures;
      if (r == Written::kRejected) {
        // Try the batch's writes one at a time: the one the ledger rejects is found and set
        // aside, the others go in. A lost connection shows as a ledger that cannot be opened.
        failed_alone = n == 1;
        one_by_one = std::max(one_by_one, n);
        retry_at = steady_clock::now() + milliseconds(200);
      } else {
        failed_alone = false;
        retry_at = steady_clock::now() + seconds(2);
      }
      continue;
    }
    if (!ledger_path_.empty() && !stopping_ && !keep_host_.empty() &&
        steady_clock::now() >= keeps_at) {
      keeps_at = steady_clock::now() + milliseconds(kKeepPollMs);
      const std::string host = keep_host_;
      lock.unlock();
      RefreshKeepRequests(host);
      lock.lock();
      continue;
    }
    if (!ledger_path_.empty() && !stopping_ && steady_clock::now() >= budgets_at) {
      budgets_at = steady_clock::now() + milliseconds(kBudgetRefreshMs);
      lock.unlock();
      RefreshBudgets();
      lock.lock();
      continue;
    }
    if (stopping_ && (writes_.empty() || steady_clock::now() >= *drain_until)) break;
    auto until = writes_.empty() ? steady_clock::now() + seconds(1)
                                 : std::max(retry_at, steady_clock::now() + milliseconds(50));
    if (!keep_host_.empty()) until = std::min(until, std::max(keeps_at, steady_clock::now()));
    wake_.wait_until(lock, until);
  }
  if (!writes_.empty()) {
    fmt::print(log_, "gpuledger guard: ledger: {} writes could not be made before exit{}\n",
               writes_.size(),
               journal_ ? " (kept in the outbox journal: the next guard writes them)" : "");
  }
}

}  // namespace gpuledger
