/* kpi dashboard: plain JavaScript, no framework, no network beyond this
 * server. Every document is polled with If-None-Match, so an unchanged
 * answer costs a 304 and no re-rendering. All text goes through
 * textContent: nothing from the data is ever parsed as HTML. */
"use strict";

const FAMILIES = ["financial", "human", "process", "customer"];
const POLL_MS = 5000;

const etags = new Map(); /* url -> ETag of the last 200 */
const bodies = new Map(); /* url -> its parsed body */
let teams = []; /* teams document, in tree order */
let selectedTeam = null;
let selectedKpi = null;
let asOf = null; /* the as-of date picked, or null: the server's */
let shownAsOf = null; /* the as-of date of the drift shown */

/* url with the picked as-of date, if any. */
function withAsOf(url) {
  if (!asOf) return url;
  return url + (url.includes("?") ? "&" : "?") + "as_of=" + encodeURIComponent(asOf);
}

/* The review report of the as-of date and the selected team (SPEC §11). */
function updateReviewLink() {
  const params = new URLSearchParams();
  const date = asOf || shownAsOf;
  if (date) params.set("as_of", date);
  if (selectedTeam) params.set("team", selectedTeam);
  const q = params.toString();
  document.getElementById("review-link").href = "/api/v1/review.html" + (q ? "?" + q : "");
}

/* GET url as JSON. Resolves to {changed, body}; changed is false on a 304. */
async function getJSON(url) {
  const headers = {};
  if (etags.has(url)) headers["If-None-Match"] = etags.get(url);
  const res = await kpiAccess.fetch(url, { headers, cache: "no-store" }); /* access.js */
  if (res.status === 304) return { changed: false, body: bodies.get(url) };
  const body = await res.json();
  if (!res.ok) {
    const msg = body && body.error ? body.error.message : res.statusText;
    throw new Error(msg);
  }
  const tag = res.headers.get("ETag");
  if (tag) etags.set(url, tag);
  bodies.set(url, body);
  return { changed: true, body };
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function fmtNumber(v) {
  if (v === null || v === undefined) return "–";
  const a = Math.abs(v);
  const digits = a >= 1000 ? 0 : a >= 10 ? 1 : 2;
  return v.toLocaleString("en-US", { maximumFractionDigits: digits });
}

function fmtPercent(v) {
  if (v === null || v === undefined) return "–";
  return (v * 100).toFixed(1) + " %";
}

function setStatus(text) {
  document.getElementById("status").textContent = text;
}

/* ----------------------------------------------------------- team tree */

/* Teams in depth-first order (roots first, children by id), with depth. */
function treeOrder(doc) {
  const byId = new Map(doc.teams.map((t) => [t.id, t]));
  const out = [];
  const visit = (t, depth) => {
    out.push({ team: t, depth });
    for (const c of t.children) if (byId.has(c)) visit(byId.get(c), depth + 1);
  };
  for (const t of doc.teams) if (t.parent === null || !byId.has(t.parent)) visit(t, 0);
  return out;
}

function renderTree(doc) {
  const byId = new Map(doc.teams.map((t) => [t.id, t]));
  const root = document.getElementById("tree");
  clear(root);
  const build = (t, ul) => {
    const li = el("li", { "data-team": t.id });
    const b = el("button", { type: "button", "data-team": t.id, title: t.id }, t.name);
    if (t.id === selectedTeam) b.setAttribute("aria-current", "true");
    b.addEventListener("click", () => selectTeam(t.id));
    li.appendChild(b);
    if (t.children.length) {
      const sub = el("ul");
      for (const c of t.children) if (byId.has(c)) build(byId.get(c), sub);
      li.appendChild(sub);
    }
    ul.appendChild(li);
  };
  for (const t of doc.teams) if (t.parent === null || !byId.has(t.parent)) build(t, root);
}

/* ------------------------------------------------------------ heat map */

/* Green at 0 drift to red at 0.3 and beyond. */
function driftColour(d) {
  const x = Math.max(0, Math.min(1, d / 0.3));
  return `hsl(${Math.round(130 * (1 - x))}, 65%, 40%)`;
}

function heatCell(teamId, family, value) {
  const td = el("td", { class: "cell", "data-team": teamId, "data-family": family });
  if (value === null || value === undefined) {
    td.classList.add("none");
    td.title = `${teamId} · ${family}: no indicator with a target`;
    td.textContent = "·";
  } else {
    td.style.background = driftColour(value);
    td.title = `${teamId} · ${family}: drift ${fmtPercent(value)}`;
    td.textContent = fmtPercent(value);
  }
  td.addEventListener("click", () => selectTeam(teamId));
  return td;
}

function renderHeatmap(drift) {
  const table = document.getElementById("heatmap");
  const head = table.tHead;
  const body = table.tBodies[0];
  clear(head);
  clear(body);
  const hr = el("tr");
  hr.appendChild(el("th", {}, "Team"));
  for (const f of FAMILIES) hr.appendChild(el("th", {}, f));
  hr.appendChild(el("th", {}, "all"));
  head.appendChild(hr);
  const byTeam = new Map(drift.teams.map((t) => [t.team, t]));
  for (const { team, depth } of teams) {
    const d = byTeam.get(team.id);
    if (!d) continue;
    const tr = el("tr", { "data-team": team.id });
    const th = el("th", { class: "team", scope: "row", title: team.id }, team.name);
    th.style.paddingLeft = `${0.4 + depth * 0.9}rem`;
    th.addEventListener("click", () => selectTeam(team.id));
    tr.appendChild(th);
    for (const f of FAMILIES) tr.appendChild(heatCell(team.id, f, d.families[f]));
    tr.appendChild(heatCell(team.id, "all", d.drift));
    body.appendChild(tr);
  }
  document.getElementById("as-of").textContent = `as of ${drift.as_of}`;
  const picker = document.getElementById("as-of-input");
  if (!asOf && document.activeElement !== picker) picker.value = drift.as_of;
  shownAsOf = drift.as_of;
  updateReviewLink();
}

/* -------------------------------------------------------------- alerts */

function renderAlerts(doc) {
  const ul = document.getElementById("alerts");
  clear(ul);
  for (const a of doc.alerts) {
    const li = el("li", { class: a.severity, "data-id": a.id, "data-team": a.team });
    li.appendChild(el("span", { class: "message" }, a.message));
    const since = a.since ? ` · since ${a.since}` : "";
    li.appendChild(el("span", { class: "meta" }, `${a.severity} · ${a.kind} · ${a.team}${since}`));
    if (a.note) li.appendChild(el("span", { class: "note" }, a.note));
    li.addEventListener("click", () => selectTeam(a.team, a.kpi));
    ul.appendChild(li);
  }
  document.getElementById("alert-count").textContent = `(${doc.alerts.length})`;
}

/* --------------------------------------------------------- team detail */

const ARROWS = { improving: "↗", worsening: "↘", flat: "→" };

function trendCell(trend) {
  if (!trend) return el("td", {}, "–");
  const arrow = trend.slope > 0 ? "↑" : trend.slope < 0 ? "↓" : "→";
  const td = el("td", { class: trend.direction, title: `${trend.direction}, ${fmtNumber(trend.slope)} per period` });
  td.textContent = `${arrow} ${trend.direction}`;
  return td;
}

function chartUrl(team, kpi) {
  const width = Math.max(200, Math.min(2000, Math.round(document.getElementById("team-detail").clientWidth - 40)));
  return `/api/v1/teams/${encodeURIComponent(team)}/kpis/${encodeURIComponent(kpi)}/graph.svg?width=${width}&height=250`;
}

function showChart(kpi) {
  selectedKpi = kpi;
  const img = document.getElementById("chart");
  for (const tr of document.querySelectorAll("#indicators tbody tr"))
    tr.setAttribute("aria-selected", String(tr.dataset.kpi === kpi));
  if (!kpi) {
    kpiAccess.showImage(img, null);
    img.alt = "";
    document.getElementById("chart-caption").textContent = "";
    return;
  }
  img.alt = `${kpi} of ${selectedTeam}: actual against target`;
  kpiAccess.showImage(img, chartUrl(selectedTeam, kpi)).catch((e) => setStatus(`error: ${e.message}`));
  document.getElementById("chart-caption").textContent = `${kpi}: actual against target`;
  showNotes(selectedTeam, kpi).catch((e) => setStatus(`error: ${e.message}`));
}

/* ---------------------------------------------------------------- notes */

/* The notes of the series on the chart (SPEC §11), newest first, in full:
 * the chart marks their periods and shows only their first lines. */
async function showNotes(team, kpi) {
  const list = document.getElementById("chart-notes");
  if (!kpi) {
    clear(list);
    return;
  }
  const url = withAsOf(`/api/v1/teams/${encodeURIComponent(team)}/kpis/${encodeURIComponent(kpi)}/series`);
  const { body } = await getJSON(url);
  if (team !== selectedTeam || kpi !== selectedKpi) return; /* another chart meanwhile */
  clear(list);
  const noted = (body.points || []).filter((p) => p.note).reverse();
  for (const p of noted) {
    const li = el("li", { "data-period": p.period });
    li.appendChild(el("span", { class: "period" }, p.period));
    li.appendChild(el("span", { class: "note" }, p.note));
    list.appendChild(li);
  }
}

function renderDetail(doc) {
  const body = document.querySelector("#indicators tbody");
  clear(body);
  for (const it of doc.indicators) {
    const tr = el("tr", { "data-kpi": it.kpi });
    const name = el("td", { title: it.family || "no family" }, it.kpi);
    if (it.note) name.appendChild(el("span", { class: "noted", title: it.note }, " ✎"));
    tr.appendChild(name);
    tr.appendChild(el("td", { class: `status ${it.status}` }, it.status.replace("_", " ")));
    tr.appendChild(trendCell(it.trend));
    tr.appendChild(el("td", { class: "num" }, fmtNumber(it.actual)));
    tr.appendChild(el("td", { class: "num" }, fmtNumber(it.target)));
    tr.appendChild(el("td", { class: "num" }, fmtPercent(it.gap)));
    tr.addEventListener("click", () => showChart(it.kpi));
    body.appendChild(tr);
  }
  const kpis = doc.indicators.map((i) => i.kpi);
  showChart(kpis.includes(selectedKpi) ? selectedKpi : kpis[0] || null);
}

async function refreshDetail() {
  if (!selectedTeam) return;
  const url = withAsOf(`/api/v1/teams/${encodeURIComponent(selectedTeam)}/trends`);
  const { changed, body } = await getJSON(url);
  if (changed) renderDetail(body);
}

async function selectTeam(id, kpi) {
  selectedTeam = id;
  history.replaceState(null, "", `#team=${encodeURIComponent(id)}`); /* a bookmarkable view */
  selectedKpi = kpi || null;
  for (const b of document.querySelectorAll("#tree button"))
    b.setAttribute("aria-current", String(b.dataset.team === id));
  const team = teams.find((t) => t.team.id === id);
  document.getElementById("team-name").textContent = team ? team.team.name : id;
  document.getElementById("team-detail").hidden = false;
  const url = withAsOf(`/api/v1/teams/${encodeURIComponent(id)}/trends`);
  etags.delete(url); /* render it now even if unchanged since last time */
  updateReviewLink();
  try {
    await refreshDetail();
  } catch (e) {
    setStatus(`error: ${e.message}`);
  }
}

/* ------------------------------------------------------------- polling */

async function refresh() {
  try {
    const t = await getJSON("/api/v1/teams");
    if (t.changed) {
      teams = treeOrder(t.body);
      renderTree(t.body);
      etags.delete(withAsOf("/api/v1/drift")); /* re-render the rows in the new order */
    }
    const d = await getJSON(withAsOf("/api/v1/drift"));
    if (d.changed) renderHeatmap(d.body);
    const a = await getJSON(withAsOf("/api/v1/alerts"));
    if (a.changed) renderAlerts(a.body);
    await refreshDetail();
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    setStatus(`error: ${e.message}`);
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, POLL_MS);
}

/* A date picked: every answer of that date, rendered now. */
async function pickAsOf(value) {
  asOf = value || null;
  etags.clear();
  bodies.clear();
  updateReviewLink();
  await refresh();
}

async function start() {
  document.getElementById("as-of-input").addEventListener("change", (e) => pickAsOf(e.target.value));
  await refresh();
  const m = /team=([^&]+)/.exec(location.hash);
  if (m) await selectTeam(decodeURIComponent(m[1]));
  setTimeout(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
