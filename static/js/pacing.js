/* Waypoint pacing page: each monthly budget's cumulative spend this month, the pro-rated target line and the
 * projection to month end at today's budgets. The figures come from a json_script per chart; without
 * JavaScript the table and the sentence above each chart say the same. */
(function () {
  "use strict";

  if (!window.Chart) return;
  const money = (v) => "$" + Number(v).toLocaleString(undefined, { maximumFractionDigits: 0 });
  const points = (rows) => rows.map((r) => ({ x: r[0], y: r[1] }));

  document.querySelectorAll("canvas[data-pacing-chart]").forEach((canvas) => {
    const data = JSON.parse(document.getElementById(canvas.dataset.pacingChart).textContent);
    const labels = data.target.map((r) => r[0]);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          { label: "Pro-rated target", data: points(data.target), borderColor: "#6b7280", backgroundColor: "#6b7280", borderDash: [5, 4], pointRadius: 0, borderWidth: 1.5 },
          { label: "Spent to date", data: points(data.spent), borderColor: "#2453c4", backgroundColor: "#2453c4", pointRadius: 0, borderWidth: 2 },
          { label: "Projected at today's budgets", data: points(data.projected), borderColor: "#c2410c", backgroundColor: "#c2410c", borderDash: [2, 3], pointRadius: 0, borderWidth: 2 },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        parsing: true,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { type: "category", ticks: { maxTicksLimit: 8 } },
          y: { beginAtZero: true, ticks: { callback: money } },
        },
        plugins: { tooltip: { callbacks: { label: (item) => item.dataset.label + ": " + money(item.parsed.y) } } },
      },
    });
  });
})();
