// Draw the capture-rate chart of the analytics page. Data comes from a json_script element (the
// CSP forbids inline scripts); Chart.js is the one vendored under devices/vendor/.
(function () {
  "use strict";

  var BANDS = ["rgba(255, 196, 0, 0.14)", "rgba(15, 108, 116, 0.14)"];

  // Shade the article's benchmark ranges (typical and best programs) behind the share line.
  var benchmarkBands = {
    id: "benchmarkBands",
    beforeDatasetsDraw: function (chart, args, options) {
      var bands = options.bands || [];
      var area = chart.chartArea;
      var y = chart.scales.share;
      if (!area || !y) return;
      var ctx = chart.ctx;
      ctx.save();
      bands.forEach(function (band, i) {
        var top = y.getPixelForValue(band.to);
        var bottom = y.getPixelForValue(band.from);
        ctx.fillStyle = BANDS[i % BANDS.length];
        ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
        ctx.fillStyle = "#555";
        ctx.font = "11px sans-serif";
        ctx.fillText(band.label + " " + band.from + "-" + band.to + "%", area.left + 6, top + 12);
      });
      ctx.restore();
    }
  };

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-capture-chart"));
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "line", label: "Share also billed for treatment (%)", data: data.share,
            yAxisID: "share", borderColor: "#0f6c74", backgroundColor: "#0f6c74",
            pointRadius: 4, tension: 0.1, spanGaps: true, order: 0
          },
          {
            type: "bar", label: "Patients billed device supply", data: data.device_supply,
            yAxisID: "patients", backgroundColor: "rgba(31, 79, 138, 0.35)", order: 1
          },
          {
            type: "bar", label: "... also billed treatment management",
            data: data.device_and_treatment, yAxisID: "patients",
            backgroundColor: "rgba(31, 79, 138, 0.8)", order: 1
          }
        ]
      },
      options: {
        animation: false,
        aspectRatio: 2.6,
        scales: {
          share: {
            type: "linear", position: "left", min: 0, max: 100,
            title: { display: true, text: "Share (%)" }
          },
          patients: {
            type: "linear", position: "right", beginAtZero: true,
            ticks: { precision: 0 }, grid: { drawOnChartArea: false },
            title: { display: true, text: "Patients" }
          }
        },
        plugins: { benchmarkBands: { bands: data.bands } }
      },
      plugins: [benchmarkBands]
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-capture-chart]").forEach(draw);
  });
})();
