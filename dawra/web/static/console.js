/* Dawra console: the little the pages need beyond HTML. No inline script anywhere (CSP script-src 'self'):
   the operations charts read their figures from the page's JSON data block (#ops-data), which is also shown as
   tables, so the page says everything without this file. */
(function () {
  "use strict";

  function drawCharts() {
    var block = document.getElementById("ops-data");
    if (!block || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(block.textContent);
    var Chart = window.Chart;
    Chart.defaults.font.family = '"' + data.font + '", "Noto Sans", system-ui, sans-serif';
    Chart.defaults.animation = false;
    var common = {
      locale: data.locale,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { rtl: data.rtl, position: "bottom" }, tooltip: { rtl: data.rtl } }
    };
    var status = document.getElementById("chart-status");
    if (status) {
      new Chart(status, {
        type: "bar",
        data: {
          labels: data.status.labels,
          datasets: [{ label: data.status.label, data: data.status.values, backgroundColor: "#0f6e5f" }]
        },
        options: Object.assign({}, common, {
          plugins: { legend: { display: false }, tooltip: { rtl: data.rtl } },
          scales: { x: { reverse: data.rtl }, y: { beginAtZero: true, ticks: { precision: 0 } } }
        })
      });
    }
    var stages = document.getElementById("chart-stages");
    if (stages) {
      new Chart(stages, {
        type: "bar",
        data: {
          labels: data.stages.labels,
          datasets: [
            { label: data.stages.p50_label, data: data.stages.p50, backgroundColor: "#6fb8ab" },
            { label: data.stages.p95_label, data: data.stages.p95, backgroundColor: "#0f6e5f" }
          ]
        },
        options: Object.assign({}, common, {
          indexAxis: "y",
          scales: { x: { beginAtZero: true, reverse: data.rtl }, y: { position: data.rtl ? "right" : "left" } }
        })
      });
    }
    var reasons = document.getElementById("chart-reasons");
    if (reasons) {
      new Chart(reasons, {
        type: "bar",
        data: {
          labels: data.reasons.labels,
          datasets: [{ label: data.reasons.label, data: data.reasons.values, backgroundColor: "#b5651d" }]
        },
        options: Object.assign({}, common, {
          indexAxis: "y",
          plugins: { legend: { display: false }, tooltip: { rtl: data.rtl } },
          scales: { x: { beginAtZero: true, reverse: data.rtl, ticks: { callback: function (v) { return v + "%"; } } },
                    y: { position: data.rtl ? "right" : "left" } }
        })
      });
    }
  }

  /* A remittance file chosen on disk is read into the form's text area (and its name kept): the form posts text,
     so without this file an operator pastes it instead. */
  function readFilesIntoForms() {
    Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-into]"), function (input) {
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        var target = document.getElementById(input.getAttribute("data-into"));
        var name = document.getElementById(input.getAttribute("data-name-into"));
        if (!file || !target) {
          return;
        }
        file.text().then(function (text) {
          target.value = text;
          if (name) {
            name.value = file.name;
          }
        });
      });
    });
  }

  function ready() {
    drawCharts();
    readFilesIntoForms();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
