// Draw the readings charts of the device panel. Data comes from json_script elements (the CSP
// forbids inline scripts); Chart.js is vendored under devices/vendor/.
(function () {
  "use strict";

  var COLORS = ["#0f6c74", "#1f4f8a", "#8a5a00", "#a61b1b"];
  var BANDS = { warning: "rgba(255, 196, 0, 0.16)", critical: "rgba(166, 27, 27, 0.14)" };

  // Shade the goal bands (warning and critical ranges) behind the lines.
  var goalBands = {
    id: "goalBands",
    beforeDatasetsDraw: function (chart, args, options) {
      var bands = options.bands || [];
      var area = chart.chartArea;
      var y = chart.scales.y;
      if (!area || !y) return;
      var ctx = chart.ctx;
      ctx.save();
      bands.forEach(function (band) {
        var top = y.getPixelForValue(Math.min(band.to, y.max));
        var bottom = y.getPixelForValue(Math.max(band.from, y.min));
        if (bottom <= area.top || top >= area.bottom) return;
        ctx.fillStyle = BANDS[band.level] || BANDS.warning;
        ctx.fillRect(area.left, Math.max(top, area.top), area.right - area.left,
          Math.min(bottom, area.bottom) - Math.max(top, area.top));
      });
      ctx.restore();
    }
  };

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-reading-chart"));
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var values = [];
    data.series.forEach(function (s) { values = values.concat(s.data); });
    data.bands.forEach(function (b) { values.push(b.from); });
    var low = Math.min.apply(null, values), high = Math.max.apply(null, values);
    var pad = Math.max((high - low) * 0.15, 2);
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return {
            label: s.label, data: s.data, borderColor: COLORS[i % COLORS.length],
            backgroundColor: COLORS[i % COLORS.length], pointRadius: 3, tension: 0.15
          };
        })
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { ticks: { maxTicksLimit: 8, autoSkip: true } },
          y: { suggestedMin: low - pad, suggestedMax: high + pad, title: { display: true, text: data.unit } }
        },
        plugins: { goalBands: { bands: data.bands }, legend: { display: data.series.length > 1 } }
      },
      plugins: [goalBands]
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-reading-chart]").forEach(draw);
  });
})();
