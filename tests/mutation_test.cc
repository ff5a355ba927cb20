// Seeded mutation of every parser over real captures and the project's fixtures: thousands of
// mutants each (byte flips, stray quotes and commas, invalid UTF-8, huge numbers, NaN, cut,
// doubled and swapped lines). Run in the sanitizer build (scripts/sanitize.sh) too, where any
// memory error or undefined behaviour fails. Asserted for every mutant: no crash or hang; the
// telemetry path's audit has no NaN or negative dollars, categories that sum to the total, every
// row read accounted for (accepted or rejected), and JSON that is valid UTF-8.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "audit/audit_runner.h"
#include "audit/credits.h"
#include "audit_harness.h"
#include "core/line_reader.h"
#include "model/budgets.h"
#include "model/owner_rules.h"
#include "policy/policy.h"
#include "report/audit_json.h"
#include "reviews/github_json.h"
#include "sources/credits_csv.h"
#include "sources/exported_telemetry.h"
#include "sources/focus_billing.h"
#include "sources/inventory_csv.h"
#include "sources/jobs_csv.h"
#include "sources/slurm_sacct.h"
#include "temp_dir.h"

namespace gpuledger::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kMutantsPerParser = 3000;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

fs::path Source(const std::string& rel) { return fs::path(GPULEDGER_SOURCE_DIR) / rel; }

// One mutation of "seed", chosen by "rng".
std::string Mutate(std::string s, std::mt19937& rng) {
  static const std::vector<std::string> kInserts = {",",
                                                    "\"",
                                                    "\n",
                                                    "\r\n",
                                                    "\xff",
                                                    "\xc3",
                                                    "{",
                                                    "}",
                                                    "[",
                                                    "]",
                                                    "-",
                                                    ".",
                                                    "e",
                                                    "NaN",
                                                    "inf",
                                                    "99999999999999999999999",
                                                    "-1",
                                                    "1e308",
                                                    " %",
                                                    "\t",
                                                    "NULL",
                                                    "\\",
                                                    "\xe2\x82",
                                                    "0x1",
                                                    "2025/13/40 25:61:61.999",
                                                    "9223372036854775807"};
  const int ops = 1 + static_cast<int>(rng() % 3);
  for (int k = 0; k < ops; ++k) {
    const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 7) {
      case 0:  // flip a byte
        if (!s.empty()) s[at % s.size()] = static_cast<char>(rng() % 256);
        break;
      case 1:  // insert a troublemaker
        s.insert(at, kInserts[rng() % kInserts.size()]);
        break;
      case 2:  // delete a span
        s.erase(at, rng() % 16);
        break;
      case 3:  // cut the file short
        s.resize(at);
        break;
      case 4: {  // double a line
        const size_t start = s.rfind('\n', at == 0 ? 0 : at - 1);
        const size_t from = start == std::string::npos ? 0 : start + 1;
        const size_t end = s.find('\n', from);
        if (end != std::string::npos) s.insert(from, s.substr(from, end - from + 1));
        break;
      }
      case 5: {  // swap the first and a later line
        const size_t nl = s.find('\n');
        if (nl == std::string::npos || at <= nl) break;
        const size_t from = s.rfind('\n', at - 1) + 1, end = s.find('\n', from);
        if (end == std::string::npos) break;
        const std::string first = s.substr(0, nl), other = s.substr(from, end - from);
        s.replace(from, end - from, first);
        s.replace(0, nl, other);
        break;
      }
      default:  // a digit changed into another
        for (size_t i = at; i < s.size(); ++i) {
          if (s[i] >= '0' && s[i] <= '9') {
            s[i] = static_cast<char>('0' + rng() % 10);
            break;
          }
        }
    }
  }
  return s;
}

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Runs "parse" over kMutantsPerParser mutants of the seeds (and the seeds themselves).
template <typename Parse>
void Mutants(const std::vector<fs::path>& seeds, uint32_t seed, Parse&& parse) {
  std::mt19937 rng(seed);
  std::vector<std::string> texts;
  for (const fs::path& p : seeds) {
    if (fs::exists(p)) texts.push_back(Slurp(p));
  }
  ASSERT_FALSE(texts.empty());
  for (const std::string& t : texts) parse(t);
  for (int i = 0; i < kMutantsPerParser; ++i) {
    parse(Mutate(texts[rng() % texts.size()], rng));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

void CheckAudit(const AuditResult& r) {
  double sum = 0;
  for (const Spend& s : r.totals.categories) {
    ASSERT_TRUE(std::isfinite(s.usd));
    ASSERT_GE(s.usd, -1e-9);
    ASSERT_GE(s.gpu_ms, 0);
    sum += s.usd;
  }
  ASSERT_NEAR(sum, r.totals.Total().usd, 1e-6);
  ASSERT_TRUE(std::isfinite(r.totals.below_threshold.usd));
  const std::string json = AuditToJson(r);
  ASSERT_TRUE(ValidUtf8(json));
  // simdjson refuses NaN and infinities, and invalid UTF-8: the JSON must parse.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(simdjson::padded_string(json)).get(doc), simdjson::SUCCESS) << json;
}

// The audit of "telemetry" with every machine it names billed from it at $2 per GPU-hour;
// "read" what reading the exported files found, as the commands pass it.
Result<AuditResult> AuditPriced(const std::vector<TelemetrySource>& telemetry,
                                const SourceStats& read = {}) {
  Fleet fleet;
  for (const TelemetrySource& src : telemetry) {
    Machine& m = fleet.AddMachine(src.machine);
    m.billed_from_telemetry = true;
    m.price_per_gpu_hour = 2;
    m.billing.push_back(BillingPeriod{});
  }
  AuditOptions o;
  o.price_per_gpu_hour = 2;
  o.threads = 1;
  AuditInputs in;
  in.fleet = &fleet;
  in.telemetry = &telemetry;
  in.telemetry_stats = read;
  return RunAudit(in, o);
}

TEST(Mutation, NvidiaSmiLogs) {
  Mutants({Source("tests/data/real/nvidia-smi/rckola-rectified-point-flow.csv"),
           Source("tests/data/audit/small/telemetry/node-a.csv"),
           Source("../shared/realdata/nvidia-smi/AkshayRoyal+gpu-usage__gpu_usage1.csv")},
          1, [](const std::string& text) {
            auto r = AuditPriced({SourceFromText("m", text)});
            ASSERT_TRUE(r) << r.error().ToString();
            ASSERT_EQ(r->telemetry.rows_read,
                      r->telemetry.rows_accepted + r->telemetry.RowsRejected());
            CheckAudit(*r);
          });
}

TEST(Mutation, ExportedTelemetry) {
  const TimeZone utc = TimeZone::Utc();
  for (const char* format : {"dcgm", "prometheus", "long"}) {
    std::vector<fs::path> seeds;
    const fs::path dir = Source(std::string("tests/data/audit/small-exports/") + format);
    for (const auto& e : fs::directory_iterator(dir)) seeds.push_back(e.path());
    if (std::string(format) == "dcgm") {
      for (const auto& e : fs::directory_iterator(Source("tests/data/real/dcgm-exporter")))
        seeds.push_back(e.path());
    }
    Mutants(seeds, 2, [&](const std::string& text) {
      TelemetryBuckets b;
      SourceStats s;
      const uint32_t f = b.AddFile("x", std::string(format) == "prometheus" ? kJsonLineShift : 0);
      if (std::string(format) == "dcgm") {
        ReadDcgmScrape(text, "x", f, "m", {}, ScrapeTime{1764000000000, "test"}, &b, &s);
      } else if (std::string(format) == "prometheus") {
        ReadPrometheusMatrix(text, "x", f, {}, &b, &s);
      } else {
        (void)ReadLongTable(text, "x", f, {}, utc, LongTableRole::kUtilisation, &b, &s);
      }
      auto r = AuditPriced(b.Sources(), s);
      ASSERT_TRUE(r) << r.error().ToString();
      // Every row read is accounted for, in every format (docs/development.md).
      ASSERT_EQ(r->telemetry.rows_read, r->telemetry.rows_accepted + r->telemetry.RowsRejected())
          << format << ": " << r->telemetry.rejected.entries().begin()->first << "\n"
          << text.substr(0, 300);
      CheckAudit(*r);
    });
  }
}

TEST(Mutation, TablesAndBills) {
  const TimeZone utc = TimeZone::Utc();
  const KnownMachines known = {{"node-a", 2}, {"node-b", 1}, {"node-c", 0}};
  Mutants({Source("tests/data/audit/small/inventory.csv")}, 3, [&](const std::string& text) {
    Fleet fleet;
    SourceStats s;
    if (ReadInventory(text, "i.csv", 0, utc, &fleet, &s)) {
      ASSERT_GE(s.rows_read, s.rows_accepted);
    }
  });
  Mutants({Source("tests/data/audit/small/jobs.csv")}, 4, [&](const std::string& text) {
    std::vector<Job> jobs;
    SourceStats s;
    if (ReadJobs(text, "j.csv", 0, utc, known, &jobs, &s)) {
      ASSERT_EQ(s.rows_read, s.rows_accepted + s.RowsRejected());
    }
  });
  Mutants({Source("tests/data/audit/small/jobs.sacct")}, 5, [&](const std::string& text) {
    std::vector<Job> jobs;
    SourceStats s;
    (void)ReadSacct(text, "j.sacct", 0, utc, known, &jobs, &s);
  });
  Mutants({Source("tests/data/audit/small/focus.csv"),
           Source("tests/data/focus/focus-1.0-aws-gpu.csv")},
          6, [&](const std::string& text) {
            Fleet fleet;
            SourceStats s;
            if (!ReadFocusBilling(text, "f.csv", 0, utc, {}, {"node-a"}, {}, &fleet, &s)) return;
            for (const Machine& m : fleet.machines) {
              for (const BillingPeriod& p : m.billing) {
                ASSERT_TRUE(std::isfinite(p.hourly_usd));
                ASSERT_LT(p.start, p.end);
              }
            }
          });
}

TEST(Mutation, GitHubJsonAndTomlFiles) {
  std::vector<fs::path> pages;
  for (const auto& e : fs::recursive_directory_iterator(Source("tests/data/reviews/fixture"))) {
    if (e.path().extension() == ".json") pages.push_back(e.path());
  }
  Mutants(pages, 7, [](const std::string& text) {
    (void)ParsePullsPage(text, "acme/train", "p.json");
    (void)ParseReviewsPage(text, "r.json");
    (void)ParseCommentsPage(text, "c.json");
    (void)ParseReposPage(text, "o.json");
  });
  const testing::TempDir tmp("mutation");
  const fs::path policy = tmp.path() / "policy.toml";
  std::ofstream(policy) << "threshold = 5\nsetup_grace = \"20m\"\nidle_after = \"30m\"\n"
                           "warn_before = \"10m\"\nbudget_usd = 500\n"
                           "[exempt]\nowners = [\"asha\"]\ngranted_by = \"lead\"\n";
  Mutants({policy}, 8, [](const std::string& text) { (void)ParsePolicy(text, "p.toml"); });
  const fs::path owners = tmp.path() / "owners.toml";
  std::ofstream(owners) << "[[owner]]\nmatch = { \"tag:team\" = \"(.*)\", pod = \"(\\\\w+)-.*\" }\n"
                           "team = \"$1\"\nowner = \"$2\"\n";
  Mutants({owners}, 9, [](const std::string& text) {
    auto rules = OwnerRules::Parse(text, "o.toml");
    if (rules) (void)rules->Apply([](const std::string&) { return std::string("a-b"); });
  });
  const fs::path budgets = tmp.path() / "budgets.toml";
  std::ofstream(budgets) << "period = \"month\"\n[budgets]\nvision = 50000\n\"owner:asha\" = 5e3\n";
  Mutants({budgets}, 10, [](const std::string& text) {
    auto b = Budgets::Parse(text, "b.toml");
    if (!b) return;
    for (const Budget& one : b->budgets) ASSERT_GT(one.usd_per_period, 0);
  });
}

TEST(Mutation, CreditsCsvAndItsBatches) {
  // Each mutant's batches are consumed by the small case's audit: no NaN or negative dollars,
  // batch spend + uncovered = all spend.
  const TimeZone utc = TimeZone::Utc();
  const testing::TempDir tmp("mutation_credits");
  const fs::path credits = tmp.path() / "credits.csv";
  std::ofstream(credits) << "date,amount_usd,label\n2025-03-01T00:20:00Z,2.5,b1\n"
                            "2025-01-01,3,b0\n2025-03-01 00:40:00,1,\"b,2\"\n";
  Fleet fleet;
  AddMachine(&fleet, "m1", 1, 0, 60, "asha");
  AuditOptions o;
  o.segments = true;
  const AuditResult audit = RunOn(fleet, {}, o);
  Mutants({credits}, 11, [&](const std::string& text) {
    std::vector<CreditBatch> batches;
    SourceStats s;
    if (!ReadCredits(text, "c.csv", 0, utc, &batches, &s)) return;
    ASSERT_EQ(s.rows_read, s.rows_accepted + s.RowsRejected());
    const CreditsResult c = ConsumeCredits(batches, audit, {}, {});
    double paid = 0;
    for (const BatchResult& b : c.batches) {
      ASSERT_TRUE(std::isfinite(b.spent_usd) && b.spent_usd >= -1e-9) << text;
      ASSERT_GE(b.left_usd, 0);
      paid += b.spent_usd;
    }
    ASSERT_NEAR(paid + c.uncovered_usd, c.spent_usd, 1e-6) << text;
  });
}

}  // namespace
}  // namespace gpuledger::testing
