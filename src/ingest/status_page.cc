#include "ingest/status_page.h"

namespace cistern {
namespace {

// Everything inline: the router's Content-Security-Policy allows inline script and style,
// fetches to the same origin and data: images, and nothing else. Server data reaches the DOM
// only through textContent and SVG attributes, never innerHTML.
// Query parameters: ?interval=MS (poll period, default 1000), ?window=S (chart span, default
// 300). Elements with an id are read by tests/integration/status_page_test.cc.
constexpr std::string_view kHtml = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cistern status</title>
<style>
:root {
  --bg: #f4f6f8; --card: #fff; --fg: #1b232c; --muted: #5d6b7a; --line: #dde2e8;
  --ok: #1a7f37; --bad: #c62828; --ingest: #2f6fdb; --upload: #13966a; --backlog: #d17a22;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11161c; --card: #1a2129; --fg: #e2e8ee; --muted: #93a1b1; --line: #2b3642;
    --ok: #4cc38a; --bad: #ff6b6b; --ingest: #6ea2ff; --upload: #3fcf95; --backlog: #f0a35e;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3rem 1rem;
  padding: .8rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: .8rem; margin: 0 0 .3rem; color: var(--muted); font-weight: 600;
  text-transform: uppercase; letter-spacing: .04em; }
.meta { color: var(--muted); font-size: .85rem; }
.meta b { color: var(--fg); font-weight: 600; }
main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
main.stale { opacity: .55; }  /* the figures of the last answer, while the collector is away */
.banner { margin: 1rem; padding: .7rem 1rem; border-radius: 6px; background: var(--bad);
  color: #fff; font-weight: 600; }
.grid { display: grid; gap: .75rem; margin-bottom: .75rem; }
.tiles { grid-template-columns: repeat(2, 1fr); }
@media (min-width: 640px) { .tiles { grid-template-columns: repeat(4, 1fr); } }
.charts { grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: .7rem .9rem; min-width: 0; }
.tile .v { font-size: 1.5rem; font-weight: 650; font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere; }
.chart .now { float: right; font-weight: 650; font-variant-numeric: tabular-nums; }
svg { display: block; width: 100%; height: 130px; }
svg text { fill: var(--muted); font-size: 11px; }
svg .grid-line { stroke: var(--line); stroke-width: 1; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.state { font-weight: 700; }
.state.healthy { color: var(--ok); }
.state.failing { color: var(--bad); }
pre { margin: .4rem 0 0; padding: .5rem; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--bg); border-radius: 4px; font-size: .85rem; }
form { max-width: 26rem; margin: 2rem auto; }
input { width: 100%; padding: .5rem; margin: .5rem 0; font: inherit; color: var(--fg);
  background: var(--bg); border: 1px solid var(--line); border-radius: 4px; }
button { font: inherit; padding: .4rem 1rem; }
</style>
</head>
<body>
<header>
  <h1>Cistern</h1>
  <span class="meta">node <b id="node-id">–</b></span>
  <span class="meta">mode <b id="mode">–</b></span>
  <span class="meta">updated <b id="updated">never</b></span>
</header>
<div id="banner" class="banner" role="alert" hidden></div>
<form id="login" class="card" hidden>
  <h2>Admin token required</h2>
  <p id="login-msg">This collector protects <code>/stats</code> with a bearer token
    (<code>--admin-token-file</code>).</p>
  <label for="token">Token</label>
  <input id="token" type="password" autocomplete="current-password" required>
  <button type="submit">Show status</button>
</form>
<main id="main" hidden>
  <section class="grid tiles">
    <div class="card tile"><h2>Events written</h2><div class="v" id="events-written">–</div></div>
    <div class="card tile"><h2>Backlog</h2><div class="v" id="backlog">–</div></div>
    <div class="card tile"><h2>Uploaded</h2><div class="v" id="events-uploaded">–</div></div>
    <div class="card tile"><h2>Dropped</h2><div class="v" id="events-dropped">–</div></div>
    <div class="card tile"><h2>Database</h2><div class="v" id="db-size">–</div></div>
    <div class="card tile"><h2>Commit p99</h2><div class="v" id="commit-p99">–</div></div>
    <div class="card tile"><h2>Devices seen</h2><div class="v" id="devices-seen">–</div></div>
    <div class="card tile"><h2>POST p99</h2><div class="v" id="post-p99">–</div></div>
  </section>
  <section class="grid charts">
    <div class="card chart"><h2>Ingest <span class="now" id="ingest-rate">–</span></h2>
      <svg id="chart-ingest" role="img" aria-label="ingest rate, events per second"></svg></div>
    <div class="card chart"><h2>Upload <span class="now" id="upload-rate">–</span></h2>
      <svg id="chart-upload" role="img" aria-label="upload rate, events per second"></svg></div>
    <div class="card chart"><h2>Backlog <span class="now" id="backlog-now">–</span></h2>
      <svg id="chart-backlog" role="img" aria-label="backlog, events"></svg></div>
  </section>
  <section class="card" id="uploader">
    <h2>Uploader</h2>
    <dl>
      <dt>Sink</dt><dd id="sink">–</dd>
      <dt>State</dt><dd><span class="state" id="uploader-state">–</span></dd>
      <dt>Runs / failures</dt><dd><span id="runs">–</span> / <span id="failures">–</span>
        (<span id="consecutive-failures">–</span> in a row)</dd>
      <dt>Backoff</dt><dd id="backoff">–</dd>
      <dt id="oldest-label" hidden>Oldest pending</dt><dd id="oldest-pending" hidden>–</dd>
      <dt>Last success</dt><dd id="last-success">–</dd>
      <dt>Last failure</dt><dd id="last-failure">–</dd>
    </dl>
    <h2 style="margin-top:.6rem">Last error</h2>
    <pre id="last-error">none</pre>
  </section>
  <section class="card" id="mqtt" hidden>
    <h2>MQTT listener</h2>
    <dl>
      <dt>Connections open</dt><dd id="mqtt-connections">–</dd>
      <dt>Connects / refused</dt><dd><span id="mqtt-connects">–</span> /
        <span id="mqtt-refused">–</span></dd>
      <dt>Messages / events</dt><dd><span id="mqtt-messages">–</span> /
        <span id="mqtt-events">–</span></dd>
      <dt>Acks sent</dt><dd id="mqtt-acks">–</dd>
      <dt>Rejected / dead letters</dt><dd><span id="mqtt-rejected">–</span> /
        <span id="mqtt-dead-letters">–</span></dd>
      <dt>Protocol errors</dt><dd id="mqtt-protocol-errors">–</dd>
    </dl>
  </section>
</main>
<script>
"use strict";
const params = new URLSearchParams(location.search);
const clamp = (v, lo, hi, d) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : d);
const INTERVAL = clamp(parseInt(params.get("interval"), 10), 100, 60000, 1000);
const WINDOW_MS = clamp(parseInt(params.get("window"), 10), 10, 86400, 300) * 1000;
const TOKEN_KEY = "cistern-admin-token";
const $ = (id) => document.getElementById(id);
const points = [];  // {t, ingest, upload, backlog}; rates are null across a gap or restart
let prev = null;    // {t, written, uploaded} of the previous answer
let downSince = 0;
let timer = 0;

function set(id, text) { $(id).textContent = text; }
const num = (n) => (typeof n === "number" ? Math.round(n).toLocaleString("en-US") : "–");
function rate(r) {
  if (r == null) return "–";
  return (r >= 100 ? num(r) : r.toFixed(r >= 10 ? 1 : 2)) + " ev/s";
}
function bytes(b) {
  if (typeof b !== "number") return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return (i ? b.toFixed(b >= 100 ? 0 : 1) : b) + " " + u[i];
}
function ms(v) {
  if (typeof v !== "number") return "–";
  return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) + " ms";
}
function duration(msv) {
  const s = Math.round(msv / 1000);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min" + (s % 60 ? " " + (s % 60) + " s" : "");
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
}
function when(unixMs) {
  if (!unixMs) return "never";
  const d = new Date(unixMs);
  return d.toLocaleString() + " (" + duration(Math.max(0, Date.now() - unixMs)) + " ago)";
}

function banner(text) {
  $("banner").hidden = !text;
  $("banner").textContent = text || "";
}

function showLogin(message) {
  clearTimeout(timer);
  $("main").hidden = true;
  $("login").hidden = false;
  if (message) set("login-msg", message);
  $("token").focus();
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  $("login").hidden = true;
  poll();
});

async function poll() {
  clearTimeout(timer);
  const token = sessionStorage.getItem(TOKEN_KEY);
  const ctl = new AbortController();
  const abort = setTimeout(() => ctl.abort(), Math.max(3000, 2 * INTERVAL));
  try {
    const res = await fetch("stats", {
      cache: "no-store", signal: ctl.signal,
      headers: token ? { Authorization: "Bearer " + token } : {},
    });
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      banner("");
      return showLogin(token ? "The collector rejected that token; try again." : "");
    }
    if (!res.ok) throw new Error("/stats answered HTTP " + res.status);
    const stats = await res.json();
    downSince = 0;
    banner("");
    $("main").classList.remove("stale");
    render(stats);
  } catch (err) {
    if (!downSince) downSince = Date.now();
    prev = null;  // the next rate would span the outage
    $("main").classList.add("stale");
    const why = err.name === "AbortError" ? "no answer" : err.message;
    banner("Collector unreachable for " + duration(Date.now() - downSince) + " (" + why +
           "); retrying every " + duration(Math.max(INTERVAL, 1000)) + ".");
  } finally {
    clearTimeout(abort);
  }
  if ($("login").hidden) timer = setTimeout(poll, INTERVAL);
}

function render(s) {
  const st = s.store || {}, up = s.uploader || {}, http = s.http || {};
  const now = Date.now();
  const uploaded = up.configured ? up.events_uploaded : st.events_uploaded;
  let ingest = null, upload = null;
  if (prev && now > prev.t) {
    const dt = (now - prev.t) / 1000;
    // A counter that went down means the collector restarted: no rate for that step.
    if (st.events_written >= prev.written) ingest = (st.events_written - prev.written) / dt;
    if (uploaded >= prev.uploaded) upload = (uploaded - prev.uploaded) / dt;
  }
  prev = { t: now, written: st.events_written, uploaded };
  points.push({ t: now, ingest, upload, backlog: st.backlog });
  while (points.length && points[0].t < now - WINDOW_MS) points.shift();

  $("main").hidden = false;
  set("node-id", st.node_id || "–");
  set("mode", (st.mode || "–") + (st.indexed ? ", indexed" : ""));
  set("updated", new Date(now).toLocaleTimeString());
  set("events-written", num(st.events_written));
  set("backlog", num(st.backlog));
  set("events-uploaded", num(st.events_uploaded));
  set("events-dropped", num(st.events_dropped));
  set("db-size", bytes(st.db_bytes));
  set("commit-p99", ms(st.commit_latency_ms && st.commit_latency_ms.p99));
  set("devices-seen", num(st.devices_seen));
  set("post-p99", ms(http.post_latency_ms && http.post_latency_ms.p99));
  set("ingest-rate", rate(ingest));
  set("upload-rate", rate(upload));
  set("backlog-now", num(st.backlog));
  renderUploader(up);
  renderMqtt(s.mqtt);
  chart("chart-ingest", "ingest", "--ingest", now);
  chart("chart-upload", "upload", "--upload", now);
  chart("chart-backlog", "backlog", "--backlog", now);
}

function renderUploader(up) {
  const state = $("uploader-state");
  if (!up.configured) {
    set("sink", "none (--sink none: the buffer only fills)");
    state.textContent = "not configured";
    state.className = "state";
    for (const id of ["runs", "failures", "consecutive-failures", "backoff", "last-success",
                      "last-failure"]) set(id, "–");
    set("last-error", "none");
    $("oldest-label").hidden = $("oldest-pending").hidden = true;
    return;
  }
  set("sink", up.sink);
  state.textContent = up.healthy ? "healthy" : "failing";
  state.className = "state " + (up.healthy ? "healthy" : "failing");
  set("runs", num(up.runs));
  set("failures", num(up.failures));
  set("consecutive-failures", num(up.consecutive_failures));
  set("backoff", up.backoff_ms ? "waiting " + ms(up.backoff_ms) + " before retrying" : "none");
  const hasAge = typeof up.oldest_pending_age_ms === "number";
  $("oldest-label").hidden = $("oldest-pending").hidden = !hasAge;
  if (hasAge) set("oldest-pending", duration(up.oldest_pending_age_ms));
  set("last-success", when(up.last_success_at));
  set("last-failure", when(up.last_failure_at));
  set("last-error", up.last_error == null ? "none" : String(up.last_error));
}

// The MQTT listener's figures, when it runs (/stats has "mqtt" only then).
function renderMqtt(m) {
  $("mqtt").hidden = !m;
  if (!m) return;
  set("mqtt-connections", num(m.connections));
  set("mqtt-connects", num(m.connects));
  set("mqtt-refused", num(m.refused_auth));
  set("mqtt-messages", num(m.messages));
  set("mqtt-events", num(m.events));
  set("mqtt-acks", num(m.acks));
  set("mqtt-rejected", num(m.rejected));
  set("mqtt-dead-letters", num(m.dead_letters));
  set("mqtt-protocol-errors", num(m.protocol_errors));
}

// The SVG namespace, taken from the page's own <svg> so that no URL appears in the page.
const SVG = document.querySelector("svg").namespaceURI;
function el(parent, name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text != null) e.textContent = text;
  parent.appendChild(e);
  return e;
}

// A line and area chart of points[key] over the window, drawn at the SVG's pixel size.
function chart(id, key, colorVar, now) {
  const svg = $(id);
  const W = Math.max(200, svg.clientWidth || 300), H = 130;
  const L = 44, R = 6, T = 8, B = 18;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.replaceChildren();
  const color = getComputedStyle(document.documentElement).getPropertyValue(colorVar).trim();
  let max = 0;
  for (const p of points) if (p[key] != null) max = Math.max(max, p[key]);
  max = niceCeil(max);
  const x = (t) => L + (W - L - R) * (1 - (now - t) / WINDOW_MS);
  const y = (v) => T + (H - T - B) * (1 - v / max);
  for (const f of [0, 0.5, 1]) {
    el(svg, "line", { class: "grid-line", x1: L, x2: W - R, y1: y(max * f), y2: y(max * f) });
    el(svg, "text", { x: L - 4, y: y(max * f) + 4, "text-anchor": "end" },
       f === 0 ? "0" : compact(max * f));
  }
  el(svg, "text", { x: L, y: H - 4 }, "-" + duration(WINDOW_MS));
  el(svg, "text", { x: W - R, y: H - 4, "text-anchor": "end" }, "now");
  // One polyline per run of known values; a null (outage, restart) breaks the line.
  let run = [];
  const flush = () => {
    if (run.length > 1) {
      const line = run.map((p) => x(p.t).toFixed(1) + "," + y(p[key]).toFixed(1)).join(" ");
      const base = y(0).toFixed(1);
      el(svg, "polygon", { points: x(run[0].t).toFixed(1) + "," + base + " " + line + " " +
                           x(run[run.length - 1].t).toFixed(1) + "," + base,
                           fill: color, "fill-opacity": 0.15 });
      el(svg, "polyline", { points: line, fill: "none", stroke: color, "stroke-width": 2,
                            "stroke-linejoin": "round" });
    } else if (run.length === 1) {
      el(svg, "circle", { cx: x(run[0].t), cy: y(run[0][key]), r: 2.5, fill: color });
    }
    run = [];
  };
  for (const p of points) p[key] == null ? flush() : run.push(p);
  flush();
}

function niceCeil(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
function compact(v) {
  if (v >= 1e6) return +(v / 1e6).toFixed(1) + "M";
  if (v >= 1e3) return +(v / 1e3).toFixed(1) + "k";
  return String(+v.toFixed(2));
}

window.addEventListener("resize", () => {
  const now = Date.now();
  chart("chart-ingest", "ingest", "--ingest", now);
  chart("chart-upload", "upload", "--upload", now);
  chart("chart-backlog", "backlog", "--backlog", now);
});
poll();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view StatusPageHtml() { return kHtml; }

}  // namespace cistern
