// Turns a folder of nvidia-smi CSV logs (as `gpuledger demo --write` writes them) into one
// OpenMetrics file of DCGM_FI_DEV_GPU_UTIL{Hostname, gpu} samples for `promtool tsdb
// create-blocks-from openmetrics`. Used by bench/prometheus_rollup_bench.sh.
// node bench/smi_to_openmetrics.mjs TELEMETRY_DIR OUT.om
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const [dir, outPath] = process.argv.slice(2);
const out = createWriteStream(outPath);
out.write("# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n");
// OpenMetrics wants one series' samples together: collect per series, then write.
for (const file of readdirSync(dir).filter((f) => f.endsWith(".csv")).sort()) {
  const host = path.basename(file, ".csv");
  const series = new Map();
  const lines = readFileSync(path.join(dir, file), "utf8").split("\n");
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const [ts, gpu, , util] = line.split(", ");
    const t = Date.parse(ts.replace(/\//g, "-").replace(" ", "T") + "Z") / 1000;
    if (!series.has(gpu)) series.set(gpu, []);
    series.get(gpu).push(`DCGM_FI_DEV_GPU_UTIL{Hostname="${host}",gpu="${gpu}"} ${parseFloat(util)} ${t}\n`);
  }
  for (const rows of series.values()) out.write(rows.join(""));
}
out.end("# EOF\n");
