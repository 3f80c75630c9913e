/* Waypoint weekly override report: the three charts, drawn from the figures the page hands over in
 * #report-charts (json_script). Without JavaScript the same figures are in the tables below the charts. */
(function () {
  "use strict";

  // The Print button needs JavaScript, so it stays hidden without it (the browser's own Print works anyway).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  if (!window.Chart) return;
  const data = JSON.parse(document.getElementById("report-charts").textContent);
  const pct = (v) => (v === null ? null : Math.round(v * 1000) / 10);
  const percentAxis = { min: 0, max: 100, ticks: { callback: (v) => v + "%" } };
  new Chart(document.getElementById("chart-trend"), {
    data: {
      labels: data.trend.map((r) => r.week),
      datasets: [
        { type: "line", label: "Override rate", data: data.trend.map((r) => pct(r.rate)), yAxisID: "rate", borderColor: "#c0392b", backgroundColor: "#c0392b", spanGaps: true },
        { type: "bar", label: "Decisions", data: data.trend.map((r) => r.decisions), yAxisID: "count", backgroundColor: "#9db4e0" },
      ],
    },
    options: { maintainAspectRatio: false, animation: false, scales: { rate: { ...percentAxis, position: "left" }, count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } },
  });
  new Chart(document.getElementById("chart-decisions"), {
    type: "bar",
    data: { labels: Object.keys(data.decisions), datasets: [{ label: "Decisions", data: Object.values(data.decisions), backgroundColor: ["#2e7d32", "#f39c12", "#c0392b", "#2453c4"] }] },
    options: { maintainAspectRatio: false, animation: false, indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const rows = data.by_kind.map((r) => ["kind: " + r.key, r.rate]).concat(data.by_channel.map((r) => ["channel: " + r.key, r.rate]));
  new Chart(document.getElementById("chart-rates"), {
    type: "bar",
    data: { labels: rows.map((r) => r[0]), datasets: [{ label: "Override rate", data: rows.map((r) => pct(r[1])), backgroundColor: "#2453c4" }] },
    options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: percentAxis } },
  });
})();
