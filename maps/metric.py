"""A small control that recolours the aggregate layers by the chosen rate, so that a region's
polygons are sent once rather than once per rate."""

from __future__ import annotations

import json
from typing import Any

from branca.element import MacroElement, Template


class MetricSwitch(MacroElement):
    """Radio buttons (bottom left, above the scale: the filter bar fills the top) choosing
    which rate colours `layers` (GeoJSON layers, or layers of tiles: maps/layers.py
    VectorTiles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var layers = [{{ this.layer_names }}];
          var classes = {{ this.classes }};
          function colour(v) {
            if (v === null || v === undefined) { return '#e0e0e0'; }
            for (var i = 0; i < classes.length; i++) { if (v < classes[i][0]) { return classes[i][1]; } }
            return classes[classes.length - 1][1];
          }
          function show(metric) {
            layers.forEach(function (layer) {
              // (a layer of tiles colours its features by the rates it was sent)
              if (layer.registryMetric) { layer.registryMetric(metric); return; }
              layer.setStyle(function (f) {
                return {fillColor: colour(f.properties[metric]), color: '#616161',
                        weight: 0.6, fillOpacity: 0.7};
              });
            });
          }
          var control = L.control({position: 'bottomleft'});
          control.onAdd = function () {
            var div = L.DomUtil.create('div', 'registry-metric');
            var metrics = {{ this.metrics }};
            metrics.forEach(function (m, i) {
              var label = L.DomUtil.create('label', 'registry-legend-row', div);
              var input = L.DomUtil.create('input', '', label);
              input.type = 'radio'; input.name = 'registry-metric'; input.value = m[0];
              input.checked = i === 0;
              input.addEventListener('change', function () { show(m[0]); });
              label.appendChild(document.createTextNode(m[1]));
            });
            L.DomEvent.disableClickPropagation(div);
            return div;
          };
          control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        layers: list[Any],
        metrics: list[tuple[str, str]],
        classes: list[tuple[float, str]],
    ) -> None:
        super().__init__()
        self._name = "MetricSwitch"
        self.layer_names = ", ".join(layer.get_name() for layer in layers)
        self.metrics = json.dumps(metrics, ensure_ascii=False)
        self.classes: Any = json.dumps(classes)
