// The digest on a hand-made week of ledger rows; every figure below is worked out by hand in the
// comments.
#include "ledger/digest.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1'764'547'200'000;  // 2025-12-01T00:00:00Z, the window's start
constexpr TimeMs kH = kMsPerHour;
constexpr TimeMs kTo = kT0 + 7 * 24 * kH;

LedgerJob Job(std::string id, std::string owner, std::string host, std::string gpus, TimeMs start,
              TimeMs end, std::string status, double gpu_hours, double cost,
              std::string command = "") {
  LedgerJob j;
  j.job_id = std::move(id), j.owner = std::move(owner), j.host = std::move(host);
  j.gpus = std::move(gpus), j.start = start, j.end = end, j.status = std::move(status);
  j.gpu_hours = gpu_hours, j.cost_usd = cost, j.command = std::move(command);
  return j;
}

LedgerDecision Decision(std::string job, TimeMs at, std::string kind, std::string by = "") {
  LedgerDecision d;
  d.job_id = std::move(job), d.at = at, d.kind = std::move(kind), d.granted_by = std::move(by);
  d.explanation = "demo at 3pm";
  return d;
}

const OwnerDigest& Of(const Digest& d, const std::string& owner) {
  for (const OwnerDigest& o : d.owners)
    if (o.owner == owner) return o;
  ADD_FAILURE() << "no section for " << owner;
  return d.fleet;
}

TEST(Digest, AWeekOfTheGuardWorkedOutByHand) {
  LedgerJob a =
      Job("A", "asha", "n1", "0;1", kT0 + 10 * kH, kT0 + 12 * kH, "killed", 4, 10, "python nb.py");
  a.idle_gpu_hours = 3;
  const std::vector<LedgerJob> jobs = {
      a,
      // Uses GPU 1 of n1 next, 3 h after A's kill: A freed 2 GPUs × 3 h = 6 GPU-hours at its
      // own rate, $10 / 4 GPU-hours = $2.50: $15.
      Job("B", "bo", "n1", "1", kT0 + 15 * kH, kT0 + 16 * kH, "completed", 1, 2.5),
      // asha starts A's command again 30 min after the kill: a possible false kill.
      Job("C", "asha", "n2", "0", kT0 + 12 * kH + kH / 2, kT0 + 13 * kH, "completed", 0.5, 1.25,
          "python nb.py"),
      // The week before only.
      Job("D", "asha", "n1", "0", kT0 - 48 * kH, kT0 - 24 * kH, "completed", 24, 60),
      // Half in each week: 12 GPU-hours and $24 each.
      Job("E", "bo", "n2", "1", kT0 - 12 * kH, kT0 + 12 * kH, "completed", 24, 48),
      // Killed and never followed on n3: frees 1 GPU from hour 21 to the week's end, 147 h, at
      // the flag's $2 (the row has no cost): $294.
      Job("F", "carol", "n3", "0", kT0 + 20 * kH, kT0 + 21 * kH, "killed", 1, 0),
      // A dry-run kill: the job went on and ended; it frees nothing.
      Job("G", "bo", "n1", "2", kT0 + 30 * kH, kT0 + 31 * kH, "ended", 1, 3),
  };
  const std::vector<LedgerDecision> decisions = {
      Decision("A", kT0 + 11 * kH + kH / 2, "warn"),
      Decision("A", kT0 + 12 * kH, "kill"),
      Decision("F", kT0 + 21 * kH, "kill"),
      Decision("G", kT0 + 30 * kH + kH / 2, "kill"),
      Decision("B", kT0 + 15 * kH + kH / 2, "keep", "bo"),
      Decision("n1:machine", kT0 + 40 * kH, "release"),
      Decision("D", kT0 - kH, "warn"),  // before the window
  };
  const Digest d = BuildDigest(jobs, decisions, kT0, kTo, 2.0);

  // The fleet: A 4 + B 1 + C 0.5 + E 12 + F 1 + G 1 GPU-hours; $10 + 2.5 + 1.25 + 24 + 0 + 3.
  EXPECT_DOUBLE_EQ(d.fleet.gpu_hours, 19.5);
  EXPECT_DOUBLE_EQ(d.fleet.usd, 40.75);
  EXPECT_DOUBLE_EQ(d.fleet.previous_gpu_hours, 36);  // D 24 + E 12
  EXPECT_DOUBLE_EQ(d.fleet.previous_usd, 84);        // $60 + $24
  EXPECT_EQ(d.fleet.jobs, 6);
  EXPECT_EQ(d.fleet.killed, 2);
  EXPECT_EQ(d.fleet.warnings, 1);
  EXPECT_EQ(d.fleet.kills, 3);
  EXPECT_EQ(d.fleet.releases, 1);
  ASSERT_EQ(d.fleet.keeps.size(), 1u);
  EXPECT_EQ(d.fleet.keeps[0].granted_by, "bo");
  EXPECT_DOUBLE_EQ(d.fleet.freed_gpu_hours, 153);  // 6 + 147
  EXPECT_DOUBLE_EQ(d.fleet.freed_usd, 309);        // $15 + $294
  EXPECT_EQ(d.fleet.possible_false_kills, std::vector<std::string>{"A"});

  // By dollars: bo $2.50 + $24 + $3 = $29.50, asha $10 + $1.25 = $11.25, carol $0.
  ASSERT_EQ(d.owners.size(), 3u);
  EXPECT_EQ(d.owners[0].owner, "bo");
  EXPECT_EQ(d.owners[1].owner, "asha");
  EXPECT_EQ(d.owners[2].owner, "carol");
  const OwnerDigest& asha = Of(d, "asha");
  EXPECT_DOUBLE_EQ(asha.usd, 11.25);
  EXPECT_DOUBLE_EQ(asha.gpu_hours, 4.5);
  EXPECT_DOUBLE_EQ(asha.idle_gpu_hours, 3);
  EXPECT_DOUBLE_EQ(asha.previous_usd, 60);
  EXPECT_EQ(asha.kills, 1);
  ASSERT_EQ(asha.freed.size(), 1u);
  EXPECT_EQ(asha.freed[0].until, kT0 + 15 * kH);
  EXPECT_EQ(asha.freed[0].gpus, 2);
  EXPECT_DOUBLE_EQ(asha.freed_usd, 15);
  EXPECT_EQ(asha.possible_false_kills, std::vector<std::string>{"A"});
  const OwnerDigest& bo = Of(d, "bo");
  EXPECT_DOUBLE_EQ(bo.usd, 29.5);
  EXPECT_EQ(bo.kills, 1);
  EXPECT_TRUE(bo.freed.empty());  // G's kill was a dry run
  EXPECT_EQ(bo.keeps.size(), 1u);
  const OwnerDigest& carol = Of(d, "carol");
  EXPECT_DOUBLE_EQ(carol.freed_gpu_hours, 147);
  EXPECT_DOUBLE_EQ(carol.freed_usd, 294);
  EXPECT_EQ(carol.freed[0].until, kTo);
}

TEST(Digest, ARunningJobCountsUpToItsLastHeartbeat) {
  LedgerJob j = Job("R", "asha", "n1", "0", kT0 - 10 * kH, 0, "running", 20, 40);
  j.end.reset();
  j.heartbeat = kT0 + 10 * kH;  // 20 h so far: 10 before the window, 10 in it
  const Digest d = BuildDigest({j}, {}, kT0, kTo, 0);
  EXPECT_DOUBLE_EQ(d.fleet.gpu_hours, 10);
  EXPECT_DOUBLE_EQ(d.fleet.usd, 20);
  EXPECT_DOUBLE_EQ(d.fleet.previous_usd, 20);
}

}  // namespace
}  // namespace gpuledger
