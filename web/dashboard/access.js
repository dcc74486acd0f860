/* kpi dashboard: access (SPEC §8, §9). Loaded before app.js, it gives it
 * kpiAccess.fetch (every request of the page, with the token), and
 * kpiAccess.showImage (charts: an <img src> cannot carry a header).
 *
 * When the data directory has tokens, the page asks for one in a small
 * dialog and keeps it in sessionStorage: for this tab only, gone when the
 * tab closes. GET /api/v1/whoami tells, without a token, only whether the
 * server needs one, and with a token its name, role and teams; a write
 * token gets the upload of a CSV file (POST /api/v1/imports). A 401 on any
 * request (a token revoked or expired meanwhile) forgets the token and asks
 * again with the server's reason. Without tokens nothing changes: no
 * dialog, plain URLs for the charts and the review.
 *
 * As in app.js, all text goes through textContent: nothing from the server
 * or the uploaded file is ever parsed as HTML. */
"use strict";

const kpiAccess = (() => {
  const KEY = "kpi.token";
  let token = null; /* the secret, or null */
  let me = null; /* the whoami document of the token in use */
  let ready = null; /* promise: the page may ask the server */
  let asking = null; /* promise of the dialog being shown, if any */
  const imageUrls = new WeakMap(); /* <img> -> the object URL it shows */
  const imageWanted = new WeakMap(); /* <img> -> the URL last asked for it */

  try {
    token = sessionStorage.getItem(KEY);
  } catch (_) {
    token = null; /* storage disabled: ask on every load */
  }

  function make(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function remember(t) {
    token = t;
    try {
      if (t) sessionStorage.setItem(KEY, t);
      else sessionStorage.removeItem(KEY);
    } catch (_) {
      /* kept in memory only */
    }
  }

  function withToken(headers) {
    const h = Object.assign({}, headers || {});
    if (token) h.Authorization = "Bearer " + token;
    return h;
  }

  /* The error message of a JSON error answer, or fallback. */
  async function reasonOf(res, fallback) {
    try {
      const body = await res.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (_) {
      /* not JSON */
    }
    return fallback;
  }

  /* ------------------------------------------------------ the token dialog */

  function tokenDialog() {
    let d = document.getElementById("token-dialog");
    if (d) return d;
    d = make("dialog", { id: "token-dialog", "aria-labelledby": "token-title" });
    const form = make("form", { id: "token-form" });
    form.appendChild(make("h2", { id: "token-title" }, "This server needs an access token"));
    form.appendChild(make("p", { id: "token-reason", class: "muted", role: "alert" }));
    const label = make("label", { for: "token-input" }, "Token");
    const input = make("input", {
      id: "token-input",
      type: "password",
      autocomplete: "off",
      spellcheck: "false",
      required: "",
      placeholder: "kpi_…",
    });
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(
      make("p", { class: "muted small" }, "Kept for this browser tab only (sessionStorage).")
    );
    form.appendChild(make("button", { type: "submit", id: "token-submit" }, "Sign in"));
    d.appendChild(form);
    d.addEventListener("cancel", (e) => e.preventDefault()); /* Escape: no way around it */
    document.body.appendChild(d);
    return d;
  }

  /* Show the dialog with reason; resolves once a token is entered. */
  function ask(reason) {
    if (asking) {
      document.getElementById("token-reason").textContent = reason;
      return asking;
    }
    const d = tokenDialog();
    document.getElementById("token-reason").textContent = reason;
    const input = document.getElementById("token-input");
    input.value = "";
    asking = new Promise((resolve) => {
      const form = document.getElementById("token-form");
      const submit = (e) => {
        e.preventDefault();
        const t = input.value.trim();
        if (!t) return;
        form.removeEventListener("submit", submit);
        d.close();
        asking = null;
        remember(t);
        resolve();
      };
      form.addEventListener("submit", submit);
    });
    if (!d.open) d.showModal();
    input.focus();
    return asking;
  }

  /* ------------------------------------------------------------ whoami */

  /* Ask /api/v1/whoami until the page may read: the directory is open, or
   * the token is known. Then show who is signed in (and the upload). */
  async function settle() {
    for (;;) {
      const res = await fetch("/api/v1/whoami", { headers: withToken(), cache: "no-store" });
      if (res.status === 401) {
        remember(null);
        await ask(await reasonOf(res, "this token is not valid"));
        continue;
      }
      if (!res.ok) throw new Error(await reasonOf(res, res.statusText));
      const doc = await res.json();
      if (doc.tokens && !doc.name) {
        await ask("Enter your token (kpi token add prints it).");
        continue;
      }
      me = doc;
      showIdentity();
      return;
    }
  }

  function whenReady() {
    if (!ready)
      ready = settle().catch((e) => {
        ready = null; /* try again at the next request */
        throw e;
      });
    return ready;
  }

  /* GET or POST url with the token: the fetch of every request of the page.
   * A 401 forgets the token, asks for another, and sends again. */
  async function authFetch(url, init) {
    await whenReady();
    for (;;) {
      const opts = Object.assign({}, init || {});
      opts.headers = withToken(opts.headers);
      const res = await fetch(url, opts);
      if (res.status !== 401 || !me || !me.tokens) return res;
      remember(null);
      me = null;
      ready = null;
      hideIdentity();
      await ask(await reasonOf(res, "this token is not valid any more"));
      await whenReady();
    }
  }

  /* ------------------------------------------------- identity and upload */

  function identityNode() {
    let span = document.getElementById("identity");
    if (span) return span;
    span = make("span", { id: "identity", class: "muted" });
    const header = document.querySelector("header");
    header.appendChild(span);
    return span;
  }

  function hideIdentity() {
    const span = document.getElementById("identity");
    if (span) span.hidden = true;
  }

  function showIdentity() {
    if (!me || !me.tokens) return; /* open directory: the page as before */
    const span = identityNode();
    while (span.firstChild) span.removeChild(span.firstChild);
    span.hidden = false;
    const scope = me.teams.length ? ` · ${me.teams.join(", ")}` : "";
    span.appendChild(make("span", { id: "identity-name" }, `${me.name} (${me.role}${scope})`));
    if (me.role === "write") {
      const up = make("button", { type: "button", id: "upload-open" }, "Upload CSV");
      up.addEventListener("click", openUpload);
      span.appendChild(up);
    }
    const out = make("button", { type: "button", id: "sign-out" }, "Sign out");
    out.addEventListener("click", () => {
      remember(null);
      location.reload();
    });
    span.appendChild(out);
  }

  const CHOICES = {
    kind: [
      ["", "detect"],
      ["observations", "observations"],
      ["targets", "targets"],
      ["teams", "teams (catalog)"],
      ["indicators", "indicators (catalog)"],
    ],
    delimiter: [
      ["", "detect"],
      [";", "; (semicolon)"],
      [",", ", (comma)"],
      ["tab", "tab"],
    ],
    decimal: [
      ["", "detect"],
      [",", ", (comma)"],
      [".", ". (point)"],
    ],
    encoding: [
      ["", "detect"],
      ["utf-8", "UTF-8"],
      ["cp1252", "Windows-1252 (Excel)"],
    ],
    on_error: [
      ["abort", "write nothing"],
      ["skip", "skip bad rows"],
    ],
  };

  function field(form, label, control) {
    const row = make("label", { class: "field" });
    row.appendChild(make("span", {}, label));
    row.appendChild(control);
    form.appendChild(row);
  }

  function select(name) {
    const s = make("select", { id: `upload-${name.replace("_", "-")}`, name });
    for (const [value, text] of CHOICES[name]) s.appendChild(make("option", { value }, text));
    return s;
  }

  function uploadDialog() {
    let d = document.getElementById("upload-dialog");
    if (d) return d;
    d = make("dialog", { id: "upload-dialog", "aria-labelledby": "upload-title" });
    const form = make("form", { id: "upload-form" });
    form.appendChild(make("h2", { id: "upload-title" }, "Upload a CSV file"));
    field(
      form,
      "File",
      make("input", { id: "upload-file", type: "file", accept: ".csv,.txt,text/csv", required: "" })
    );
    field(form, "Kind", select("kind"));
    field(form, "Delimiter", select("delimiter"));
    field(form, "Decimal mark", select("decimal"));
    field(form, "Encoding", select("encoding"));
    field(form, "Team (files without a team column)", make("input", { id: "upload-team", name: "team" }));
    field(form, "Indicator (files without one)", make("input", { id: "upload-kpi", name: "kpi" }));
    field(form, "Date format (e.g. %d.%m.%Y)", make("input", { id: "upload-date-format", name: "date_format" }));
    field(form, "On a bad row", select("on_error"));
    const flags = make("p", { class: "flags" });
    for (const [id, name, text] of [
      ["upload-strict", "strict", "strict"],
      ["upload-dry-run", "dry_run", "dry run (check only, write nothing)"],
    ]) {
      const l = make("label");
      l.appendChild(make("input", { id, name, type: "checkbox" }));
      l.appendChild(document.createTextNode(" " + text));
      flags.appendChild(l);
    }
    form.appendChild(flags);
    const buttons = make("p", { class: "buttons" });
    buttons.appendChild(make("button", { type: "submit", id: "upload-submit" }, "Upload"));
    const close = make("button", { type: "button", id: "upload-close" }, "Close");
    close.addEventListener("click", () => d.close());
    buttons.appendChild(close);
    form.appendChild(buttons);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      upload(form);
    });
    d.appendChild(form);
    d.appendChild(make("div", { id: "upload-result", "aria-live": "polite" }));
    document.body.appendChild(d);
    return d;
  }

  function openUpload() {
    const d = uploadDialog();
    if (!d.open) d.showModal();
  }

  const SUMMARY = [
    ["file", "file"],
    ["rows", "rows"],
    ["new", "new values"],
    ["corrected", "corrected"],
    ["unchanged", "unchanged"],
    ["empty", "empty"],
    ["rejected", "rejected"],
    ["series", "series"],
    ["new_teams", "new teams"],
    ["new_indicators", "new indicators"],
    ["commit", "commit"],
  ];

  function showSummary(box, s, title) {
    box.appendChild(make("h3", {}, title));
    const dl = make("dl", { id: "upload-summary" });
    for (const [key, label] of SUMMARY) {
      if (!(key in s)) continue;
      dl.appendChild(make("dt", {}, label));
      const v = s[key];
      dl.appendChild(make("dd", { "data-key": key }, v === null ? "none" : v));
    }
    box.appendChild(dl);
  }

  function showErrors(box, err) {
    box.appendChild(make("h3", { class: "upload-bad" }, err.message));
    const table = make("table", { id: "upload-errors" });
    const head = make("tr");
    for (const h of ["Line", "Column", "Problem"]) head.appendChild(make("th", {}, h));
    table.appendChild(make("thead")).appendChild(head);
    const body = make("tbody");
    for (const e of err.errors || []) {
      const tr = make("tr", { "data-line": e.line === null ? "" : e.line });
      tr.appendChild(make("td", { class: "num" }, e.line === null ? "–" : e.line));
      tr.appendChild(make("td", { class: "num" }, e.column === null ? "–" : e.column));
      tr.appendChild(make("td", {}, e.message));
      body.appendChild(tr);
    }
    table.appendChild(body);
    const wrap = make("div", { class: "scroll" });
    wrap.appendChild(table);
    box.appendChild(wrap);
  }

  async function upload(form) {
    const box = document.getElementById("upload-result");
    const file = document.getElementById("upload-file").files[0];
    if (!file) return;
    const q = new URLSearchParams();
    q.set("name", file.name);
    for (const name of ["kind", "delimiter", "decimal", "encoding", "team", "kpi", "date_format"]) {
      const v = form.elements[name].value.trim();
      if (v) q.set(name, v);
    }
    q.set("on_error", form.elements.on_error.value);
    if (form.elements.strict.checked) q.set("strict", "true");
    if (form.elements.dry_run.checked) q.set("dry_run", "true");
    while (box.firstChild) box.removeChild(box.firstChild);
    box.dataset.state = "sending";
    box.appendChild(make("p", { class: "muted" }, `Uploading ${file.name}…`));
    const submit = document.getElementById("upload-submit");
    submit.disabled = true;
    try {
      const res = await authFetch("/api/v1/imports?" + q.toString(), {
        method: "POST",
        headers: { "Content-Type": "text/csv" },
        body: file,
      });
      const doc = await res.json().catch(() => null);
      while (box.firstChild) box.removeChild(box.firstChild);
      if (res.ok && doc) {
        showSummary(box, doc, q.has("dry_run") ? "Checked (dry run): nothing written" : "Imported");
        box.dataset.state = "done";
        if (!q.has("dry_run") && typeof refresh === "function") refresh(); /* app.js */
      } else if (res.status === 422 && doc && doc.error) {
        showErrors(box, doc.error);
        if (doc.error.summary) showSummary(box, doc.error.summary, "Imported without the bad rows");
        box.dataset.state = "bad";
      } else {
        const msg = doc && doc.error ? doc.error.message : res.statusText;
        box.appendChild(make("p", { class: "upload-bad" }, `${res.status}: ${msg}`));
        box.dataset.state = "refused";
      }
    } catch (e) {
      while (box.firstChild) box.removeChild(box.firstChild);
      box.appendChild(make("p", { class: "upload-bad" }, `error: ${e.message}`));
      box.dataset.state = "refused";
    } finally {
      submit.disabled = false;
    }
  }

  /* ------------------------------------------------- charts and review */

  /* Show url in img: plainly without tokens; with one, fetched as a blob
   * and shown through an object URL (revoking the one shown before). */
  async function showImage(img, url) {
    imageWanted.set(img, url);
    if (!url) {
      img.removeAttribute("src");
      const old = imageUrls.get(img);
      if (old) URL.revokeObjectURL(old);
      imageUrls.delete(img);
      return;
    }
    await whenReady();
    if (!me || !me.tokens) {
      img.src = url;
      return;
    }
    const res = await authFetch(url, { cache: "no-store" });
    if (!res.ok) throw new Error(await reasonOf(res, `chart: ${res.status}`));
    const blob = await res.blob();
    if (imageWanted.get(img) !== url) return; /* another chart was asked meanwhile */
    const old = imageUrls.get(img);
    const obj = URL.createObjectURL(blob);
    imageUrls.set(img, obj);
    img.dataset.src = url;
    img.src = obj;
    if (old) URL.revokeObjectURL(old);
  }

  /* The review link with a token: fetched with the header and saved as a
   * file (a page opened from a blob URL would inherit this page's Content
   * Security Policy, which forbids the report's inline style). */
  async function openReview(e) {
    if (!me || !me.tokens) return; /* a plain link, as before */
    e.preventDefault();
    const link = e.currentTarget;
    const url = link.getAttribute("href");
    const res = await authFetch(url, { cache: "no-store" });
    if (!res.ok) {
      link.dataset.state = String(res.status);
      return;
    }
    const blob = await res.blob();
    const obj = URL.createObjectURL(blob);
    const a = make("a", { href: obj, download: "kpi-review.html" });
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    link.dataset.state = "saved";
    setTimeout(() => URL.revokeObjectURL(obj), 60000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const review = document.getElementById("review-link");
    if (review) review.addEventListener("click", (e) => openReview(e).catch(() => {}));
    whenReady().catch(() => {});
  });

  return {
    fetch: authFetch,
    showImage,
    get role() {
      return me ? me.role : null;
    },
  };
})();
