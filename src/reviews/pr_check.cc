#include "reviews/pr_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/text_safety.h"
#include "reviews/classify.h"
#include "reviews/review_audit.h"

namespace gpuledger {
namespace {

std::string Usd(double v) { return fmt::format("${:.2f}", v); }

// Markdown table cells: a pipe or a newline would break the row.
std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s)
    out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out;
}

}  // namespace

std::vector<LedgerJob> PricedJobs(const Fleet& fleet, TimeMs as_of) {
  std::vector<LedgerJob> out;
  out.reserve(fleet.jobs.size());
  for (const Job& job : fleet.jobs) {
    bool gpus_unknown = false;
    const PrSpend spend = JobSpend(job, fleet, as_of, &gpus_unknown);
    LedgerJob j;
    j.job_id = job.id, j.owner = job.owner, j.host = job.machine;
    j.start = job.start;
    if (job.end != kTimeMax) j.end = job.end;
    j.status = job.failed ? "failed" : job.end == kTimeMax ? "running" : "completed";
    j.gpu_hours = spend.gpu_hours, j.cost_usd = spend.usd;
    j.repo = job.repo, j.commit = job.commit, j.pr = job.pr;
    out.push_back(std::move(j));
  }
  return out;
}

PrBill BillOf(const std::vector<LedgerJob>& jobs, const PullRequest& pr,
              const std::vector<std::string>& commits) {
  const std::set<std::string> shas(commits.begin(), commits.end());
  const std::string number = std::to_string(pr.number);
  PrBill b;
  for (const LedgerJob& j : jobs) {
    const bool same_repo = j.repo.empty() || j.repo == pr.repo;
    const bool names_it = j.pr == number && same_repo;
    const bool at_its_commit = !j.commit.empty() && shas.count(j.commit) && same_repo;
    if (names_it || at_its_commit) b.jobs.push_back(&j);
  }
  std::sort(b.jobs.begin(), b.jobs.end(),
            [](const LedgerJob* a, const LedgerJob* c) { return a->start < c->start; });
  for (const LedgerJob* j : b.jobs) {
    b.usd += j->cost_usd, b.gpu_hours += j->gpu_hours;
    if (j->status == "failed" || j->status == "killed") ++b.failed;
    if (j->idle_gpu_hours) {
      b.idle_gpu_hours = b.idle_gpu_hours.value_or(0) + *j->idle_gpu_hours;
      b.idle_known_gpu_hours += j->gpu_hours;
    }
    if (!b.first_job) b.first_job = j->start;
    b.last_job = j->start;
  }
  if (b.last_job && *b.last_job > pr.created_at)
    b.days_firing = static_cast<double>(*b.last_job - pr.created_at) / kMsPerDay;
  return b;
}

PrReviewState ReviewStateOf(const PullRequest& pr) {
  PrReviewState s;
  for (const GhReview& r : pr.reviews) {
    if (r.user.IsBot() || r.user.login == pr.author.login) continue;
    ++s.human_reviews;
    if (r.state == "APPROVED") ++s.approvals;
    if (IsSubstantive(r, pr, ReviewOptions{}.substantive_words)) ++s.substantive;
  }
  s.summary = s.human_reviews == 0 ? "no human review"
              : s.substantive > 0  ? fmt::format("{} substantive review{}", s.substantive,
                                                s.substantive == 1 ? "" : "s")
              : s.approvals > 0    ? "approved without a substantive review (a rubber stamp)"
                                   : "commented on only";
  return s;
}

PrVerdict Judge(const PrBill& bill, const PrReviewState& review, const PrGuardrail& g) {
  PrVerdict v;
  if (g.max_usd_without_review && review.human_reviews == 0 &&
      bill.usd > *g.max_usd_without_review) {
    v.reasons.push_back(fmt::format("{} of GPU jobs with no human review (the limit is {})",
                                    Usd(bill.usd), Usd(*g.max_usd_without_review)));
  }
  if (g.require_review_over_usd && review.substantive == 0 &&
      bill.usd > *g.require_review_over_usd) {
    v.reasons.push_back(fmt::format("{} of GPU jobs needs a substantive review (over {})",
                                    Usd(bill.usd), Usd(*g.require_review_over_usd)));
  }
  if (g.max_open_days_firing_jobs && bill.days_firing > *g.max_open_days_firing_jobs) {
    v.reasons.push_back(fmt::format("open {:.0f} days while firing GPU jobs (the limit is {:g})",
                                    bill.days_firing, *g.max_open_days_firing_jobs));
  }
  v.pass = v.reasons.empty();
  return v;
}

std::string PrCommentMarkdown(const PullRequest& pr, const PrBill& b, const PrReviewState& review,
                              const PrVerdict& verdict, TimeMs now) {
  std::string out(kPrCommentMarker);
  out += fmt::format("\n### GPU cost of this {}: {}\n\n| | |\n|---|---|\n",
                     pr.merge_request ? "merge request" : "pull request", Usd(b.usd));
  out += fmt::format("| GPU jobs | {} ({} failed or killed) |\n", b.jobs.size(), b.failed);
  out += fmt::format("| GPU-hours | {:.2f} |\n", b.gpu_hours);
  out += b.idle_gpu_hours && b.idle_known_gpu_hours > 0
             ? fmt::format(
                   "| Idle | {:.0f} % of the GPU-hours of the jobs the guard watched ({:.2f} "
                   "of {:.2f}) |\n",
                   *b.idle_gpu_hours / b.idle_known_gpu_hours * 100, *b.idle_gpu_hours,
                   b.idle_known_gpu_hours)
             : std::string("| Idle | unknown (no job's idle time was recorded) |\n");
  if (b.first_job) {
    out += fmt::format("| Jobs fired | {} to {} |\n", FormatIsoUtc(*b.first_job).substr(0, 10),
                       FormatIsoUtc(*b.last_job).substr(0, 10));
    out += fmt::format("| Open while firing jobs | {:.1f} days |\n", b.days_firing);
  }
  out += fmt::format("| Review | {} |\n", Cell(review.summary));
  out += fmt::format("\n**{}: {}**", kPrStatusContext, verdict.pass ? "passing" : "failing");
  for (const std::string& r : verdict.reasons) out += "\n- " + r;
  if (!b.jobs.empty()) {
    out +=
        "\n\n<details><summary>The jobs</summary>\n\n| job | owner | status | GPU-hours | cost |\n"
        "|---|---|---|---|---|\n";
    for (const LedgerJob* j : b.jobs) {
      out += fmt::format("| {} | {} | {} | {:.2f} | {} |\n", Cell(j->job_id), Cell(j->owner),
                         Cell(j->status), j->gpu_hours, Usd(j->cost_usd));
    }
    out += "\n</details>";
  }
  out += fmt::format(
      "\n\n<sub>gpuledger pr-check on {} at {}; this comment is updated in place.</sub>\n",
      Cell(pr.Ref()), FormatIsoUtc(now));
  return out;
}

std::string PrStatusDescription(const PrBill& b, const PrVerdict& verdict) {
  std::string d =
      fmt::format("{} of GPU jobs ({} jobs, {} failed)", Usd(b.usd), b.jobs.size(), b.failed);
  if (!verdict.pass) d += ": " + verdict.reasons.front();
  if (d.size() > 140) d = std::string(TruncateUtf8(d, 137)) + "...";
  return d;
}

}  // namespace gpuledger
