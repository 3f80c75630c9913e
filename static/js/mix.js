/* Waypoint mix page: stacked contribution over time, returns with their 80% intervals, response curves with
 * their bands. The figures come from one json_script; without JavaScript the table says the same. */
(function () {
  "use strict";

  if (!window.Chart) return;
  const evidence = document.getElementById("mix-evidence");
  if (evidence) drawEvidence(JSON.parse(evidence.textContent));
  const source = document.getElementById("mix-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const value = (v) =>
    data.leads ? Number(v).toLocaleString(undefined, { maximumFractionDigits: 1 }) : "$" + Number(v).toLocaleString(undefined, { maximumFractionDigits: 0 });
  const perDollar = (v) => (data.leads ? Number(v).toFixed(3) : "$" + Number(v).toFixed(2));
  const base = { maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false } };

  const time = document.querySelector('canvas[data-mix-chart="time"]');
  if (time) {
    const stacked = [{ label: "Baseline", data: data.baseline, backgroundColor: "#d1d5db", borderColor: "#9ca3af", fill: true, pointRadius: 0, stack: "s" }];
    data.channels.forEach((c) => stacked.push({ label: c.name, data: c.values, backgroundColor: c.color + "99", borderColor: c.color, fill: "-1", pointRadius: 0, borderWidth: 1, stack: "s" }));
    stacked.push({ label: "Actual", data: data.outcome, borderColor: "#111827", backgroundColor: "#111827", pointRadius: 0, borderWidth: 1.5, fill: false, stack: "actual" });
    new Chart(time, {
      type: "line",
      data: { labels: data.labels, datasets: stacked },
      options: Object.assign({}, base, {
        scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { stacked: true, beginAtZero: true, ticks: { callback: value } } },
        plugins: { tooltip: { callbacks: { label: (item) => item.dataset.label + ": " + value(item.parsed.y) } } },
      }),
    });
  }

  const ranges = document.querySelector('canvas[data-mix-chart="ranges"]');
  if (ranges) {
    new Chart(ranges, {
      type: "bar",
      data: {
        labels: data.ranges.map((r) => r.name),
        datasets: [
          { label: "ROAS (80% interval)", data: data.ranges.map((r) => [r.roas[0], r.roas[2]]), backgroundColor: "#2453c466", borderColor: "#2453c4", borderWidth: 1 },
          { label: "Marginal ROAS (80% interval)", data: data.ranges.map((r) => [r.marginal[0], r.marginal[2]]), backgroundColor: "#c2410c66", borderColor: "#c2410c", borderWidth: 1 },
        ],
      },
      options: Object.assign({}, base, {
        indexAxis: "y",
        scales: { x: { beginAtZero: true, ticks: { callback: perDollar } } },
        plugins: { tooltip: { callbacks: { label: (item) => item.dataset.label + ": " + perDollar(item.raw[0]) + " to " + perDollar(item.raw[1]) } } },
      }),
    });
  }

  document.querySelectorAll('canvas[data-mix-chart="curve"]').forEach((canvas) => {
    const c = data.curves[Number(canvas.dataset.index)];
    const points = (ys) => c.spend.map((x, i) => ({ x: x, y: ys[i] }));
    const today = c.spend.reduce((best, x, i) => (Math.abs(x - c.current) < Math.abs(c.spend[best] - c.current) ? i : best), 0);
    new Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: "80% band, high", data: points(c.high), borderColor: "transparent", backgroundColor: c.color + "33", pointRadius: 0, fill: "+1" },
          { label: "80% band, low", data: points(c.low), borderColor: "transparent", backgroundColor: c.color + "33", pointRadius: 0, fill: false },
          { label: "Expected", data: points(c.mean), borderColor: c.color, backgroundColor: c.color, pointRadius: 0, borderWidth: 2, fill: false },
          { label: "Today", data: [{ x: c.current, y: c.mean[today] }], borderColor: "#111827", backgroundColor: "#111827", pointRadius: 4, showLine: false },
        ],
      },
      options: Object.assign({}, base, {
        parsing: true,
        scales: { x: { type: "linear", beginAtZero: true, ticks: { callback: value, maxTicksLimit: 5 } }, y: { beginAtZero: true, ticks: { callback: value, maxTicksLimit: 5 } } },
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => item.dataset.label + ": " + value(item.parsed.y) + " at " + value(item.parsed.x) } } },
      }),
    });
  });

  // A channel_shift proposal's detail: each channel's curve with today's spend and the spend after the move.
  function drawEvidence(mix) {
    const money = (v) => "$" + Number(v).toLocaleString(undefined, { maximumFractionDigits: 0 });
    document.querySelectorAll('canvas[data-mix-chart="evidence-curve"]').forEach((canvas) => {
      const c = mix.channels[Number(canvas.dataset.index)];
      const points = (ys) => c.curve.spend.map((x, i) => ({ x: x, y: ys[i] }));
      const at = (spend) => {
        const xs = c.curve.spend;
        let i = 0;
        while (i < xs.length - 2 && xs[i + 1] < spend) i++;
        const t = xs[i + 1] > xs[i] ? (spend - xs[i]) / (xs[i + 1] - xs[i]) : 0;
        return c.curve.mean[i] + t * (c.curve.mean[i + 1] - c.curve.mean[i]);
      };
      new Chart(canvas, {
        type: "line",
        data: {
          datasets: [
            { label: "80% band, high", data: points(c.curve.high), borderColor: "transparent", backgroundColor: "#2453c433", pointRadius: 0, fill: "+1" },
            { label: "80% band, low", data: points(c.curve.low), borderColor: "transparent", pointRadius: 0, fill: false },
            { label: "Expected", data: points(c.curve.mean), borderColor: "#2453c4", pointRadius: 0, borderWidth: 2, fill: false },
            { label: "Today", data: [{ x: c.from, y: at(c.from) }], borderColor: "#111827", backgroundColor: "#111827", pointRadius: 4, showLine: false },
            { label: "After the move", data: [{ x: c.to, y: at(c.to) }], borderColor: "#c2410c", backgroundColor: "#c2410c", pointRadius: 5, pointStyle: "triangle", showLine: false },
          ],
        },
        options: {
          maintainAspectRatio: false,
          animation: false,
          scales: { x: { type: "linear", beginAtZero: true, ticks: { callback: money, maxTicksLimit: 5 } }, y: { beginAtZero: true, ticks: { callback: money, maxTicksLimit: 5 } } },
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => item.dataset.label + ": " + money(item.parsed.y) + " at " + money(item.parsed.x) } } },
        },
      });
    });
  }
})();
