// Draws every chart whose figure JSON is embedded in the page (no inline script: CSP).
document.querySelectorAll("script[type='application/json'][data-chart]").forEach(function (el) {
  var fig = JSON.parse(el.textContent);
  var target = document.getElementById(el.dataset.chart);
  Plotly.newPlot(target, fig.data, fig.layout, {responsive: true, displaylogo: false});
});
