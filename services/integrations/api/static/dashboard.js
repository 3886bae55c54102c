// The Global Brand Dashboard: a small client of the public portfolio API, no libraries.
// Every request is relative to this page (/v1/integrations/dashboard), so the page works
// through the gateway and on the service alike, and needs nothing from the internet.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const NS = "http://www.w3.org/2000/svg";
  let token = "";
  let nextCursor = null;

  function api(path, params) {
    const query = new URLSearchParams(params || {});
    const url = "portfolio/" + path + (query.toString() ? "?" + query : "");
    return fetch(url, { headers: { Authorization: "Bearer " + token, Accept: "application/json" } })
      .then((reply) => reply.json().then((body) => {
        if (!reply.ok) throw new Error(body.detail || reply.statusText);
        return body;
      }));
  }

  function svg(width, height) {
    const node = document.createElementNS(NS, "svg");
    node.setAttribute("viewBox", "0 0 " + width + " " + height);
    node.setAttribute("role", "img");
    return node;
  }

  function shape(parent, name, attributes, text) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  // Horizontal bars: rows of [label, [[value, max, colour, caption], ...]].
  function bars(target, rows) {
    const lineHeight = 16, gap = 8, labelWidth = 250, width = 760;
    const height = Math.max(1, rows.reduce((n, r) => n + r[1].length * lineHeight + gap, 0));
    const chart = svg(width, height);
    chart.setAttribute("width", String(width));
    chart.setAttribute("height", String(height));
    let y = 0;
    for (const [label, series] of rows) {
      shape(chart, "text", { x: 0, y: y + 12, "font-size": 12 }, label);
      for (const [value, max, colour, caption] of series) {
        const length = max > 0 && value !== null ? ((width - labelWidth - 200) * value) / max : 0;
        shape(chart, "rect", { x: labelWidth, y: y + 2, width: Math.max(length, 1), height: lineHeight - 4, fill: colour, class: "bar" });
        shape(chart, "text", { x: labelWidth + length + 6, y: y + 12, "font-size": 11 }, caption);
        y += lineHeight;
      }
      y += gap;
    }
    target.replaceChildren(chart);
  }

  function renderSummary(summary) {
    const c = summary.coverage;
    const share = c.share === null ? 0 : c.share;
    bars($("chart-coverage"), [
      ["Listed, in Better Work", [[c.in_better_work, c.factories, "#0b7a4b", c.in_better_work + " of " + c.factories + " (" + Math.round(share * 100) + "%)"]]],
    ]);
    const top = Math.max(1, ...summary.by_country.map((x) => x.factories));
    bars($("chart-countries"), summary.by_country.map((x) => [x.country || "unknown", [[x.factories, top, "#0b4f8a", String(x.factories)]]]));
    const cells = summary.benchmarks;
    if (cells === null) {
      $("chart-benchmarks").textContent = "Benchmarking is a partner benefit: your counts are above.";
    } else if (cells.length === 0) {
      $("chart-benchmarks").textContent = "No released assessment you may read yet.";
    } else {
      const pct = (v) => (v === null ? "withheld" : Math.round(v * 100) + "%");
      bars($("chart-benchmarks"), cells.map((cell) => [cell.country + " · " + cell.cluster, [
        [cell.portfolio_rate, 1, "#c2571a", "yours " + pct(cell.portfolio_rate) + " of " + cell.portfolio_factories],
        [cell.benchmark_rate, 1, "#8a99a8", "country " + pct(cell.benchmark_rate) + (cell.withheld ? " (under 5 factories)" : " of " + cell.benchmark_factories)],
      ]]));
    }
    $("as-of").textContent = summary.as_of || "no events yet";
    $("basis").textContent = summary.basis.factories;
    const select = $("f-country");
    for (const x of summary.by_country) {
      if (x.country && !select.querySelector('option[value="' + x.country + '"]')) {
        select.appendChild(new Option(x.country, x.country));
      }
    }
  }

  function filters() {
    const params = {};
    for (const [name, id] of [["country", "f-country"], ["status", "f-status"], ["tpa_state", "f-tpa"]]) {
      if ($(id).value) params[name] = $(id).value;
    }
    if ($("f-overdue").checked) params.overdue = "true";
    return params;
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (className) td.className = className;
  }

  function renderRows(page, append) {
    const body = $("factories").tBodies[0];
    if (!append) body.replaceChildren();
    for (const f of page.items) {
      const row = body.insertRow();
      row.dataset.factoryId = f.factory_id;
      cell(row, f.name || f.factory_id);
      cell(row, f.country);
      cell(row, f.os_id);
      cell(row, f.enrolment_status);
      cell(row, f.eligibility_status);
      cell(row, f.tpa_state);
      cell(row, f.current_cycle);
      cell(row, f.overdue ? "yes" : "no", f.overdue ? "bad" : "");
      cell(row, f.improvement_items_overdue, f.improvement_items_overdue ? "bad" : "");
      const findings = f.noncompliant_by_cluster;
      cell(row, findings ? Object.entries(findings).map(([k, v]) => k + ": " + v).join("; ") || "none" : null);
      cell(row, f.findings_basis);
    }
    nextCursor = page.next_cursor;
    $("more").hidden = !nextCursor;
    $("row-count").textContent = String(body.rows.length);
  }

  function loadRows(append) {
    const params = Object.assign(filters(), { limit: "100" });
    if (append && nextCursor) params.cursor = nextCursor;
    return api("factories", params).then((page) => renderRows(page, append));
  }

  function status(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  function show() {
    status("Loading…");
    return Promise.all([api("summary").then(renderSummary), loadRows(false)])
      .then(() => { $("content").hidden = false; status(""); document.body.dataset.ready = "true"; })
      .catch((error) => status(error.message, true));
  }

  function exportCsv() {
    const query = new URLSearchParams(filters());
    fetch("portfolio/factories/export.csv?" + query, { headers: { Authorization: "Bearer " + token } })
      .then((reply) => reply.blob())
      .then((blob) => {
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = "portfolio.csv";
        link.click();
      });
  }

  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    token = $("token").value.trim();
    sessionStorage.setItem("bw-token", token);
    show();
  });
  $("filters").addEventListener("change", () => {
    document.body.dataset.ready = "false";
    loadRows(false).then(() => { document.body.dataset.ready = "true"; })
      .catch((error) => status(error.message, true));
  });
  $("more").addEventListener("click", () => loadRows(true));
  $("export").addEventListener("click", exportCsv);

  // A token in the address's fragment (never sent to a server) or kept in this tab.
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  token = fromHash || sessionStorage.getItem("bw-token") || "";
  if (fromHash) history.replaceState(null, "", location.pathname);
  if (token) { $("token").value = token; show(); }
})();
