#include "guard/workload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/proc_stat.h"
#include "guard/pid_namespace.h"
#include "guard/process_table.h"

namespace gpuledger {
namespace {

ProcessFacts Facts(std::string cgroup, std::vector<std::string> argv = {"python", "train.py"}) {
  ProcessFacts f;
  f.pid = 4242, f.pgid = 4200, f.uid = 1000;
  f.cgroup = std::move(cgroup);
  f.argv = std::move(argv);
  return f;
}

TEST(Workload, SlurmJobOnlyFromSlurmdsOwnCgroupLayouts) {
  std::optional<uint32_t> uid;
  EXPECT_EQ(SlurmJobOfCgroup("12:memory:/slurm/uid_1000/job_4711/step_0/task_0\n", &uid), "4711");
  EXPECT_EQ(uid, 1000u);
  EXPECT_EQ(SlurmJobOfCgroup("5:cpu:/slurm_node7/uid_0/job_3/step_batch\n"), "3");
  EXPECT_EQ(SlurmJobOfCgroup("0::/system.slice/slurmstepd.scope/job_88/step_batch/user/task_0\n"),
            "88");
  EXPECT_EQ(SlurmJobOfCgroup("0::/system.slice/node7_slurmstepd.scope/job_89/step_0\n"), "89");
  // Seen from another cgroup namespace, the path starts with "/..": still slurmd's.
  EXPECT_EQ(SlurmJobOfCgroup("0::/../../system.slice/slurmstepd.scope/job_90/step_0\n"), "90");
  // What a user can create under their delegated subtree, or anywhere else, names no job.
  EXPECT_EQ(SlurmJobOfCgroup("0::/user.slice/job_x/"), "");
  EXPECT_EQ(SlurmJobOfCgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                             "system.slice/slurmstepd.scope/job_42/step_0\n"),
            "");
  EXPECT_EQ(SlurmJobOfCgroup("0::/user.slice/user-1000.slice/user@1000.service/job_42/x\n"), "");
  EXPECT_EQ(SlurmJobOfCgroup("0::/system.slice/evil.scope/job_42/step_0\n"), "");
  EXPECT_EQ(SlurmJobOfCgroup("0::/slurm/job_42/step_0\n"), "");  // v1 always has uid_<N>
  // Only a Slurm job someone vouched for classifies as one; SLURM_JOB_ID is only a hint.
  ProcessFacts env = Facts("0::/user.slice/user-1000.slice/session-3.scope");
  env.env_slurm_job_id = "91";
  EXPECT_EQ(ClassifyProcess(env).id, "pg:4200");
  env.slurm_job = "91";  // what slurmd said
  EXPECT_EQ(ClassifyProcess(env).id, "slurm:91");
  EXPECT_EQ(ClassifyProcess(env).kind, WorkloadKind::kSlurm);
}

TEST(Workload, KubernetesPodFromCgroupfsAndSystemdDrivers) {
  EXPECT_EQ(PodUidOfCgroup("0::/kubepods/burstable/pod3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a/"
                           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            "3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a");
  EXPECT_EQ(PodUidOfCgroup("0::/kubepods.slice/kubepods-besteffort.slice/"
                           "kubepods-besteffort-pod3b5d1e4a_1f2e_4c1d_9a7b_0e6f5d4c3b2a.slice/"
                           "cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef01234567"
                           "89abcdef.scope"),
            "3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a");
  // A pod's container is the pod's, not a container of its own.
  const WorkloadName n =
      ClassifyProcess(Facts("0::/kubepods/pod3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a/"
                            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
  EXPECT_EQ(n.id, "k8s:3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a");
  EXPECT_EQ(PodUidOfCgroup("0::/system.slice/pod-notkube.service"), "");
  // A user's own subtree may hold any name: no pod there.
  EXPECT_EQ(PodUidOfCgroup("0::/user.slice/user-1000.slice/user@1000.service/kubepods/"
                           "pod3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a/x"),
            "");
  EXPECT_EQ(PodUidOfCgroup("0::/system.slice/x/kubepods/pod3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a"),
            "");
}

TEST(Workload, JupyterKernelFromItsConnectionFile) {
  const std::vector<std::string> argv = {
      "/usr/bin/python3", "-m", "ipykernel_launcher", "-f",
      "/home/asha/.local/share/jupyter/runtime/kernel-5e4c1f2a-9b3d-4e6f-8a7b-1c2d3e4f5a6b.json"};
  EXPECT_EQ(JupyterKernelOf(argv), "5e4c1f2a-9b3d-4e6f-8a7b-1c2d3e4f5a6b");
  ProcessFacts owner = Facts("0::/user.slice", argv);
  owner.owns_kernel_file = true;
  EXPECT_EQ(ClassifyProcess(owner).id, "jupyter:5e4c1f2a-9b3d-4e6f-8a7b-1c2d3e4f5a6b");
  // Another user's kernel file copied into one's own command line names no kernel.
  EXPECT_EQ(ClassifyProcess(Facts("0::/user.slice", argv)).id, "pg:4200");
  EXPECT_EQ(JupyterKernelOf({"python", "-m", "ipykernel", "-f", "/r/kernel-a\nkill: b.json"}), "");
  EXPECT_EQ(JupyterKernelOf({"python", "-f", "/tmp/kernel-x.json"}), "");  // not ipykernel
  EXPECT_EQ(JupyterKernelOf({"python", "-m", "ipykernel", "--f=/r/kernel-abc.json"}), "abc");
  // The id and the file whose owner is checked are one and the same file.
  const std::vector<std::string> two = {
      "python", "-m", "ipykernel", "-f", "/mine/kernel-dir/x", "-f", "/theirs/kernel-5e4c.json"};
  EXPECT_EQ(JupyterConnectionFileOf(two), "/theirs/kernel-5e4c.json");
  EXPECT_EQ(JupyterKernelOf(two), "5e4c");
}

TEST(Workload, ContainersRunJobsAndProcessGroups) {
  const std::string id = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
  EXPECT_EQ(ClassifyProcess(Facts("0::/system.slice/docker-" + id + ".scope")).id,
            "container:9f8e7d6c5b4a");
  EXPECT_EQ(ClassifyProcess(Facts("0::/machine.slice/libpod-" + id + ".scope/container")).id,
            "container:9f8e7d6c5b4a");
  // In a user's own subtree a container id is not believed.
  EXPECT_EQ(ClassifyProcess(Facts("0::/user.slice/user-1000.slice/docker-" + id + ".scope")).id,
            "pg:4200");
  ProcessFacts run = Facts("0::/user.slice/user-1000.slice/session-3.scope");
  run.env_gpuledger_job_id = "node1-17000-99";
  EXPECT_EQ(ClassifyProcess(run).id, "pg:4200");  // no live `gpuledger run` above it
  run.under_gpuledger_run = true;
  EXPECT_EQ(ClassifyProcess(run).id, "run:node1-17000-99");
  run.env_gpuledger_job_id = "x\nkill: pg:1";
  EXPECT_EQ(ClassifyProcess(run).id, "pg:4200");  // not id text
  EXPECT_EQ(ClassifyProcess(Facts("0::/user.slice/user-1000.slice/session-3.scope")).id, "pg:4200");
}

TEST(ProcessTable, FuseMountsAreNeverLookedInto) {
  const std::string mountinfo =
      "22 1 0:21 / / rw - ext4 /dev/sda1 rw\n"
      "36 22 0:40 / /home/asha/remote rw,nosuid - fuse.sshfs asha@far:/ rw\n"
      "37 36 0:41 / /home/asha/remote/cache rw - tmpfs tmpfs rw\n"
      "38 22 0:42 / /mnt/f rw - fuse /dev/fuse rw\n";
  EXPECT_FALSE(IsUserMount(mountinfo, "/home/asha/kernel-1.json"));
  EXPECT_TRUE(IsUserMount(mountinfo, "/home/asha/remote"));
  EXPECT_TRUE(IsUserMount(mountinfo, "/home/asha/remote/rt/kernel-1.json"));
  EXPECT_FALSE(IsUserMount(mountinfo, "/home/asha/remote/cache/x"));  // the longest mount decides
  EXPECT_FALSE(IsUserMount(mountinfo, "/home/asha/remotely"));
  EXPECT_TRUE(IsUserMount(mountinfo, "/mnt/f/x"));
  EXPECT_FALSE(IsUserMount("", "/x"));
}

TEST(PidNamespace, SignalsOnlyFromTheHostsOwn) {
  EXPECT_EQ(PidNamespaceProblem("pid:[4026531836]", "", "/proc"), "");
  EXPECT_NE(PidNamespaceProblem("pid:[4026532175]", "", "/proc")
                .find("not in the host's PID namespace (pid:[4026532175]"),
            std::string::npos);
  EXPECT_NE(PidNamespaceProblem("", "", "/proc").find("cannot read"), std::string::npos);
  EXPECT_EQ(PidNamespaceProblem("pid:[4026531836]", "pid:[4026532175]", "/host/proc"),
            "--proc-root /host/proc is not the host's /proc");
}

TEST(ProcStat, ParsesFieldsAfterACommandWithSpacesAndParentheses) {
  const std::string stat =
      "4242 (my (odd) cmd) S 4200 4210 4199 34816 4210 4194304 1 0 0 0 5 6 0 0 20 0 1 0 "
      "987654 1000 200 18446744073709551615";
  auto s = ParseProcStat(stat);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->ppid, 4200);
  EXPECT_EQ(s->pgrp, 4210);
  EXPECT_EQ(s->session, 4199);
  EXPECT_EQ(s->start_ticks, 987654);
  EXPECT_STREQ(s->comm.data(), "my (odd) cmd");
  auto long_name =
      ParseProcStat("1 (a-name-over-15-bytes) S 0 1 1 0 0 0 0 0 0 0 0 0 0 20 0 1 0 0 5");
  ASSERT_TRUE(long_name);  // the kernel cuts at 15 bytes; so does the copy (and it ends in NUL)
  EXPECT_STREQ(long_name->comm.data(), "a-name-over-15-");
  EXPECT_FALSE(ParseProcStat("4242 (x) S 1 2"));
  auto self = ReadProcStat(getpid());
  ASSERT_TRUE(self);
  EXPECT_EQ(self->pgrp, getpgrp());
}

}  // namespace
}  // namespace gpuledger
