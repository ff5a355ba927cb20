// Stopping workloads: the stop plan's signals on real children, outside calls (scancel,
// k8s_action, commands) that never hold the caller up.
#include "guard/workload_actions.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "guard/process_table.h"
#include "guard_test_util.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

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

}  // namespace
}  // namespace gpuledger
