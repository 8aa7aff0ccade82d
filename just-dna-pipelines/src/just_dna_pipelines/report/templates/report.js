/* Search, filters, sort, expanders and CSV export of the report tables. Plain JS, no dependencies. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var all = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var rows = all("tr.variant");
  var search = $("f-search"), fModule = $("f-module"), fCategory = $("f-category"), fSign = $("f-sign");
  var counter = $("f-count");
  var EXPORT_COLUMNS = ["module", "category", "rsid", "gene", "genotype", "zygosity", "weight", "state", "conclusion", "pmids"];

  function detailsOf(row) {
    return row.nextElementSibling && row.nextElementSibling.classList.contains("details") ? row.nextElementSibling : null;
  }

  rows.forEach(function (row) {
    var details = detailsOf(row);
    row.searchText = (row.textContent + " " + (details ? details.textContent : "") + " " + row.dataset.pmids).toLowerCase();
  });

  function matches(row, terms) {
    if (fModule.value && row.dataset.module !== fModule.value) return false;
    if (fCategory.value && row.dataset.category !== fCategory.value) return false;
    if (fSign.value && row.dataset.sign !== fSign.value) return false;
    for (var i = 0; i < terms.length; i++) {
      if (row.searchText.indexOf(terms[i]) < 0) return false;
    }
    return true;
  }

  function apply() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row, terms);
      row.parentNode.hidden = !ok; /* the row's <tbody> holds it and its details */
      if (ok) shown++;
    });
    all("table.variants").forEach(function (table) {
      var any = table.querySelector("tbody.pair:not([hidden])") !== null;
      table.classList.toggle("nomatch", !any);
      var msg = table.parentNode.querySelector(".nomatch-msg");
      if (msg) msg.hidden = any;
    });
    counter.textContent = shown + " of " + rows.length + " variants shown";
  }

  function toggle(button, open) {
    var details = $(button.getAttribute("aria-controls"));
    if (open === undefined) open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.title = open ? "Hide the details" : "Show the details";
    if (details) details.classList.toggle("collapsed", !open);
  }

  function cellValue(row, index) {
    var cell = row.cells[index];
    return cell ? (cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent.trim()) : "";
  }

  function sortTable(button) {
    var th = button.closest("th"), table = button.closest("table");
    var index = Number(button.dataset.sort), numeric = button.dataset.numeric === "1";
    var descending = th.getAttribute("aria-sort") === "ascending";
    all("th[aria-sort]", table).forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var bodies = all("tbody.pair", table);
    bodies.sort(function (a, b) {
      var x = cellValue(a.rows[0], index), y = cellValue(b.rows[0], index);
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
      return descending ? -order : order;
    });
    bodies.forEach(function (body) { table.appendChild(body); });
  }

  function csvField(value) {
    var text = String(value == null ? "" : value);
    /* Keep spreadsheet programs from running text as a formula; plain numbers stay as they are. */
    if (/^[=+\-@\t\r]/.test(text) && isNaN(Number(text))) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function exportCsv() {
    var lines = [EXPORT_COLUMNS.join(",")];
    rows.forEach(function (row) {
      if (row.parentNode.hidden) return;
      var record = { module: row.dataset.module, category: row.dataset.category, pmids: row.dataset.pmids };
      all("td[data-col]", row).forEach(function (cell) { record[cell.dataset.col] = cell.dataset.v; });
      lines.push(EXPORT_COLUMNS.map(function (c) { return csvField(record[c]); }).join(","));
    });
    var blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "variants_shown.csv";
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("expander")) toggle(button);
    else if (button.classList.contains("sort")) sortTable(button);
    else if (button.id === "f-export") exportCsv();
  });
  /* Served by the app, the report runs sandboxed in an opaque origin (webui routes.py), so a link to a file beside it
     is followed without the session and refused: it says where the files are instead. */
  if (window.origin === "null" && location.protocol !== "file:") {
    all("span.files").forEach(function (span) {
      span.textContent = "Its CSV and Parquet files: under Downloads on this report's page in the app.";
    });
  }
  [search, fModule, fCategory, fSign].forEach(function (control) {
    control.addEventListener("input", apply);
    control.addEventListener("change", apply);
  });
  apply();
})();
