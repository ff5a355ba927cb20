#!/usr/bin/env python3
"""Writes a Kubernetes fleet's DCGM exporter text with pod labels, for the memory of pod runs.

Usage: bench/make_pod_scrapes.py DIR [MACHINES=4] [SCRAPES=50000]

A file per machine (node-M.prom), 8 GPUs, a timestamped scrape every 30 s: utilisation and
FB_USED lines per GPU, each GPU held by a pod (namespace ml, pod job-M-G-K) for 2,000 scrapes
at a time, or by none (pod="") three times in ten. Seeded: the same files every time.
"""
import os
import random
import sys


def main():
    out = sys.argv[1]
    machines = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    scrapes = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1)
    t0 = 1735689600000
    for m in range(machines):
        with open(os.path.join(out, f"node-{m}.prom"), "w") as f:
            pods = [""] * 8
            for i in range(scrapes):
                ts = t0 + i * 30000
                lines = []
                for g in range(8):
                    if i % 2000 == 0:
                        pods[g] = f"job-{m}-{g}-{i // 2000}" if rng.random() < 0.7 else ""
                    util = rng.choice([0, 3, 50, 90]) if pods[g] else 0
                    lines.append(f'DCGM_FI_DEV_GPU_UTIL{{gpu="{g}",Hostname="node-{m}",'
                                 f'namespace="ml",pod="{pods[g]}"}} {util} {ts}\n')
                for g in range(8):
                    mib = 2000 if pods[g] else 0
                    lines.append(f'DCGM_FI_DEV_FB_USED{{gpu="{g}",Hostname="node-{m}",'
                                 f'namespace="ml",pod="{pods[g]}"}} {mib} {ts}\n')
                f.write("".join(lines))


if __name__ == "__main__":
    main()
