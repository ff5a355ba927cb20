// Kubernetes attribution end to end (DESIGN.md, "One ledger for the fleet, attribution from
// labels"): a synthetic cluster export — a Prometheus query_range answer as dcgm-exporter's
// series come out of it — read through LoadFleet and audited. Pods arrive and leave, one GPU is
// time-sliced between two JupyterHub notebooks, a pod's telemetry has a gap, and an --owners
// rule maps jupyter-<user> pods to their users.
//
// node-a has 2 GPUs at 120 USD/hour: one GPU-minute costs exactly 1 USD. Samples every minute.
//   GPU 0: pod ml/train-1 at 80 % 00:00–00:09, no sample 00:10–00:15, again 00:16–00:19;
//          then no pod (pod="") at 0 % 00:20–00:59.
//   GPU 1: jupyterhub/jupyter-asha at 0 % 00:00–00:59; jupyterhub/jupyter-bo joins it (the
//          same values, one series per pod) 00:30–00:59.
// Worked out by hand:
//   train-1, run 1: [00:00, 00:14) — its 00:09 sample stands max_gap (5 min), the next sample
//   being at 00:16; run 2 ("#2"): [00:16, 00:20). 18 min job_active = $18; 00:14–00:16
//   unmonitored = $2; 00:20–01:00 idle_outside_jobs = $40 (the last sample stands the median
//   interval, one minute).
//   GPU 1: 60 min job_idle = $60: asha alone 30 min, then 30 min split equally: asha $45, bo $15.
//   Owners: asha $45, bo $15, the rest (no rule, no machine owner) $60 unattributed.
//   Teams: research (the rule) $60, ml (train-1's namespace) $18, infra (the machine's) $42.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "audit/audit_runner.h"
#include "audit/group_spend.h"
#include "report/audit_text.h"
#include "sources/load_fleet.h"
#include "temp_dir.h"

namespace gpuledger {
namespace {

constexpr int64_t kT0 = 1735689600;  // 2025-01-01T00:00:00Z, seconds

std::string Series(const std::string& labels, int from_min, int to_min, const std::string& value) {
  std::string s = R"({"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","Hostname":"node-a",)" + labels +
                  R"(},"values":[)";
  for (int m = from_min; m <= to_min; ++m) {
    s += (m == from_min ? "" : ",") + std::string("[") + std::to_string(kT0 + 60 * m) + ",\"" +
         value + "\"]";
  }
  return s + "]}";
}

std::string Pod(const std::string& gpu, const std::string& ns, const std::string& pod) {
  return R"("gpu":")" + gpu + R"(","namespace":")" + ns + R"(","pod":")" + pod +
         R"(","container":"main")";
}

class Kubernetes : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs them in parallel.
    tmp_ = std::make_unique<testing::TempDir>("kubernetes");
    dir_ = tmp_->path();
    const std::string result =
        Series(Pod("0", "ml", "train-1"), 0, 9, "80") + "," +
        Series(Pod("0", "ml", "train-1"), 16, 19, "80") + "," +
        Series(R"("gpu":"0","namespace":"","pod":"","container":"")", 20, 59, "0") + "," +
        Series(Pod("1", "jupyterhub", "jupyter-asha"), 0, 59, "0") + "," +
        Series(Pod("1", "jupyterhub", "jupyter-bo"), 30, 59, "0");
    Write("cluster.json",
          R"({"status":"success","data":{"resultType":"matrix","result":[)" + result + "]}}");
    Write("inventory.csv",
          "machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end\n"
          "node-a,2,H100,120,,infra,,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z\n");
    Write("owners.toml",
          "[[owner]]\nmatch = { namespace = \"jupyterhub\", pod = \"jupyter-(.*)\" }\n"
          "owner = \"$1\"\nteam = \"research\"\n");
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  AuditResult Audit(const std::string& jobs = "") {
    FleetPaths paths;
    paths.telemetry = {Path("cluster.json")};
    paths.telemetry_format = "prometheus";
    paths.inventory = Path("inventory.csv");
    paths.owners = Path("owners.toml");
    paths.jobs = jobs;
    loaded_ = std::make_unique<LoadedFleet>();
    auto loaded = LoadFleet(paths, std::nullopt, &utc_);
    EXPECT_TRUE(loaded) << loaded.error().ToString();
    *loaded_ = std::move(*loaded);
    AuditOptions options;
    options.breakdown = true;
    auto r = RunAudit(InputsOf(*loaded_), options);
    EXPECT_TRUE(r) << r.error().ToString();
    return *r;
  }

  static double Usd(const SpendByKey& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? -1 : it->second.usd;
  }
  static uint64_t Count(const Problems& p, const std::string& reason) {
    auto it = p.entries().find(reason);
    return it == p.entries().end() ? 0 : it->second.count;
  }
  static double Category(const AuditResult& r, gpuledger::Category c) {
    return r.totals.categories[static_cast<int>(c)].usd;
  }

  std::unique_ptr<testing::TempDir> tmp_;

  std::filesystem::path dir_;
  TimeZone utc_ = TimeZone::Utc();
  std::unique_ptr<LoadedFleet> loaded_;
};

TEST_F(Kubernetes, PodsBecomeJobsSplitTimeSlicedGpusAndOwnersFollowTheirRules) {
  const AuditResult r = Audit();
  EXPECT_NEAR(r.totals.Total().usd, 120, 1e-9);
  EXPECT_NEAR(Category(r, Category::kJobActive), 18, 1e-9);
  EXPECT_NEAR(Category(r, Category::kUnmonitored), 2, 1e-9);
  EXPECT_NEAR(Category(r, Category::kIdleOutsideJobs), 40, 1e-9);
  EXPECT_NEAR(Category(r, Category::kJobIdle), 60, 1e-9);
  EXPECT_NEAR(Usd(r.owners, "asha"), 45, 1e-9);
  EXPECT_NEAR(Usd(r.owners, "bo"), 15, 1e-9);
  EXPECT_NEAR(Usd(r.owners, kUnattributed), 60, 1e-9);
  EXPECT_NEAR(Usd(r.teams, "research"), 60, 1e-9);
  EXPECT_NEAR(Usd(r.teams, "ml"), 18, 1e-9);
  EXPECT_NEAR(Usd(r.teams, "infra"), 42, 1e-9);
  std::map<std::string, double> jobs;
  for (const MachineResult& m : r.machines) {
    for (const JobResult& j : m.jobs) jobs[j.job->id] = j.spend.usd;
  }
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_NEAR(jobs["jupyterhub/jupyter-asha"], 45, 1e-9);
  EXPECT_NEAR(jobs["jupyterhub/jupyter-bo"], 15, 1e-9);
  EXPECT_NEAR(jobs["ml/train-1"], 14, 1e-9);
  EXPECT_NEAR(jobs["ml/train-1#2"], 4, 1e-9);
  // The time-sliced samples are the pods' sharing, not duplicate rows.
  EXPECT_EQ(Count(r.telemetry.notes, "shared_gpu"), 30u);
  EXPECT_EQ(Count(r.telemetry.notes, "duplicate_time"), 0u);
  EXPECT_EQ(Count(r.jobs.notes, "jobs_from_labels"), 4u);
  // The CSV names the pods' owners where they hold the time (issue 23 item 13).
  std::map<std::string, double> csv_owners;
  double csv_total = 0;
  std::istringstream csv(AuditToCsv(r));
  std::string row;
  std::getline(csv, row);  // header
  while (std::getline(csv, row)) {
    std::vector<std::string> f;
    std::istringstream fields(row);
    for (std::string v; std::getline(fields, v, ',');) f.push_back(v);
    if (row.back() == ',') f.emplace_back();  // an empty last field
    ASSERT_EQ(f.size(), 8u) << row;
    csv_owners[f[1]] += std::stod(f[6]);
    csv_total += std::stod(f[6]);
  }
  EXPECT_NEAR(csv_total, 120, 1e-3);
  EXPECT_NEAR(csv_owners["asha"], 45, 1e-3);
  EXPECT_NEAR(csv_owners["bo"], 15, 1e-3);
  EXPECT_NEAR(csv_owners[""], 60, 1e-3);
}

// --owners rules name a pod's experiment and run (docs/experiments.md); --group-by adds them up.
// By hand: ml/train-1 holds GPU 0 for 10 + 4 minutes at 80 % ($2 a GPU-minute): $28 of which
// the job's own spend is $14 + $4 (SetUp's figures) = $18; the rest of the $120 is "(none)".
TEST_F(Kubernetes, OwnersRulesNameAPodsExperimentAndRun) {
  Write("owners.toml",
        "[[owner]]\nmatch = { namespace = \"ml\", pod = \"(train)-(\\\\d+)\" }\n"
        "experiment = \"$1-exp\"\nrun = \"$1-$2\"\n");
  FleetPaths paths;
  paths.telemetry = {Path("cluster.json")};
  paths.telemetry_format = "prometheus";
  paths.inventory = Path("inventory.csv");
  paths.owners = Path("owners.toml");
  auto loaded = LoadFleet(paths, std::nullopt, &utc_);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  AuditOptions options;
  options.breakdown = options.segments = true;
  auto r = RunAudit(InputsOf(*loaded), options);
  ASSERT_TRUE(r) << r.error().ToString();
  const std::vector<GroupSpend> experiments = SpendByGroup(*r, GroupBy::kExperiment);
  ASSERT_EQ(experiments.size(), 2u);
  EXPECT_EQ(experiments[0].key, "(none)");
  EXPECT_NEAR(experiments[0].usd, 102, 1e-9);
  EXPECT_EQ(experiments[1].key, "train-exp");
  EXPECT_NEAR(experiments[1].usd, 18, 1e-9);
  EXPECT_EQ(experiments[1].jobs, 2);  // the pod's two runs (a gap splits it)
  EXPECT_NEAR(experiments[1].idle_usd, 0, 1e-9);
  const std::vector<GroupSpend> runs = SpendByGroup(*r, GroupBy::kRun);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].key, "train-1");
  double total = 0;
  for (const GroupSpend& g : runs) total += g.usd;
  EXPECT_NEAR(total, 120, 1e-9);  // the groups add up to the audit
}

TEST_F(Kubernetes, WithAJobsFilePodsAreMatchedByName) {
  Write("jobs.csv",
        "job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr\n"
        "jupyter-asha,node-a,1,,2025-01-01T00:00:00Z,,running,,,,\n"
        "ml/train-1,node-a,0,carol,2025-01-01T00:00:00Z,2025-01-01T00:20:00Z,failed,1,,,\n");
  const AuditResult r = Audit(Path("jobs.csv"));
  EXPECT_NEAR(Category(r, Category::kFailedJob), 20, 1e-9);  // the file says it failed
  EXPECT_NEAR(Usd(r.owners, "asha"), 60, 1e-9);  // no pod job for bo: asha's job has GPU 1
  EXPECT_NEAR(Usd(r.owners, "carol"), 20, 1e-9);
  EXPECT_NEAR(Usd(r.teams, "research"), 60, 1e-9);
  EXPECT_NEAR(Usd(r.teams, "ml"), 20, 1e-9);
  EXPECT_EQ(Count(r.jobs.notes, "pods_without_job"), 1u);  // jupyter-bo
}

TEST_F(Kubernetes, AGpuWithoutLabelsStaysTheMachines) {
  Write("owners.toml", "");
  const AuditResult r = Audit();
  EXPECT_NEAR(Usd(r.teams, "jupyterhub"), 60, 1e-9);  // no rule: the namespace is the team
  EXPECT_NEAR(Usd(r.owners, kUnattributed), 120, 1e-9);
}

TEST_F(Kubernetes, HpcJobLabelsGiveASlurmJobItsGpus) {
  Write("cluster.json", R"({"status":"success","data":{"resultType":"matrix","result":[)" +
                            Series(R"("gpu":"0","hpc_job":"4242")", 0, 59, "90") + "," +
                            Series(R"("gpu":"1","hpc_job":"")", 0, 59, "0") + "]}}");
  Write("jobs.csv",
        "job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr\n"
        "4242,node-a,,dana,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,completed,0,,,\n");
  const AuditResult r = Audit(Path("jobs.csv"));
  EXPECT_NEAR(Category(r, Category::kJobActive), 60, 1e-9);
  EXPECT_NEAR(Category(r, Category::kIdleOutsideJobs), 60, 1e-9);  // GPU 1 was not the job's
  EXPECT_NEAR(Usd(r.owners, "dana"), 60, 1e-9);
}

// Idle node time belongs to the node (issue 23 item 1). node-a, 2 GPUs at 120 USD/hour ($1 a
// GPU-minute), no team in the inventory. GPU 0: pod team-a/train at 80 % 00:00–00:29, then no
// pod at 0 % 00:30–00:59; GPU 1: no pod, 0 %, all hour. By hand: the pod's job $30 (team "a");
// the node's own time, GPU 0's last 30 minutes and GPU 1's hour, $90: "(unallocated)", never
// team a's, though team-a's series is the machine's first.
TEST_F(Kubernetes, IdleNodeTimeIsTheNodesNotAPodsTeam) {
  Write("cluster.json",
        R"({"status":"success","data":{"resultType":"matrix","result":[)" +
            Series(Pod("0", "team-a", "train"), 0, 29, "80") + "," +
            Series(R"("gpu":"0","namespace":"","pod":"","container":"")", 30, 59, "0") + "," +
            Series(R"("gpu":"1","namespace":"","pod":"","container":"")", 0, 59, "0") + "]}}");
  Write("inventory.csv",
        "machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end\n"
        "node-a,2,H100,120,,,,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z\n");
  Write("owners.toml", "[[owner]]\nmatch = { namespace = \"team-(.*)\" }\nteam = \"$1\"\n");
  AuditResult r = Audit();
  EXPECT_NEAR(Usd(r.teams, "a"), 30, 1e-9);
  EXPECT_NEAR(Usd(r.teams, kUnallocatedTeam), 90, 1e-9);
  EXPECT_NEAR(Usd(r.owners, kUnattributed), 120, 1e-9);
  // Item 11: a pod with a team is owned; only the node's own time has no owner, team or project.
  EXPECT_NEAR(r.totals.unowned.usd, 90, 1e-9);
  const std::string table = AuditToTable(r, 10);
  EXPECT_NE(table.find("(unallocated) GPU time no pod held"), std::string::npos) << table;
  EXPECT_NE(table.find("no owner, team or project"), std::string::npos) << table;
  EXPECT_NE(table.find("jobs_from_labels"), std::string::npos) << table;
  // A pod label is no node label either: label:namespace names pods' time only.
  Write("owners.toml",
        "[[owner]]\nmatch = { \"label:namespace\" = \"team-(.*)\" }\nteam = \"$1\"\n");
  r = Audit();
  EXPECT_NEAR(Usd(r.teams, "a"), 30, 1e-9);
  EXPECT_NEAR(Usd(r.teams, kUnallocatedTeam), 90, 1e-9);
  // A node-level label names the node's own time; the pod keeps its rule.
  Write("owners.toml",
        "[[owner]]\nmatch = { namespace = \"team-(.*)\" }\nteam = \"$1\"\n"
        "[[owner]]\nmatch = { \"label:Hostname\" = \"node-(.*)\" }\nteam = \"nodes-$1\"\n");
  r = Audit();
  EXPECT_NEAR(Usd(r.teams, "a"), 30, 1e-9);
  EXPECT_NEAR(Usd(r.teams, "nodes-a"), 90, 1e-9);
  EXPECT_EQ(Usd(r.teams, kUnallocatedTeam), -1);
}

// A series of dcgm-exporter as Prometheus stores it when it scrapes the exporter without
// honor_labels: the exporter pod's own namespace/pod/container, plus (on a GPU a pod holds)
// the workload's as exported_*. The rest is the real label set of the Linode LKE capture
// (../shared/realdata/dcgm-exporter/linode__lke-ai-conformance__README.prom).
std::string Scraped(const std::string& host, int gpu, const std::string& workload_pod) {
  std::string s = R"({"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","gpu":")" + std::to_string(gpu) +
                  R"(","UUID":"GPU-a8394b51-c086-568a-9f1a-c1e1c934c44)" + std::to_string(gpu) +
                  R"(","pci_bus_id":"00000000:00:02.0","device":"nvidia)" + std::to_string(gpu) +
                  R"(","modelName":"NVIDIA RTX 4000 Ada Generation","Hostname":")" + host +
                  R"(","DCGM_FI_DRIVER_VERSION":"580.95.05","instance":"10.2.0.14:9400",)"
                  R"("job":"gpu-operator/nvidia-dcgm-exporter","namespace":"gpu-operator",)"
                  R"("pod":"nvidia-dcgm-exporter-7xk2p","container":"nvidia-dcgm-exporter")";
  if (!workload_pod.empty()) {
    s += R"(,"exported_namespace":"default","exported_pod":")" + workload_pod +
         R"(","exported_container":"cuda")";
  }
  s += R"(},"values":[)";
  const std::string value = workload_pod.empty() ? "0" : "80";
  for (int m = 0; m <= 59; ++m) {
    s += (m == 0 ? "" : ",") + std::string("[") + std::to_string(kT0 + 60 * m) + ",\"" + value +
         "\"]";
  }
  return s + "]}";
}

// The exporter is not a workload (issue 23 item 2). node-a: 4 GPUs, GPU 0 held all hour by
// default/cuda-75454ffb9f-8ljq7 at 80 %, GPUs 1–3 idle (the exporter's labels alone); node-b:
// 4 idle GPUs. Both 240 USD/hour: $1 a GPU-minute. By hand: one job, $60 job_active; node-a's
// idle GPUs $180 idle_outside_jobs, "(unallocated)"; node-b never used, $240.
TEST_F(Kubernetes, TheExporterScrapedWithoutHonorLabelsIsNoWorkload) {
  std::string result = Scraped("node-a", 0, "cuda-75454ffb9f-8ljq7");
  for (int g = 1; g < 4; ++g) result += "," + Scraped("node-a", g, "");
  for (int g = 0; g < 4; ++g) result += "," + Scraped("node-b", g, "");
  Write("cluster.json",
        R"({"status":"success","data":{"resultType":"matrix","result":[)" + result + "]}}");
  Write("inventory.csv",
        "machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end\n"
        "node-a,4,RTX 4000,240,,,,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z\n"
        "node-b,4,RTX 4000,240,,,,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z\n");
  Write("owners.toml", "");
  const AuditResult r = Audit();
  EXPECT_NEAR(Category(r, Category::kJobActive), 60, 1e-9);
  EXPECT_NEAR(Category(r, Category::kJobIdle), 0, 1e-9);
  EXPECT_NEAR(Category(r, Category::kIdleOutsideJobs), 180, 1e-9);
  EXPECT_NEAR(Category(r, Category::kNeverUsed), 240, 1e-9);
  EXPECT_EQ(r.MachinesNeverUsed(), 1);
  std::vector<std::string> jobs;
  for (const MachineResult& m : r.machines) {
    for (const JobResult& j : m.jobs) jobs.push_back(j.job->id);
  }
  EXPECT_EQ(jobs, std::vector<std::string>{"default/cuda-75454ffb9f-8ljq7"});
  EXPECT_NEAR(Usd(r.teams, "default"), 60, 1e-9);
  EXPECT_NEAR(Usd(r.teams, kUnallocatedTeam), 180, 1e-9);  // node-b ran no pod: "(none)"
  EXPECT_NEAR(Usd(r.teams, kNoTeam), 240, 1e-9);
  EXPECT_EQ(Count(r.telemetry.notes, "not_workloads"), 2u);  // the exporter pod, on each node
  EXPECT_EQ(Count(r.telemetry.notes, "exported_labels"), 1u);
}

}  // namespace
}  // namespace gpuledger
