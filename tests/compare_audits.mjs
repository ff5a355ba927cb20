// Compares two `gpuledger audit --format json` documents of the same fleet — the raw path and
// server-side roll-ups — category by category, in GPU-hours and dollars. Fails when the billed
// total differs or any category differs by more than MAX_GPU_HOURS.
// node tests/compare_audits.mjs RAW.json ROLLUP.json MAX_GPU_HOURS
import { readFileSync } from "node:fs";

const [rawPath, rollupPath, maxHoursText] = process.argv.slice(2);
const raw = JSON.parse(readFileSync(rawPath, "utf8"));
const rollup = JSON.parse(readFileSync(rollupPath, "utf8"));
const maxHours = Number(maxHoursText);
let worst = 0;
const pad = (s, n) => String(s).padStart(n);
console.log(`${"category".padEnd(20)} ${pad("raw GPU-h", 12)} ${pad("rollup GPU-h", 12)} ${pad("raw USD", 12)} ${pad("rollup USD", 12)}`);
for (const c of Object.keys(raw.categories)) {
  const dh = Math.abs(raw.category_gpu_hours[c] - rollup.category_gpu_hours[c]);
  worst = Math.max(worst, dh);
  console.log(`${c.padEnd(20)} ${pad(raw.category_gpu_hours[c].toFixed(4), 12)} ${pad(rollup.category_gpu_hours[c].toFixed(4), 12)} ${pad(raw.categories[c].toFixed(2), 12)} ${pad(rollup.categories[c].toFixed(2), 12)}`);
}
console.log(`below threshold: raw ${raw.cost_below_threshold_usd.toFixed(2)} USD, rollup ${rollup.cost_below_threshold_usd.toFixed(2)} USD; never used: raw ${raw.machines_never_used}, rollup ${rollup.machines_never_used}`);
const sameTotal = Math.abs(raw.cost_total_usd - rollup.cost_total_usd) < 1e-6;
const ok = sameTotal && worst <= maxHours && raw.machines_never_used === rollup.machines_never_used;
console.log(`${ok ? "ok" : "FAIL"}: largest category difference ${worst.toFixed(4)} GPU-hours (allowed ${maxHours})` +
            (sameTotal ? "" : `; billed totals differ: ${raw.cost_total_usd} vs ${rollup.cost_total_usd}`));
process.exit(ok ? 0 : 1);
