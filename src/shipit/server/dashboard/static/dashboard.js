// Draws every chart whose figure JSON is embedded in the page (no inline script: CSP).
document.querySelectorAll("script[type='application/json'][data-chart]").forEach(function (el) {
  var fig = JSON.parse(el.textContent);
  var target = document.getElementById(el.dataset.chart);
  // the report's config (responsive: sized to its card on first paint and on resize)
  var config = el.dataset.config ? JSON.parse(el.dataset.config) : {responsive: true};
  Plotly.newPlot(target, fig.data, fig.layout, config);
});
