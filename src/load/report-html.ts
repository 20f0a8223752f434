/**
 * The load report as one self-contained HTML file: verdict and totals on top, then charts of the
 * send rate, the aggregated rate at the sink, each node's CPU and the leader of each shard set
 * over time, with the chaos steps as marked spans on the same time axis, and the steps' table.
 * uPlot (a kept chart library) is inlined from node_modules: the page fetches nothing.
 *
 * The page writes what each chart plotted into `<pre id="plotted">` (JSON: per chart, per series,
 * the number of points drawn), so a headless browser can check every chart drew its data.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LoadTimeline } from "./chaos";

/** What the page shows of a load report (run.ts's LoadReport has all of it). */
export interface HtmlReportInput {
  clusterId: string;
  nodes: number;
  options: { m3Version: string };
  sent: number;
  sendMs: number;
  sendRatePerSec: number;
  verified: boolean;
  ok: boolean;
  expectedCounterTotal: number;
  observedCounterTotal: number | null;
  lost: number | null;
  duplicates: number | null;
  conflicts: number | null;
  settleMs: number | null;
  aggregatorCpuSeconds: number | null;
  aggregators: Array<{ id: string }>;
  timeline?: LoadTimeline;
}

function uplotAsset(file: string): string {
  const main = require.resolve("uplot"); // …/uplot/dist/uPlot.cjs.js
  return fs.readFileSync(path.join(path.dirname(main), file), "utf8");
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c");

/** The HTML text of a report. */
export function renderLoadReportHtml(report: HtmlReportInput): string {
  const n = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toLocaleString("en-US"));
  const verdict = report.verified ? (report.ok ? "OK: every counter increment arrived exactly once" : `FAILED: ${n(report.lost)} counter increments lost`) : "sent only (no exact check: no sink in this process)";
  const verdictClass = report.verified ? (report.ok ? "ok" : "failed") : "unchecked";
  const totals: Array<[string, string]> = [
    ["sent", `${n(report.sent)} in ${n(report.sendMs)} ms (${n(report.sendRatePerSec)}/s)`],
    ["counter total expected", n(report.expectedCounterTotal)],
    ["counter total observed", report.verified ? n(report.observedCounterTotal) : "–"],
    ["lost", report.verified ? n(report.lost) : "–"],
    ["duplicates / conflicts", `${n(report.duplicates)} / ${n(report.conflicts)}`],
    ["settled after", report.settleMs === null ? "–" : `${n(report.settleMs)} ms`],
    ["aggregators CPU", `${report.aggregatorCpuSeconds ?? "–"} s during the send`],
  ];
  const steps = report.timeline?.steps ?? [];
  const stepRows = steps.map((s) => `<tr class="${s.ok ? "" : "bad"}"><td>${(s.atMs / 1000).toFixed(1)} s</td><td>${escapeHtml(s.do)}</td><td>${(s.startedMs / 1000).toFixed(1)}–${(s.endedMs / 1000).toFixed(1)} s</td><td>${s.ok ? "ok" : "failed"}</td><td>${escapeHtml(s.detail)}${s.undo === undefined ? "" : `; then at ${(s.undo.startedMs / 1000).toFixed(1)} s: ${escapeHtml(s.undo.detail)}${s.undo.ok ? "" : " (failed)"}`}</td></tr>`).join("\n");
  const leaderRows = (report.timeline?.leaderChanges ?? []).map((c) => `<tr><td>${(c.tMs / 1000).toFixed(1)} s</td><td>${c.shardSet}</td><td>${escapeHtml(c.leader ?? "none / several")}</td></tr>`).join("\n");
  const versions = (report.timeline?.placementVersions ?? []).map((v) => `v${v.version} at ${(v.tMs / 1000).toFixed(1)} s`).join(", ") || "–";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>m3agg load report: ${escapeHtml(report.clusterId)}</title>
<style>${uplotAsset("uPlot.min.css")}
body { font: 14px system-ui, sans-serif; margin: 16px 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 8px; }
.verdict { font-size: 18px; font-weight: 600; padding: 8px 12px; border-radius: 4px; display: inline-block; }
.ok { background: #d9f2dd; } .failed { background: #f8d4d4; } .unchecked { background: #eee; }
table { border-collapse: collapse; margin: 8px 0 16px; } td, th { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; }
tr.bad td { color: #a00; }
.chart { margin: 8px 0 20px; }
.muted { color: #777; }
#plotted { white-space: pre-wrap; word-break: break-all; font-size: 10px; color: #999; }
</style></head><body>
<h1>Load on cluster ${escapeHtml(report.clusterId)} (${report.nodes} nodes, m3 wire ${escapeHtml(report.options.m3Version)})</h1>
<div class="verdict ${verdictClass}" id="verdict">${escapeHtml(verdict)}</div>
<table id="totals">${totals.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>
<div id="charts"></div>
<h2>Chaos steps</h2>
${steps.length === 0 ? `<p class="muted">none</p>` : `<table id="steps"><tr><th>at</th><th>do</th><th>ran</th><th>outcome</th><th>detail</th></tr>${stepRows}</table>`}
<h2>Leader changes (polled once a second)</h2>
${leaderRows === "" ? `<p class="muted">none</p>` : `<table id="leaders"><tr><th>at</th><th>shard set</th><th>leader</th></tr>${leaderRows}</table>`}
<p>Placement versions: ${escapeHtml(versions)}</p>
<pre id="plotted"></pre>
<script>${uplotAsset("uPlot.iife.min.js")}</script>
<script>
const report = ${scriptJson({ timeline: report.timeline ?? null, nodes: report.aggregators.map((a) => a.id) })};
${CLIENT_SCRIPT}
</script>
</body></html>
`;
}

/** The page's own script (plain browser JavaScript; no fetch, no module loading). */
const CLIENT_SCRIPT = String.raw`
(function () {
  const t = report.timeline;
  const plotted = [];
  const out = document.getElementById("plotted");
  if (t === null || t.series.tMs.length === 0) { out.textContent = JSON.stringify({ charts: [] }); return; }
  const xs = t.series.tMs.map((ms) => ms / 1000);
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
  const nodeNumber = (id) => id === null ? null : report.nodes.indexOf(id) + 1 || null;
  // Chaos steps: a span from the step's start to its undo's end (or its own end), drawn on every chart.
  const spans = t.steps.map((s) => ({ from: s.startedMs / 1000, to: Math.max((s.undo ? s.undo.endedMs : s.endedMs) / 1000, s.startedMs / 1000 + 0.3), label: s.do + (s.ok ? "" : " (failed)") }));
  const spanPlugin = {
    hooks: {
      drawClear: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        spans.forEach((s, i) => {
          const x0 = u.valToPos(s.from, "x", true), x1 = u.valToPos(s.to, "x", true);
          ctx.fillStyle = i % 2 ? "rgba(255,160,0,0.18)" : "rgba(220,0,80,0.14)";
          ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height);
          ctx.fillStyle = "#933";
          ctx.font = (11 * devicePixelRatio) + "px sans-serif";
          ctx.fillText(s.label, x0 + 3, u.bbox.top + 12 * devicePixelRatio * (1 + (i % 3)));
        });
        ctx.restore();
      }],
    },
  };
  function chart(title, series, opts) {
    const el = document.createElement("div");
    el.className = "chart";
    el.setAttribute("data-title", title);
    document.getElementById("charts").appendChild(el);
    const record = { title: title, series: series.map((s) => ({ label: s.label, points: 0 })) };
    plotted.push(record);
    const countPlugin = { hooks: { draw: [(u) => {
      // Points plotted: data values inside the drawn area (finite pixel positions).
      series.forEach((s, i) => {
        const ys = u.data[i + 1];
        let count = 0;
        for (let k = 0; k < ys.length; k++) {
          if (ys[k] === null || ys[k] === undefined) continue;
          const px = u.valToPos(u.data[0][k], "x"), py = u.valToPos(ys[k], "y");
          if (Number.isFinite(px) && Number.isFinite(py) && px >= 0 && px <= u.bbox.width / devicePixelRatio + 1) count++;
        }
        record.series[i].points = count;
      });
      out.textContent = JSON.stringify({ charts: plotted });
    }] } };
    new uPlot({
      title: title, width: Math.min(1100, window.innerWidth - 90), height: 220,
      plugins: [spanPlugin, countPlugin],
      scales: { x: { time: false }, y: opts && opts.y ? opts.y : {} },
      axes: [{ label: "seconds since the start of the send" }, Object.assign({ size: 70 }, opts && opts.axis ? opts.axis : {})],
      series: [{ label: "t (s)" }].concat(series.map((s, i) => Object.assign({ label: s.label, stroke: colors[i % colors.length], width: 2, points: { show: xs.length < 120 } }, s.extra || {}))),
    }, [xs].concat(series.map((s) => s.data)), el);
  }
  chart("Send rate (metrics/s)", [{ label: "sent/s", data: t.series.sentPerSec }]);
  chart("Aggregated at the sink (counter increments/s, per flush)", [{ label: "observed/s", data: t.series.observedPerSec }]);
  chart("CPU per node (cores)", Object.keys(t.series.cpu).map((id) => ({ label: id, data: t.series.cpu[id] })));
  const sets = Object.keys(t.series.leaders);
  chart("Leader per shard set (node number; gap = none or several)", sets.map((id) => ({
    label: "shard set " + id, data: t.series.leaders[id].map(nodeNumber), extra: { paths: uPlot.paths.stepped({ align: 1 }) },
  })), { y: { range: [0, report.nodes.length + 1] }, axis: { size: 120, values: (u, v) => v.map((x) => Number.isInteger(x) && report.nodes[x - 1] ? report.nodes[x - 1] : "") } });
})();
`;

/** Writes the report's HTML to `file` (folders created); returns the absolute path. */
export function writeLoadReportHtml(file: string, report: HtmlReportInput): string {
  const target = path.resolve(file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, renderLoadReportHtml(report));
  return target;
}
