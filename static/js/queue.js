/* Waypoint review queue: keyboard shortcuts, inline details and the detail charts.
 * Everything here is an enhancement: without it the page still works with plain links and form posts. */
(function () {
  "use strict";

  // A refused decision (409), a guardrail that needs an answer (403 for a marketer facing a block)
  // and an invalid form (422) all come back as the redrawn row: show it instead of dropping it.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "40[39]", swap: true, error: false },
    { code: "422", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
    { code: "...", swap: false },
  ];

  var currentId = null;
  // Single-key shortcuts are on unless the reviewer switched them off (WCAG 2.1.4); remembered in this browser.
  var SHORTCUTS_OFF = "waypoint.shortcuts-off";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tbody.proposal"));
  }

  function setCurrent(row, focus) {
    rows().forEach(function (r) { r.classList.toggle("current", r === row); });
    if (!row) { currentId = null; return; }
    currentId = row.id;
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function current() {
    var row = currentId && document.getElementById(currentId);
    return row || null;
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    // From the row that has focus (the reviewer may have tabbed into another one), else the current one.
    var focused = document.activeElement && document.activeElement.closest("tbody.proposal");
    var index = all.indexOf(focused || current());
    var next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), all.length - 1);
    setCurrent(all[next], true);
  }

  function press(row, action) {
    var button = row && row.querySelector('[data-action="' + action + '"]');
    if (button) button.click();
  }

  function toggleDetail(row) {
    var link = row && row.querySelector("[data-detail-toggle]");
    if (link) link.click();
  }

  function collapse(pk) {
    var detail = document.getElementById("detail-" + pk);
    if (!detail) return;
    var hadFocus = detail.contains(document.activeElement);
    var empty = document.createElement("tr");
    empty.id = detail.id;
    empty.className = "detail";
    empty.hidden = true;
    detail.replaceWith(empty);
    var link = document.querySelector('[data-detail-toggle="' + pk + '"]');
    if (link) link.setAttribute("aria-expanded", "false");
    // "Close" sat inside the removed details: focus returns to the title that opens them, not to <body>.
    if (hadFocus && link) link.focus();
    announce("Details closed.");
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  // The one live region (base.html); the review endpoints fill it too, out of band.
  function announce(text) {
    var region = document.getElementById("announcer");
    if (region) region.textContent = text;
  }

  function shortcutsOn() {
    try { return window.localStorage.getItem(SHORTCUTS_OFF) !== "1"; } catch (error) { return true; }
  }

  function rememberShortcuts(on) {
    try {
      if (on) window.localStorage.removeItem(SHORTCUTS_OFF); else window.localStorage.setItem(SHORTCUTS_OFF, "1");
    } catch (error) { /* storage refused (private mode): the choice lasts for this page only */ }
  }

  // Letters act only with focus in the list of proposals: typing elsewhere on the page never approves anything.
  function inQueueList(target) {
    return target.closest && target.closest("table.queue") !== null;
  }

  // Esc closes an open Edit, Reject or approval question, from anywhere inside it, fields included.
  function cancelOpenPanel(target) {
    var row = (target.closest && target.closest("tbody.proposal")) || current();
    var cancel = row && row.querySelector(".panel [data-cancel]");
    if (!cancel) return false;
    cancel.click();
    return true;
  }

  function openHelp() {
    var help = document.getElementById("help");
    if (help && !help.open) help.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return; // the dialog handles Esc itself
    if (event.key === "Escape") {
      if (cancelOpenPanel(event.target)) event.preventDefault();
      return;
    }
    if (typing(event.target) || !inQueueList(event.target)) return;
    var row = event.target.closest("tbody.proposal") || current();
    if (event.key === "Enter") {
      if (event.target === row) { toggleDetail(row); event.preventDefault(); }
      return;
    }
    if (!shortcutsOn()) return;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": press(row, "approve"); break;
      case "e": press(row, "edit"); break;
      case "r": press(row, "reject"); break;
      case "o": toggleDetail(row); break;
      case "?": openHelp(); break;
      default: return;
    }
    event.preventDefault();
  });

  // Clicking a row makes it the current one, so a/e/r act on what the reviewer looks at.
  document.addEventListener("click", function (event) {
    var closeButton = event.target.closest("[data-detail-close]");
    if (closeButton) { collapse(closeButton.getAttribute("data-detail-close")); return; }
    var helpButton = event.target.closest("[data-help-open]");
    if (helpButton) { openHelp(); return; }
    var row = event.target.closest("tbody.proposal");
    if (row) setCurrent(row, false);
  });

  // A second click on an open proposal's title closes its details instead of loading them again.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.detail.elt;
    if (!link.matches || !link.matches("[data-detail-toggle]")) return;
    if (link.getAttribute("aria-expanded") === "true") {
      event.preventDefault();
      collapse(link.getAttribute("data-detail-toggle"));
    }
  });

  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-shortcuts-toggle]")) return;
    rememberShortcuts(event.target.checked);
    announce(event.target.checked ? "Single-key shortcuts on." : "Single-key shortcuts off.");
  });

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  htmx.onLoad(function (element) {
    var helpButton = document.querySelector("[data-help-open]");
    if (helpButton) helpButton.hidden = false;
    var toggle = document.querySelector("[data-shortcuts-toggle]");
    if (toggle && toggle.closest("[hidden]")) {
      toggle.checked = shortcutsOn();
      toggle.closest("[hidden]").hidden = false;
    }
    if (element.matches && element.matches("tr.detail")) {
      var pk = element.id.replace("detail-", "");
      var link = document.querySelector('[data-detail-toggle="' + pk + '"]');
      if (link) link.setAttribute("aria-expanded", "true");
    }
    if (element.matches && element.matches("tbody.proposal")) {
      if (!currentId || element.id === currentId) setCurrent(element, false);
      var first = element.querySelector(".panel input:not([type=hidden]), .panel textarea");
      // The button pressed went with the old row: focus the form that opened, or else the updated row itself.
      if (first) first.focus();
      else if (focusLost()) { setCurrent(element, false); element.focus({ preventScroll: true }); }
    }
    drawCharts(element);
  });

  // --- charts ------------------------------------------------------------------------

  var INK = "#1d2733", ACCENT = "#2457c5", MUTED = "#8a96a3", WARN = "#c27c0e", OK = "#1c7c44";

  function money(value) {
    return "$" + Number(value).toLocaleString(undefined, { maximumFractionDigits: 0 });
  }

  function interpolate(xs, ys, x) {
    for (var i = 1; i < xs.length; i++) {
      if (x <= xs[i]) {
        var t = (x - xs[i - 1]) / (xs[i] - xs[i - 1] || 1);
        return ys[i - 1] + t * (ys[i] - ys[i - 1]);
      }
    }
    return ys[ys.length - 1];
  }

  function points(xs, ys) {
    return xs.map(function (x, i) { return { x: x, y: ys[i] }; });
  }

  // The objective's own unit: dollars, or what it counts ("leads", "value points").
  function amount(value, objective) {
    if (value === null || value === undefined) return "";
    if (!objective || objective.money) return money(value);
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: 1 }) + " " + objective.unit;
  }

  // A composite's full name does not fit along an axis: it is in the legend, the axis says "objective".
  function axisName(objective) {
    return objective.label.length > 24 ? "objective" : objective.label;
  }

  function tickOf(objective) {
    return function (value) {
      if (!objective || objective.money) return money(value);
      return Number(value).toLocaleString(undefined, { maximumFractionDigits: 1 });
    };
  }

  function curveChart(canvas, item, objective) {
    var c = item.curve;
    var name = objective.label;
    return new Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: "80% band", data: points(c.spend, c.high), fill: "+1", borderWidth: 0, pointRadius: 0,
            backgroundColor: "rgba(36, 87, 197, 0.14)" },
          { label: "band low", data: points(c.spend, c.low), fill: false, borderWidth: 0, pointRadius: 0 },
          { label: "Fitted " + name + " per day", data: points(c.spend, c.value), borderColor: ACCENT,
            borderWidth: 2, pointRadius: 0, tension: 0.3 },
          { label: "Today " + money(c.from) + "/day", type: "scatter", data: [{ x: c.from, y: interpolate(c.spend, c.value, c.from) }],
            backgroundColor: INK, pointRadius: 6, pointStyle: "circle" },
          { label: "Proposed " + money(c.to) + "/day", type: "scatter", data: [{ x: c.to, y: interpolate(c.spend, c.value, c.to) }],
            backgroundColor: c.to >= c.from ? OK : WARN, pointRadius: 7, pointStyle: "rectRot" },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", title: { display: true, text: "daily spend ($)" }, ticks: { callback: money } },
          y: { title: { display: true, text: axisName(objective) + " per day" }, beginAtZero: true, ticks: { callback: tickOf(objective) } },
        },
        plugins: {
          legend: { labels: { boxWidth: 12, filter: function (entry) { return entry.text !== "band low"; } } },
        },
      },
    });
  }

  // The objective on its own (left) axis; spend and platform revenue share a dollar axis on the right, so a
  // platform that reports thousands a day no longer flattens the line being optimised.
  function trendChart(canvas, item, objective) {
    var days = item.trend;
    var pick = function (name) { return days.map(function (d) { return d[name]; }); };
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: days.map(function (d) { return d.date.slice(5); }),
        datasets: [
          { label: objective.label, data: pick("objective"), borderColor: ACCENT, backgroundColor: ACCENT, pointRadius: 0,
            borderWidth: 2, yAxisID: "objective" },
          { label: "spend ($, right)", data: pick("spend"), borderColor: MUTED, backgroundColor: MUTED, pointRadius: 0,
            borderWidth: 1.5, yAxisID: "money" },
          { label: "platform revenue ($, right)", data: pick("platform_revenue"), borderColor: WARN, backgroundColor: WARN,
            borderDash: [5, 4], pointRadius: 0, borderWidth: 1.5, yAxisID: "money" },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, spanGaps: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          objective: { position: "left", beginAtZero: true, ticks: { callback: tickOf(objective) },
                       title: { display: true, text: axisName(objective) + " per day" } },
          money: { position: "right", beginAtZero: true, ticks: { callback: money }, grid: { drawOnChartArea: false },
                   title: { display: true, text: "$ per day" } },
        },
        plugins: {
          legend: { labels: { boxWidth: 12 } },
          title: { display: true, text: "Last " + days.length + " days" },
          tooltip: { callbacks: { label: function (context) {
            var value = context.parsed.y;
            var text = context.dataset.yAxisID === "objective" ? amount(value, objective) : money(value);
            return context.dataset.label + ": " + text;
          } } },
        },
      },
    });
  }

  function drawCharts(root) {
    if (typeof Chart === "undefined") return;
    var canvases = (root.querySelectorAll ? root : document).querySelectorAll("canvas[data-chart]:not([data-drawn])");
    canvases.forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-source"));
      if (!source) return;
      var charts = JSON.parse(source.textContent);
      var item = charts.campaigns[Number(canvas.getAttribute("data-index"))];
      var objective = charts.objective || { label: (charts.metric || "value").replace(/_/g, " "), unit: "", money: true };
      canvas.setAttribute("data-drawn", "");
      if (canvas.getAttribute("data-chart") === "curve") curveChart(canvas, item, objective);
      else trendChart(canvas, item, objective);
    });
  }
})();
