// The node guard's pieces that touch the system: /proc (on a synthetic tree and on real
// children), Slurm's answers, the stop plan, the state file, /metrics text, the outbox.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "guard/guard_metrics.h"
#include "guard/guard_state.h"
#include "guard/outbox.h"
#include "guard/process_table.h"
#include "guard/workload_actions.h"
#include "guard/workload_names.h"
#include "guard_test_util.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

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

StopTarget Group(std::string workload, int64_t pgid, std::set<ProcessKey> procs) {
  StopTarget t;
  t.workload = std::move(workload), t.pgid = pgid, t.gpu_processes = std::move(procs);
  return t;
}

TEST(WorkloadActions, NeverSignalsItsOwnGroupPid1OrAReusedPid) {
  ProcessTable table;
  const int64_t self_start = ReadProcStat(getpid())->start_ticks;
  StopPlan own = PlanStop(Group("pg:self", getpgrp(), {{getpid(), self_start}}), &table);
  EXPECT_TRUE(own.processes.empty());
  EXPECT_NE(own.refusal.find("own"), std::string::npos) << own.refusal;
  StopPlan init =
      PlanStop(Group("pg:1", 1, {{1, ReadProcStat(1) ? ReadProcStat(1)->start_ticks : 0}}), &table);
  EXPECT_TRUE(init.processes.empty());
  // A child in its own group: planned; the same pid with another start time: refused.
  const pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    pause();
    _exit(0);
  }
  setpgid(child, child);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const int64_t start = ReadProcStat(child)->start_ticks;
  StopPlan stale = PlanStop(Group("pg:c", child, {{child, start + 1}}), &table);
  EXPECT_TRUE(stale.processes.empty());
  EXPECT_NE(stale.refusal.find("gone"), std::string::npos);
  auto dry = MakeDryRunActions(&table);
  EXPECT_NE(dry->Stop(Group("pg:c", child, {{child, start}}), 0).what.find("[dry run]"),
            std::string::npos);
  EXPECT_EQ(kill(child, 0), 0);  // the dry run signalled nothing
  auto refusing = MakeSignalActions(&table, 100, "", "not the host's PID namespace");
  const ActionOutcome refused = refusing->Stop(Group("pg:c", child, {{child, start}}), 0);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.what.find("not the host's PID namespace"), std::string::npos);
  EXPECT_EQ(kill(child, 0), 0);  // nothing signalled
  auto real = MakeSignalActions(&table, 100);
  const ActionOutcome out = real->Stop(Group("pg:c", child, {{child, start}}), 0);
  EXPECT_TRUE(out.ok) << out.what;
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

bool Exited(pid_t pid, int* status) { return waitpid(pid, status, WNOHANG) == pid; }

TEST(WorkloadActions, SigkillGoesOnlyToTheProcessesSigtermWasSentTo) {
  ProcessTable table;
  // A member that ignores SIGTERM, then — during the grace — a process that joins the group's
  // id afterwards (as a reused group id would): only the first may get SIGKILL.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t stubborn = fork();
  if (stubborn == 0) {
    setpgid(0, 0);
    signal(SIGTERM, SIG_IGN);
    (void)!write(ready[1], "x", 1);  // SIGTERM is ignored from here on
    pause();
    _exit(0);
  }
  setpgid(stubborn, stubborn);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]), close(ready[1]);
  const int64_t start = ReadProcStat(stubborn)->start_ticks;
  auto actions = MakeSignalActions(&table, 200);
  ASSERT_TRUE(actions->Stop(Group("pg:s", stubborn, {{stubborn, start}}), 0).ok);
  const pid_t newcomer = fork();
  if (newcomer == 0) {
    setpgid(0, stubborn);
    pause();
    _exit(0);
  }
  setpgid(newcomer, stubborn);
  ASSERT_TRUE(Eventually(
      [&] { return ReadProcStat(newcomer) && ReadProcStat(newcomer)->pgrp == stubborn; }));
  int status = 0;
  EXPECT_FALSE(Exited(stubborn, &status));    // SIGTERM ignored
  const auto outcomes = actions->Tick(1000);  // past the grace
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_NE(outcomes[0].what.find("SIGKILL to 1 process"), std::string::npos) << outcomes[0].what;
  ASSERT_TRUE(Eventually([&] { return Exited(stubborn, &status); }));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(kill(newcomer, 0), 0);  // never warned about, never signalled
  kill(newcomer, SIGKILL);
  waitpid(newcomer, &status, 0);
}

TEST(WorkloadActions, OutsideCallsNeverHoldTheCallerUp) {
  ProcessTable table;
  StopTarget slurm;
  slurm.workload = "slurm:42", slurm.kind = WorkloadKind::kSlurm;
  const std::string dir = GuardTestDir("slowcall");
  // A scancel that hangs for longer than any sample: Stop returns at once, Tick reports later.
  Write(dir + "/scancel", "#!/bin/sh\nsleep 1\necho cancelled $1 >> " + dir + "/calls\n");
  fs::permissions(dir + "/scancel", fs::perms::owner_all);
  const std::string path = getenv("PATH") ? getenv("PATH") : "";
  setenv("PATH", (dir + ":" + path).c_str(), 1);
  auto actions = MakeSignalActions(&table, 100);
  const auto t0 = std::chrono::steady_clock::now();
  const ActionOutcome started = actions->Stop(slurm, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  EXPECT_EQ(started.what, "running: scancel 42");
  EXPECT_TRUE(actions->Tick(0).empty());
  EXPECT_EQ(actions->stopping(), 1u);
  std::vector<ActionOutcome> done;
  ASSERT_TRUE(Eventually([&] {
    for (ActionOutcome& o : actions->Tick(0)) done.push_back(std::move(o));
    return !done.empty();
  }));
  setenv("PATH", path.c_str(), 1);
  EXPECT_TRUE(done[0].ok);
  EXPECT_EQ(done[0].what, "slurm:42: ran: scancel 42");
  EXPECT_EQ(done[0].workload, "slurm:42");
}

TEST(WorkloadActions, K8sActionFillsWordsAndNoNameInjects) {
  StopTarget pod;
  pod.kind = WorkloadKind::kPod;
  pod.pod_namespace = "ml-team", pod.pod_name = "trainer-0.x", pod.pod_uid = "3b5d-1f2e",
  pod.node = "n1";
  auto argv = ExpandK8sAction("kubectl delete pod -n {namespace} {pod} --wait=false", pod);
  ASSERT_TRUE(argv) << argv.error().ToString();
  EXPECT_EQ(*argv, (std::vector<std::string>{"kubectl", "delete", "pod", "-n", "ml-team",
                                             "trainer-0.x", "--wait=false"}));
  argv = ExpandK8sAction("sh -c 'notify {pod}@{node} uid={uid}'", pod);
  ASSERT_TRUE(argv);
  EXPECT_EQ(argv->back(), "notify trainer-0.x@n1 uid=3b5d-1f2e");  // a quoted word stays one
  for (const char* evil : {"x; rm -rf /", "$(reboot)", "--all", "a b", "Trainer", "`id`", ""}) {
    StopTarget bad = pod;
    bad.pod_name = evil;
    EXPECT_FALSE(ExpandK8sAction("kubectl delete pod -n {namespace} {pod}", bad)) << evil;
    bad = pod;
    bad.pod_namespace = evil;
    EXPECT_FALSE(ExpandK8sAction("kubectl delete pod -n {namespace} {pod}", bad)) << evil;
  }
  EXPECT_FALSE(ExpandK8sAction("kubectl delete {podname}", pod));
  EXPECT_FALSE(ExpandK8sAction("kubectl 'unclosed", pod));
  EXPECT_FALSE(ExpandK8sAction("   ", pod));
  EXPECT_EQ(SlurmJobIdOf("slurm:4711"), "4711");
  EXPECT_EQ(SlurmJobIdOf("slurm:47;11"), "");
  EXPECT_EQ(SlurmJobIdOf("pg:4711"), "");
}

TEST(WorkloadActions, RunArgvRunsWithoutAShellAndReportsFailure) {
  EXPECT_TRUE(RunArgv({"true"}, 5000));
  auto r = RunArgv({"sh", "-c", "echo first; echo 'it broke' >&2; exit 3"}, 5000);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exited 3: it broke"), std::string::npos) << r.error().message;
  EXPECT_FALSE(RunArgv({"/no/such/command"}, 5000));
  EXPECT_FALSE(RunArgv({"sleep", "5"}, 200));     // timed out, killed
  EXPECT_TRUE(RunArgv({"echo", "$(id)"}, 5000));  // a word is a word
}

TEST(GuardState, RoundTripsAndIsDroppedAfterAReboot) {
  SavedWorkload s;
  s.id = "pg:42", s.processes = {{42, 9000}, {43, 9001}}, s.first_active = 1'790'000'000'000;
  s.warnings = 2, s.keep = KeepGrant{"pg:42", 1, 2, "asha", "demo \"at\" 3pm"};
  s.first_seen = 1'789'999'000'000, s.last_seen = 1'790'000'100'000;
  s.gpu_ms = 3'600'000.5, s.idle_gpu_ms = 1000, s.owner = "asha", s.uid = 1000;
  s.command = "python train.py", s.gpus = {0, 3};
  const std::string json = GuardStateJson({s}, "boot-a");
  auto back = ParseGuardState(json, "boot-a");
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].processes, s.processes);
  EXPECT_EQ((*back)[0].first_active, s.first_active);
  EXPECT_EQ((*back)[0].warnings, 2);
  ASSERT_TRUE((*back)[0].keep);
  EXPECT_EQ((*back)[0].keep->reason, "demo \"at\" 3pm");
  // What its ledger row is resumed or closed from.
  EXPECT_EQ((*back)[0].first_seen, s.first_seen);
  EXPECT_EQ((*back)[0].last_seen, s.last_seen);
  EXPECT_NEAR((*back)[0].gpu_ms, 3'600'000.5, 1);
  EXPECT_EQ((*back)[0].idle_gpu_ms, 1000);
  EXPECT_EQ((*back)[0].owner, "asha");
  EXPECT_EQ((*back)[0].uid, 1000u);
  EXPECT_EQ((*back)[0].command, "python train.py");
  EXPECT_EQ((*back)[0].gpus, (std::set<int>{0, 3}));
  EXPECT_TRUE(ParseGuardState(json, "boot-b")->empty());
  EXPECT_FALSE(ParseGuardState("{\"boot_id\": ", "boot-a"));
  const std::string dir = GuardTestDir("state");
  std::string last;
  ASSERT_TRUE(SaveGuardState(dir + "/s.json", {s}, &last));
  const auto mtime = fs::last_write_time(dir + "/s.json");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(SaveGuardState(dir + "/s.json", {s}, &last));  // unchanged: not rewritten
  EXPECT_EQ(fs::last_write_time(dir + "/s.json"), mtime);
  auto loaded = LoadGuardState(dir + "/s.json");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->size(), 1u);
  EXPECT_TRUE(LoadGuardState(dir + "/none.json")->empty());
}

TEST(GuardMetrics, LabelValuesAreEscapedAndCountersExposed) {
  EXPECT_EQ(PromLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(PromLabelValue("bad\xff"), "bad\xEF\xBF\xBD");  // a scrape stays valid UTF-8
  Policy p;
  NodeGuard guard(p, 1);
  GpuSnapshot snap;
  snap.t = 1'790'000'000'500;
  snap.processes_listed = true;
  snap.gpus = {{0, 42, 1024.0}};
  snap.processes = {{0, 9, 512.0, std::nullopt}};
  WorkloadInfo info;
  info.name = {WorkloadKind::kProcessGroup, "pg:9"};
  info.owner = "we\"ird";
  guard.Observe(snap, {{&snap.processes[0], "pg:9"}}, {{"pg:9", info}});
  GuardCounters c;
  c.kills = 3;
  c.freed_gpus = 5;
  c.freed_memory_bytes = 3.0 * 1048576 * 1024;
  const std::string text = RenderGuardMetrics(guard, &snap, c, snap.t);
  EXPECT_NE(text.find("gpuledger_gpu_utilization_percent{gpu=\"0\"} 42\n"), std::string::npos);
  EXPECT_NE(
      text.find("gpuledger_workload_gpus{workload=\"pg:9\",kind=\"pg\",owner=\"we\\\"ird\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("gpuledger_kills_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("gpuledger_freed_gpus_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("gpuledger_freed_memory_bytes_total 3221225472\n"), std::string::npos);
  EXPECT_NE(text.find("gpuledger_last_sample_timestamp_seconds 1790000000.500\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE gpuledger_kills_total counter"), std::string::npos);
}

TEST(Outbox, ALedgerThatCannotBeOpenedKeepsItsWritesQueuedUntilItCan) {
  const std::string dir = GuardTestDir("outbox");
  Write(dir + "/blocked", "a file where the ledger's folder should be");
  const std::string ledger = dir + "/blocked/ledger.db";
  std::FILE* log = std::tmpfile();
  {
    Outbox out(ledger, log);
    LedgerJob job;
    job.job_id = "node:pg:1:0", job.owner = "asha", job.status = "running", job.kind = "pg";
    out.PutJob(job);
    out.AddDecision({job.job_id, 5, "kill", "idle", "idle", 0.5, 0, 0, "", 3});
    job.status = "killed";
    out.PutJob(job);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(out.counts().queued, 3u);
    EXPECT_GE(out.counts().ledger_failures, 1u);
    fs::remove(dir + "/blocked");  // the ledger can be created now
    for (int i = 0; i < 100 && out.counts().queued > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(out.counts().queued, 0u);
  }
  std::fclose(log);
  auto l = Ledger::OpenExisting(ledger);
  ASSERT_TRUE(l);
  auto jobs = (*l)->Jobs(0);
  ASSERT_EQ(jobs->size(), 1u);  // written by id: one row, its last state
  EXPECT_EQ((*jobs)[0].status, "killed");
  EXPECT_EQ((*jobs)[0].kind, "pg");
  auto decisions = (*l)->Decisions(0);
  ASSERT_EQ(decisions->size(), 1u);
  EXPECT_DOUBLE_EQ((*decisions)[0].usd_per_hour_saved, 3);
}

TEST(Outbox, KeepRequestsAreHandedOverOnceAndTheirAnswersJournaled) {
  const std::string dir = GuardTestDir("outbox_keeps");
  const std::string ledger = dir + "/ledger.db";
  {
    auto l = Ledger::Open(ledger);
    ASSERT_TRUE(l);
    LedgerKeepRequest r;
    r.id = "link:01", r.host = "node-a", r.workload = "pg:7", r.duration_ms = 60'000;
    r.who = "asha", r.reason = "r", r.source = "email", r.asked_at = 1;
    ASSERT_TRUE(*(*l)->AskKeep(r));
    r.id = "link:02", r.host = "node-b";
    ASSERT_TRUE(*(*l)->AskKeep(r));
  }
  std::FILE* log = std::tmpfile();
  {
    Outbox out(ledger, log);
    ASSERT_TRUE(out.UseJournal(dir + "/outbox.jsonl"));
    out.WatchKeepRequests("node-a");
    std::vector<LedgerKeepRequest> got;
    for (int i = 0; i < 100 && got.empty(); ++i) {
      got = out.TakeKeepRequests();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(got.size(), 1u);  // node-a's only
    EXPECT_EQ(got[0].id, "link:01");
    // Still pending in the ledger: not handed over a second time.
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * Outbox::kKeepPollMs + 200));
    EXPECT_TRUE(out.TakeKeepRequests().empty());
    out.AnswerKeepRequest({"link:01", "kept", "pg:7 kept until 10:00", 5});
    for (int i = 0; i < 100 && out.counts().queued > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fclose(log);
  auto l = Ledger::OpenExisting(ledger);
  ASSERT_TRUE(l);
  EXPECT_EQ((*(*l)->KeepRequestById("link:01"))->state, "kept");
  EXPECT_EQ((*(*l)->KeepRequestById("link:02"))->state, "pending");
  // The journal's line for an answer reads back as the same answer.
  auto back = ParseLedgerWriteJson(
      LedgerWriteJson(LedgerKeepAnswer{"slack:v0=1", "refused", "no \"user\"\n", 9}));
  ASSERT_TRUE(back);
  const auto* a = std::get_if<LedgerKeepAnswer>(&*back);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, "slack:v0=1");
  EXPECT_EQ(a->state, "refused");
  EXPECT_EQ(a->answer, "no \"user\"\n");
  EXPECT_EQ(a->at, 9);
}

}  // namespace
}  // namespace gpuledger
