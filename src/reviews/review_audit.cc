#include "reviews/review_audit.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "audit/billing.h"

namespace gpuledger {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "acme/det", "https://github.com/acme/det.git", "git@github.com:acme/det.git" → "acme/det";
// "https://gitlab.example.com/ml/vision/train" → "ml/vision/train" (GitLab's nested groups kept).
std::string NormalRepo(std::string repo) {
  repo = Lower(repo);
  if (const size_t p = repo.find("://"); p != std::string::npos) {  // a URL: its path
    const size_t path = repo.find('/', p + 3);
    repo = path == std::string::npos ? "" : repo.substr(path + 1);
  } else if (const size_t p = repo.find("github.com/"); p != std::string::npos) {
    repo = repo.substr(p + 11);
  } else if (repo.starts_with("git@")) {  // scp-like: git@HOST:PATH
    const size_t colon = repo.find(':');
    repo = colon == std::string::npos ? repo : repo.substr(colon + 1);
  }
  if (repo.ends_with(".git")) repo.resize(repo.size() - 4);
  while (!repo.empty() && repo.back() == '/') repo.pop_back();
  return repo;
}

// "12", "#12", "acme/det#12", ".../pull/12" → 12; 0 when none.
int64_t PrNumber(const std::string& pr) {
  size_t end = pr.size();
  while (end > 0 && !std::isdigit(static_cast<unsigned char>(pr[end - 1]))) --end;
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(pr[begin - 1]))) --begin;
  if (begin == end || end - begin > 12) return 0;
  return std::stoll(pr.substr(begin, end - begin));
}

// The PRs, normalised once, to join jobs to: by repository + number, else by commit prefix.
class PrIndex {
 public:
  explicit PrIndex(const std::vector<PullRequest>& prs) {
    for (size_t i = 0; i < prs.size(); ++i) {
      const std::string repo = NormalRepo(prs[i].repo);
      by_number_.emplace(std::pair(repo, prs[i].number), i);
      entries_.push_back({repo, Lower(prs[i].head_sha), Lower(prs[i].merge_commit_sha)});
    }
  }

  // The PR a job belongs to, or -1.
  int64_t Find(const Job& job) const {
    const std::string repo = NormalRepo(job.repo);
    if (const int64_t n = PrNumber(job.pr); n > 0) {
      if (auto it = by_number_.find({repo, n}); it != by_number_.end()) {
        return static_cast<int64_t>(it->second);
      }
    }
    const std::string commit = Lower(job.commit);
    if (commit.size() < 7) return -1;
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (!repo.empty() && e.repo != repo) continue;
      if ((!e.head.empty() && e.head.starts_with(commit)) ||
          (!e.merge.empty() && e.merge.starts_with(commit))) {
        return static_cast<int64_t>(i);
      }
    }
    return -1;
  }

 private:
  struct Entry {
    std::string repo, head, merge;
  };
  std::map<std::pair<std::string, int64_t>, size_t> by_number_;  // the first PR of a number wins
  std::vector<Entry> entries_;
};

}  // namespace

PrSpend JobSpend(const Job& job, const Fleet& fleet, TimeMs as_of, bool* gpus_unknown) {
  PrSpend s;
  s.jobs = 1;
  const int64_t m = fleet.Find(job.machine);
  const int gpus = !job.gpus.empty() ? static_cast<int>(job.gpus.size())
                                     : (m >= 0 ? fleet.machines[m].gpu_count : 0);
  const TimeMs end = job.end == kTimeMax ? std::max(as_of, job.start) : job.end;
  *gpus_unknown = gpus == 0;
  s.gpu_hours = static_cast<double>(end - job.start) * gpus / kMsPerHour;
  if (m >= 0 && gpus > 0) {
    const auto spans = BilledSpans(fleet.machines[m], job.start, end);
    s.usd = BilledSpend(spans, job.start, end, gpus).usd;
  }
  return s;
}

int64_t ReviewAudit::Merged() const {
  return std::count_if(prs.begin(), prs.end(), [](const PullRequest& p) { return p.merged(); });
}

int64_t ReviewAudit::MergedReviewsUnknown() const {
  return std::count_if(prs.begin(), prs.end(),
                       [](const PullRequest& p) { return p.merged() && !p.reviews_fetched; });
}

int64_t ReviewAudit::MergedWithNoReview() const {
  int64_t n = 0;
  for (size_t i = 0; i < prs.size(); ++i) {
    n += prs[i].merged() && prs[i].reviews_fetched &&
         facts[i].review_class == ReviewClass::kNoReview;
  }
  return n;
}

int64_t ReviewAudit::ByClass(ReviewClass c) const {
  return std::count_if(facts.begin(), facts.end(),
                       [&](const PrReviewFacts& f) { return f.review_class == c; });
}

int64_t ReviewAudit::SubstantiveReviews() const {
  int64_t n = 0;
  for (const PrReviewFacts& f : facts) n += f.substantive_reviews;
  return n;
}

PrSpend ReviewAudit::SpendByClass(ReviewClass c) const {
  PrSpend s;
  for (size_t i = 0; i < facts.size(); ++i) {
    if (facts[i].review_class == c) s.Add(spend[i]);
  }
  return s;
}

std::vector<RepoReviewSummary> ReviewAudit::ByRepo() const {
  std::vector<RepoReviewSummary> out;
  for (const std::string& repo : repos) {
    RepoReviewSummary r;
    r.repo = repo;
    for (size_t i = 0; i < prs.size(); ++i) {
      if (prs[i].repo != repo) continue;
      const PrReviewFacts& f = facts[i];
      ++r.prs;
      r.merged += prs[i].merged();
      r.substantive_reviews += f.substantive_reviews;
      if (f.review_class) ++r.by_class[static_cast<int>(*f.review_class)];
      r.warnings_ignored += std::count_if(f.warnings.begin(), f.warnings.end(),
                                          [](const BotWarning& w) { return w.ignored; });
      r.spend.Add(spend[i]);
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<ReviewAudit> AuditReviews(ReviewData data, const ReviewOptions& options,
                                 const Fleet* fleet) {
  auto patterns = CompileWarningPatterns(options.warning_patterns);
  if (!patterns) return std::unexpected(patterns.error());
  ReviewAudit a;
  a.options = options;
  a.repos = std::move(data.repos);
  a.prs = std::move(data.prs);
  for (const PullRequest& pr : a.prs) a.facts.push_back(ClassifyPr(pr, options, *patterns));
  a.spend.resize(a.prs.size());
  if (fleet == nullptr) return a;
  a.have_jobs = true;
  a.have_prices = !fleet->machines.empty();
  const PrIndex index(a.prs);
  for (const Job& job : fleet->jobs) {
    const int64_t i = index.Find(job);
    if (i < 0) {
      ++a.jobs_unmatched;
      continue;
    }
    ++a.jobs_matched;
    bool gpus_unknown = false;
    a.spend[i].Add(JobSpend(job, *fleet, options.as_of, &gpus_unknown));
    if (gpus_unknown) {
      a.notes.Add("gpu_count_unknown", "jobs", 0, job.input_order,
                  "job " + job.id +
                      " names no GPUs and its machine is not in the inventory: "
                      "no GPU-hours counted for it");
    }
  }
  return a;
}

}  // namespace gpuledger
