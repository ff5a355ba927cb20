// The guard's view of processes: /proc on a synthetic tree and on real children, Slurm's
// answers, workload names — identity from the kernel and the scheduler, never from the process.
#include "guard/process_table.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "guard/workload_names.h"
#include "guard_test_util.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

// A process of the synthetic /proc: its stat (with a start time), status, cgroup, cmdline.
void FakeProcess(const std::string& root, int pid, int64_t start, const std::string& argv0) {
  const std::string dir = root + "/" + std::to_string(pid);
  Write(dir + "/stat", std::to_string(pid) + " (" + argv0 + ") S 1 " + std::to_string(pid) + " " +
                           std::to_string(pid) + " 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 " +
                           std::to_string(start) + " 1000 100");
  Write(dir + "/status", "Name:\t" + argv0 + "\nUid:\t1234\t1234\t1234\t1234\n");
  Write(dir + "/cgroup", "0::/user.slice/user-1234.slice/session-9.scope\n");
  Write(dir + "/cmdline", argv0 + std::string("\0--epochs\0"
                                              "3\0",
                                              12));
  Write(dir + "/environ", std::string("HOME=/h\0SLURM_JOB_ID=77\0", 25));
}

// A stand-in for scontrol: pidinfo puts "pid" in job 77; show job says its user is
// "user(uid)".
std::shared_ptr<SlurmQuery> FakeScontrol(const std::string& dir, int pid, const std::string& user) {
  const std::string script = dir + "/scontrol";
  Write(script, "#!/bin/sh\ncase \"$1 $2\" in\n\"pidinfo " + std::to_string(pid) +
                    "\") echo 'Slurm JobId=77 ends at Mon Dec 07 12:00:00 2026';;\n"
                    "pidinfo*) echo 'Failed to locate job for requested pid' >&2; exit 1;;\n"
                    "\"show job\") echo 'JobId=77 JobName=big run UserId=" +
                    user + " GroupId=g(1)';;\nesac\n");
  fs::permissions(script, fs::perms::owner_all);
  return std::make_shared<SlurmQuery>(script, 2000);
}

TEST(ProcessTable, AReusedPidIsReadAfreshAndTheOldProcessIsGone) {
  const std::string root = GuardTestDir("proc");
  FakeProcess(root, 500, 1000, "python");
  ProcessTable table(root, std::make_shared<SlurmQuery>("/no/such/scontrol"));
  const ProcessTable::Entry* e = table.Lookup(500);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->facts.uid, 1234u);
  EXPECT_EQ(e->facts.argv, (std::vector<std::string>{"python", "--epochs", "3"}));
  // SLURM_JOB_ID=77 in its own environment, and no Slurm to vouch for it: its process group.
  EXPECT_EQ(e->workload.name.id, "pg:500");
  EXPECT_TRUE(table.Alive({500, 1000}));
  FakeProcess(root, 500, 2000, "bash");  // pid 500 reused by another process
  e = table.Lookup(500);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->facts.start_ticks, 2000);
  EXPECT_EQ(e->facts.argv[0], "bash");
  EXPECT_FALSE(table.Alive({500, 1000}));
  fs::remove_all(root + "/500");
  EXPECT_EQ(table.Lookup(500), nullptr);
}

TEST(ProcessTable, AnExecIsReadAfresh) {
  const std::string root = GuardTestDir("proc");
  FakeProcess(root, 501, 1000, "python");
  ProcessTable table(root, std::make_shared<SlurmQuery>("/no/such/scontrol"));
  ASSERT_NE(table.Lookup(501), nullptr);
  FakeProcess(root, 501, 1000, "sleep");  // the same process (start time) after an exec
  const ProcessTable::Entry* e = table.Lookup(501);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->facts.argv[0], "sleep");
}

TEST(SlurmQuery, ParsesWhatScontrolSays) {
  EXPECT_EQ(ParsePidInfo("Slurm JobId=3 ends at Tue Dec 07 01:14:00 2027\n"
                         "Job remaining time is 31535998 seconds\n"),
            "3");
  EXPECT_EQ(ParsePidInfo("Slurm job id 41 ends at Fri Jan 01 00:00:00 2027\n"), "41");
  EXPECT_EQ(ParsePidInfo("Failed to locate job for requested pid\n"), "");
  EXPECT_EQ(ParsePidInfo("Slurm JobId=x ends"), "");
  auto job = ParseShowJob("JobId=3 JobName=my big run UserId=asha(1001) GroupId=asha(1001) X=1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->user, "asha");
  EXPECT_EQ(job->uid, 1001u);
  EXPECT_EQ(job->name, "my big run");
  EXPECT_FALSE(ParseShowJob("slurm_load_jobs error: Invalid job id specified"));
  EXPECT_FALSE(ParseShowJob("JobId=3 UserId=asha(x)"));
}

TEST(ProcessTable, ASlurmJobIsWhatSlurmSaysNeverWhatTheEnvironmentSays) {
  const std::string root = GuardTestDir("slurm");
  FakeProcess(root, 500, 1000, "python");  // SLURM_JOB_ID=77 in its environment, uid 1234
  FakeProcess(root, 501, 1000, "python");
  {  // slurmd puts pid 500 in job 77, whose user is uid 1234: a Slurm job, its user the owner
    ProcessTable table(root, FakeScontrol(root, 500, "asha(1234)"));
    const ProcessTable::Entry* e = table.Lookup(500);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->workload.name.id, "slurm:77");
    EXPECT_EQ(e->workload.owner, "asha");
    EXPECT_EQ(e->facts.slurm_job_name, "big run");
    // pid 501 says SLURM_JOB_ID=77 too, but slurmd does not track it in any job.
    EXPECT_EQ(table.Lookup(501)->workload.name.id, "pg:501");
  }
  {  // job 77 is another user's: a process of uid 1234 claiming it is no part of it
    ProcessTable table(root, FakeScontrol(root, 500, "bo(999)"));
    EXPECT_EQ(table.Lookup(500)->workload.name.id, "pg:500");
  }
  // slurmd's cgroup (v1, the job's uid in the path) names the job without any environment.
  Write(root + "/502/cgroup", "");
  FakeProcess(root, 502, 1000, "python");
  Write(root + "/502/environ", "");
  Write(root + "/502/cgroup", "4:memory:/slurm/uid_1234/job_88/step_0/task_0\n");
  FakeProcess(root, 503, 1000, "python");
  Write(root + "/503/cgroup", "4:memory:/slurm/uid_999/job_88/step_0/task_0\n");
  ProcessTable table(root, std::make_shared<SlurmQuery>("/no/such/scontrol"));
  EXPECT_EQ(table.Lookup(502)->workload.name.id, "slurm:88");
  EXPECT_EQ(table.Lookup(503)->workload.name.id, "pg:503");  // the path names another uid
}

TEST(ProcessTable, ProcessesHintingAtSlurmCannotHoldASampleUp) {
  // 20 processes say SLURM_JOB_ID=77 and scontrol takes 200 ms to answer each: a sample asks for
  // about half a second, then leaves the rest to the next samples.
  const std::string root = GuardTestDir("slurm_slow");
  for (int pid = 600; pid < 620; ++pid) FakeProcess(root, pid, 1000, "python");
  const std::string script = root + "/scontrol";
  Write(script, "#!/bin/sh\nsleep 0.2\nexit 1\n");
  fs::permissions(script, fs::perms::owner_all);
  ProcessTable table(root, std::make_shared<SlurmQuery>(script, 2000));
  const auto t0 = std::chrono::steady_clock::now();
  for (int pid = 600; pid < 620; ++pid) ASSERT_NE(table.Lookup(pid), nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1500));
  int samples = 1;
  for (; samples < 20; ++samples) {
    table.Sweep();
    bool all = true;
    for (int pid = 600; pid < 620; ++pid) all = all && table.Lookup(pid)->settled;
    if (all) break;
  }
  EXPECT_GT(samples, 1);   // it took more than one sample …
  EXPECT_LT(samples, 20);  // … and every one was asked in the end
  EXPECT_EQ(table.Lookup(600)->workload.name.id, "pg:600");  // Slurm vouched for none
}

TEST(ProcessTable, GpuledgerVariablesCountOnlyUnderALiveRun) {
  const std::string root = GuardTestDir("runvars");
  FakeProcess(root, 510, 1000, "python");
  Write(root + "/510/environ",
        std::string("GPULEDGER_JOB_ID=x\0GPULEDGER_OWNER=someone-else\0", 48));
  ProcessTable table(root, std::make_shared<SlurmQuery>("/no/such/scontrol"));
  const ProcessTable::Entry* e = table.Lookup(510);
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->facts.under_gpuledger_run);          // its parent (pid 1) is no `gpuledger run`
  EXPECT_EQ(e->workload.name.id, "pg:510");            // judged like any other process group
  EXPECT_EQ(e->workload.owner, table.UserName(1234));  // the kernel's uid, not the variable
}

TEST(ProcessTable, WhatAnEnvironmentSaysItIsIsRecordedNeverTrusted) {
  const std::string root = GuardTestDir("identity");
  FakeProcess(root, 511, 1000, "python");
  const std::string env = std::string("MLFLOW_EXPERIMENT_NAME=detector-v2") + '\0' +
                          "MLFLOW_RUN_ID=a1b2" + '\0' + "GITHUB_REPOSITORY=acme/det" + '\0' +
                          "GITHUB_REF=refs/pull/61/merge" + '\0' + "USER=root" + '\0';
  Write(root + "/511/environ", env);
  ProcessTable table(root, std::make_shared<SlurmQuery>("/no/such/scontrol"));
  const ProcessTable::Entry* e = table.Lookup(511);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->workload.identity.experiment, "detector-v2");
  EXPECT_EQ(e->workload.identity.run, "a1b2");
  EXPECT_EQ(e->workload.identity.repo, "acme/det");
  EXPECT_EQ(e->workload.identity.pr, "61");
  EXPECT_EQ(e->workload.name.id, "pg:511");            // it names nothing about who it is
  EXPECT_EQ(e->workload.owner, table.UserName(1234));  // the kernel's uid
}

TEST(WorkloadNames, APodIsNamedOnlyByTheKubeletsRootOwnedEntry) {
  const std::string dir = GuardTestDir("pod_logs");
  const std::string uid = "3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a";
  fs::create_directories(dir + "/team-a_trainer-0_" + uid);
  fs::create_directories(dir + "/kube-system_coredns-x_9c8d7e6f-5a4b-4c3d-8e2f-1a0b9c8d7e6f");
  auto pod = PodNameFromKubelet(dir, uid);
  if (getuid() == 0) {  // made by root, as the kubelet makes them
    ASSERT_TRUE(pod);
    EXPECT_EQ(pod->pod_namespace, "team-a");
    EXPECT_EQ(pod->name, "trainer-0");
    // An entry someone else owns names nothing.
    ASSERT_EQ(chown((dir + "/team-a_trainer-0_" + uid).c_str(), 65534, 65534), 0);
  }
  EXPECT_FALSE(PodNameFromKubelet(dir, uid));
  EXPECT_FALSE(PodNameFromKubelet(dir, "00000000-0000-0000-0000-000000000000"));
  EXPECT_FALSE(PodNameFromKubelet(dir, ""));
}

TEST(ProcessTable, AKernelFileIsReachedOnlyWithoutLinks) {
  const std::string dir = GuardTestDir("kernel_file");
  const std::string id = "5e4c1f2a-9b3d-4e6f-8a7b-1c2d3e4f5a6b";
  fs::create_directories(dir + "/rt");
  Write(dir + "/rt/kernel-" + id + ".json", "{}");
  fs::create_directory_symlink(dir + "/rt", dir + "/link");
  // A kernel-like process: sh stays (": " after sleep), its argv naming the connection file. In
  // a process group of its own, so that killing the group takes its sleep too (a sleep left
  // behind would hold ctest's output open for its 60 s).
  auto start = [&](const std::string& file) {
    const pid_t child = fork();
    if (child == 0) {
      setpgid(0, 0);
      execl("/bin/sh", "sh", "-c", "sleep 60; :", "ipykernel", "-f", file.c_str(), nullptr);
      _exit(127);
    }
    setpgid(child, child);
    return child;
  };
  const pid_t direct = start(dir + "/rt/kernel-" + id + ".json");
  const pid_t linked = start(dir + "/link/kernel-" + id + ".json");
  auto execd = [](pid_t p) {  // its argv is sh's now, not this test's
    std::ifstream in("/proc/" + std::to_string(p) + "/cmdline");
    std::string argv0;
    std::getline(in, argv0, '\0');
    return argv0 == "sh";
  };
  ASSERT_TRUE(Eventually([&] { return execd(direct) && execd(linked); }));
  ProcessTable table("/proc", std::make_shared<SlurmQuery>("/no/such/scontrol"));
  EXPECT_EQ(table.Lookup(direct)->workload.name.id, "jupyter:" + id);
  EXPECT_EQ(table.Lookup(linked)->workload.name.id, "pg:" + std::to_string(linked));
  for (pid_t p : {direct, linked}) {
    kill(-p, SIGKILL);
    waitpid(p, nullptr, 0);
  }
}

TEST(ProcessTable, ALoginShellLeadingItsGroupIsAShellGroup) {
  const std::string root = GuardTestDir("shell");
  FakeProcess(root, 600, 10, "-bash");
  FakeProcess(root, 700, 10, "python");
  ProcessTable table(root);
  EXPECT_TRUE(table.IsShellGroup(600));
  EXPECT_FALSE(table.IsShellGroup(700));
  EXPECT_FALSE(table.IsShellGroup(800));  // no leader any more: the group is the workload's
}

}  // namespace
}  // namespace gpuledger
