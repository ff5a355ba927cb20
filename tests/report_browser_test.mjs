// Renders a gpuledger HTML report in Debian's chromium (driven by playwright-core) and checks
// it as a reader would meet it: no console error, no network request, every chart drawn, the
// figures on the page equal to `gpuledger audit --format json` for the same inputs, no
// sideways scrolling at laptop width; keeps a screenshot and a printed PDF.
//
// node tests/report_browser_test.mjs REPORT.html AUDIT.json SCREENSHOT.png PDF [CHROMIUM]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "web", "package.json"));
const { chromium } = require("playwright-core");

const [htmlPath, auditPath, screenshotPath, pdfPath, executable = "/usr/bin/chromium"] =
  process.argv.slice(2);
const audit = JSON.parse(readFileSync(auditPath, "utf8"));
let passed = 0, failed = 0;
const failures = [];
function check(name, ok, detail = "") {
  if (ok) passed++; else failed++;
  const line = `${ok ? "ok  " : "FAIL"} ${name}${ok || !detail ? "" : ": " + detail}`;
  console.log(line);
  if (!ok) failures.push(`${path.basename(htmlPath)}: ${line}`);
}

const browser = await chromium.launch({
  executablePath: executable,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--no-first-run", "--disable-extensions"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });  // a laptop
  const errors = [], requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const started = Date.now();
  await page.goto(pathToFileURL(path.resolve(htmlPath)).href);
  await page.waitForSelector("body[data-ready='1']", { timeout: 60000 });
  console.log(`rendered in ${Date.now() - started} ms`);

  const data = await page.evaluate(() => window.GPULEDGER_REPORT);
  const charts = ["chart-categories", "chart-owners", "chart-weekly", "chart-heatmap"];
  if (data.backtest) charts.push("chart-backtest");
  if (data.reviews) charts.push("chart-reviews");
  if (data.groups) charts.push("chart-groups");
  // One burn-down per batch that paid for anything, the last six.
  if (data.credits) {
    const burning = data.credits.batches.filter((b) => b.daily.length > 0).length;
    for (let k = 0; k < Math.min(burning, 6); k++) charts.push(`chart-burn-${k}`);
  }
  for (const id of charts) {
    const inked = await page.evaluate((id) => {
      const canvas = document.querySelector(`#${id} canvas`);
      if (!canvas || canvas.width === 0 || canvas.height === 0) return -1;
      const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) n += px[i] > 0;
      return n;
    }, id);
    check(`chart ${id} drawn`, inked > 2000, `${inked} inked pixels`);
  }

  // Every tooltip of every chart opened: names from the inputs must stay text.
  const tips = await page.evaluate(() => {
    let opened = 0;
    for (const node of document.querySelectorAll(".chart")) {
      const c = echarts.getInstanceByDom(node);
      if (!c) continue;
      const option = c.getOption();
      option.series.forEach((s, si) => {
        const n = Array.isArray(s.data) ? Math.min(s.data.length, 50) : 0;
        for (let i = 0; i < n; i++) {
          c.dispatchAction({ type: "showTip", seriesIndex: si, dataIndex: i });
          opened++;
        }
      });
    }
    return opened;
  });
  await page.waitForTimeout(200);
  const pwned = await page.evaluate(() => window.__pwned);
  const injected = await page.evaluate(() =>
    document.querySelectorAll("img[src='x'], svg[onload], b[onmouseover]").length);
  check("tooltips opened", tips > 0, `${tips}`);
  check("no name ran as script", pwned === undefined, `window.__pwned = ${pwned}`);
  check("no name became an element", injected === 0, `${injected} injected elements`);
  const csp = await page.evaluate(() =>
    document.querySelector("meta[http-equiv='Content-Security-Policy']")?.content || "");
  check("page sets a restrictive Content-Security-Policy", csp.includes("default-src 'none'"), csp);

  // The figures shown equal the audit's, to the cent.
  const shown = await page.evaluate(() =>
    [...document.querySelectorAll("[data-check]")].map((e) => [e.dataset.check, e.textContent]));
  const money = (t) => Number(t.replace(/[$,\s]/g, ""));
  const cents = (v) => Math.round(v * 100) / 100;
  const machineCost = Object.fromEntries(audit.machines.map((m) => [m.name, m.cost_usd]));
  const expected = (key) => {
    if (key.startsWith("category.")) return audit.categories[key.slice(9)];
    if (key.startsWith("machine_cost.")) return machineCost[key.slice(13)];
    if (key.startsWith("team.")) return audit.teams[key.slice(5)];
    if (key.startsWith("batch_spent.")) {
      return audit.credits?.batches.find((b) => b.label === key.slice(12))?.spent_usd;
    }
    if (key === "unattributed_usd") return audit.lenses.unattributed_usd;
    if (key.startsWith("group.")) {  // --group-by: the audit's list of that key
      const by = data.groups.by;
      const list = audit[{ experiment: "experiments", run: "runs", pr: "prs", repo: "repos" }[by]];
      return list?.find((g) => g[by] === key.slice(6))?.usd;
    }
    return audit[key];
  };
  let compared = 0;
  for (const [key, text] of shown) {
    const want = expected(key);
    if (key === "held_idle_usd" && audit.lenses.held_idle_usd === null) {
      check("held idle unknown shown as unknown", text === "unknown", text);
    } else if (key === "held_idle_usd") {
      check("page held_idle_usd", Math.abs(money(text) - cents(audit.lenses.held_idle_usd)) < 0.005,
            `page ${text}, audit ${audit.lenses.held_idle_usd}`);
    } else if (key === "machines_never_used") {
      check("never-used count shown", text === `${audit.machines_never_used} of ${audit.machines_total}`, text);
    } else {
      check(`page ${key}`, want !== undefined && Math.abs(money(text) - cents(want)) < 0.005,
            `page ${text}, audit ${want}`);
    }
    compared++;
  }
  check("page shows the checked figures", compared >= 7 + 4, `${compared}`);

  // The embedded data equals the audit JSON exactly (both rounded to 4 decimals).
  check("total", data.totals.cost_total_usd === audit.cost_total_usd);
  check("below threshold", data.totals.cost_below_threshold_usd === audit.cost_below_threshold_usd);
  check("machines", data.totals.machines_total === audit.machines_total &&
        data.totals.machines_never_used === audit.machines_never_used);
  for (const p of data.practices) {
    check(`data ${p.category}`, p.cost_usd === audit.categories[p.category],
          `${p.cost_usd} vs ${audit.categories[p.category]}`);
  }
  const owners = Object.fromEntries(data.owners.map((o) => [o.owner, o.cost_usd]));
  check("owners", JSON.stringify(owners, Object.keys(owners).sort()) ===
        JSON.stringify(audit.owners, Object.keys(audit.owners).sort()));
  const neverUsed = data.never_used_machines.map((m) => m.name).sort();
  check("never-used list", JSON.stringify(neverUsed) === JSON.stringify([...audit.never_used].sort()));

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check("no sideways scroll at 1366 px", overflow <= 0, `${overflow} px too wide`);
  const spilled = await page.evaluate(() => [...document.querySelectorAll(".card")]
    .filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.querySelector("h2")?.textContent));
  check("nothing spills out of its card", spilled.length === 0, spilled.join(", "));
  check("no console errors", errors.length === 0, errors.join(" | "));
  check("no network requests", requests.length === 0, requests.join(" "));

  await page.screenshot({ path: screenshotPath, fullPage: true });
  // Printed on A4 (about 718 px between the margins): every chart as its picture, nothing cut.
  await page.setViewportSize({ width: 718, height: 1000 });
  await page.emulateMedia({ media: "print" });
  // The resize redraws every chart and each then retakes its picture: wait (with a deadline)
  // until every picture is decoded again, as a print would, rather than race the redraw.
  const settled = await page.waitForFunction(() => {
    const pictures = [...document.querySelectorAll(".print-image")];
    return pictures.length > 0 && pictures.every((i) => i.complete && i.naturalWidth > 0);
  }, null, { timeout: 30000, polling: 100 }).then(() => true, () => false);
  check("every picture decoded after the resize", settled);
  const printed = await page.evaluate(() => ({
    pictures: [...document.querySelectorAll(".print-image")].filter((i) =>
      i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0).length,
    spilled: [...document.querySelectorAll(".card")]
      .filter((c) => c.getBoundingClientRect().width > 0 && c.scrollWidth > c.clientWidth + 1)
      .map((c) => c.querySelector("h2")?.textContent),
  }));
  check("every chart prints as a picture", printed.pictures === charts.length,
        `${printed.pictures} of ${charts.length}`);
  check("nothing spills out of its card on paper", printed.spilled.length === 0,
        printed.spilled.join(", "));
  await page.pdf({ path: pdfPath, format: "A4", printBackground: true });
  check("printed", readFileSync(pdfPath).length > 10000);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
// The failures again, last, where a log cut to its tail still shows them.
for (const line of failures) console.log(line);
process.exit(failed === 0 ? 0 : 1);
