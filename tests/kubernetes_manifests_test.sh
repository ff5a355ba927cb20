#!/usr/bin/env bash
# The kustomize base in deploy/kubernetes, rendered by `kubectl kustomize` and checked object by
# object: the DaemonSet (hostPID, the NVIDIA runtime class, --dry-run, --proc-root, the image of
# this version, the generated policy mounted), the headless Service on its metrics port, RBAC of
# exactly `delete` on pods, and a policy the binary accepts.
# Usage: kubernetes_manifests_test.sh PATH/TO/gpuledger SOURCE_DIR
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
command -v kubectl >/dev/null || { echo "FAIL: kubectl is not installed (scripts/setup.sh --test installs it)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kubectl kustomize "$src/deploy/kubernetes" >"$tmp/rendered.yaml" || { echo "FAIL: kubectl kustomize"; exit 1; }
version=$("$bin" --version | sed -n 's/^gpuledger \([0-9.]*\) .*/\1/p')
/usr/bin/python3 - "$tmp/rendered.yaml" "$version" "$tmp/policy.toml" <<'PY' || exit 1
import sys, yaml
rendered, version, policy_out = sys.argv[1:4]
objs = [o for o in yaml.safe_load_all(open(rendered)) if o]
failed = []
def check(name, ok):
    if not ok:
        failed.append(name)
        print("FAIL:", name)
def one(kind):
    found = [o for o in objs if o["kind"] == kind]
    check(f"exactly one {kind}", len(found) == 1)
    return found[0] if found else {}
check("the kinds", sorted(o["kind"] for o in objs) == sorted(
    ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet",
     "Service"]))
for o in objs:
    if o["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
        check(f"{o['kind']} is in the gpuledger namespace", o["metadata"].get("namespace") == "gpuledger")
role = one("ClusterRole")
check("RBAC: delete on pods, nothing else",
      role.get("rules") == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]}])
binding = one("ClusterRoleBinding")
check("the binding gives the role to the guard's account",
      binding.get("roleRef", {}).get("name") == "gpuledger-guard" and
      binding.get("subjects") == [{"kind": "ServiceAccount", "name": "gpuledger-guard",
                                   "namespace": "gpuledger"}])
cm = one("ConfigMap")
cm_name = cm.get("metadata", {}).get("name", "")
check("the policy ConfigMap is named by its content", cm_name.startswith("gpuledger-guard-policy-"))
open(policy_out, "w").write(cm.get("data", {}).get("policy.toml", ""))
ds = one("DaemonSet")
pod = ds.get("spec", {}).get("template", {}).get("spec", {})
check("hostPID", pod.get("hostPID") is True)
check("the NVIDIA runtime class", pod.get("runtimeClassName") == "nvidia")
check("the guard's service account", pod.get("serviceAccountName") == "gpuledger-guard")
c = (pod.get("containers") or [{}])[0]
args = c.get("args", [])
check("it runs the guard", args[:1] == ["guard"])
check("in --dry-run", "--dry-run" in args)
check("--proc-root", "--proc-root=/proc" in args)
check("the image of this version", c.get("image") == f"ghcr.io/gpuledger/gpuledger:{version}")
vols = {v["name"]: v for v in pod.get("volumes", [])}
check("the generated policy is mounted",
      vols.get("policy", {}).get("configMap", {}).get("name") == cm_name and
      {"name": "policy", "mountPath": "/etc/gpuledger"} in c.get("volumeMounts", []))
check("the policy flag names the mounted file", "--policy=/etc/gpuledger/policy.toml" in args)
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
svc = one("Service")
check("a headless Service for the scraper", svc.get("spec", {}).get("clusterIP") == "None")
check("it selects the guard's pods", svc.get("spec", {}).get("selector") ==
      ds.get("spec", {}).get("template", {}).get("metadata", {}).get("labels"))
sp = (svc.get("spec", {}).get("ports") or [{}])[0]
check("on the metrics port", sp.get("targetPort") == "metrics" and ports.get("metrics") == 9400
      and any(a == "--metrics-listen=$(POD_IP):9400" for a in args))
print(f"{len(failed)} failed")
sys.exit(1 if failed else 0)
PY
"$bin" policy check "$tmp/policy.toml" >/dev/null || { echo "FAIL: the ConfigMap's policy is invalid"; exit 1; }
echo "the kustomize base renders and checks"
