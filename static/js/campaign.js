/* Waypoint campaign page: daily spend and the objective, with each applied change (and rollback) drawn as a
 * vertical line. The figures come from #campaign-chart (json_script); without JavaScript the table below the
 * chart lists the same changes. */
(function () {
  "use strict";

  if (!window.Chart) return;
  const data = JSON.parse(document.getElementById("campaign-chart").textContent);
  const labels = data.series.map((p) => p.date);

  // A change on a day without data is drawn at the next day that has data.
  function indexOf(date) {
    const i = labels.findIndex((d) => d >= date);
    return i === -1 ? null : i;
  }

  const changeLines = {
    id: "changeLines",
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      data.markers.forEach((marker, n) => {
        const i = indexOf(marker.date);
        if (i === null) return;
        const x = scales.x.getPixelForValue(i);
        ctx.save();
        ctx.strokeStyle = marker.kind === "applied" ? "#14213d" : "#c0392b";
        ctx.setLineDash(marker.kind === "applied" ? [] : [5, 4]);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(x, chartArea.top);
        ctx.lineTo(x, chartArea.bottom);
        ctx.stroke();
        ctx.fillStyle = ctx.strokeStyle;
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText("#" + marker.proposal, x + 3, chartArea.top + 12 + (n % 3) * 12);
        ctx.restore();
      });
    },
  };

  const objective = data.objective;
  const money = (v) => "$" + Number(v).toLocaleString(undefined, { maximumFractionDigits: 0 });
  new Chart(document.getElementById("campaign-canvas"), {
    type: "line",
    data: {
      labels: labels,
      datasets: [
        { label: "Spend ($/day)", data: data.series.map((p) => p.spend), borderColor: "#2453c4", backgroundColor: "#2453c4", yAxisID: "spend", pointRadius: 0, borderWidth: 1.5 },
        { label: objective.label + " (" + (objective.money ? "$" : objective.unit) + "/day)", data: data.series.map((p) => p.objective), borderColor: "#2e7d32", backgroundColor: "#2e7d32", yAxisID: "objective", pointRadius: 0, borderWidth: 1.5 },
      ],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 10 } },
        spend: { position: "left", beginAtZero: true, ticks: { callback: money } },
        objective: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: objective.money ? { callback: money } : {} },
      },
      plugins: {
        tooltip: {
          callbacks: {
            afterBody(items) {
              const date = labels[items[0].dataIndex];
              return data.markers.filter((m) => labels[indexOf(m.date)] === date).map((m) => m.label);
            },
          },
        },
      },
    },
    plugins: [changeLines],
  });
})();
