"""A legend box (Chinese), drawn by the page itself: no JavaScript library needed."""

from __future__ import annotations

from collections.abc import Sequence

import folium
from branca.element import MacroElement, Template

from maps.inert import inert_html as escape  # branca renders the legend again as a template


class Legend(MacroElement):
    """Coloured swatches with labels (and counts), in a corner of the map; on a phone folded
    behind a "图例" button (a checkbox and CSS, no script)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="registry-legend" data-legend="{{ this.key }}">
          <input type="checkbox" id="legend-toggle-{{ this.key }}" class="registry-toggle" aria-label="显示图例">
          <label for="legend-toggle-{{ this.key }}" class="registry-toggle-label">图例</label>
          <div class="registry-legend-body">
          <div class="registry-legend-title">{{ this.title }}</div>
          {{ this.rows }}
          {% if this.note %}<div class="registry-legend-note">{{ this.note }}</div>{% endif %}
          </div>
        </div>
        {% endmacro %}
        """
    )

    def __init__(
        self,
        key: str,
        title: str,
        entries: Sequence[tuple[str, str, int | None]],
        note: str | None = None,
        shape: str = "box",
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.key = key
        self.title = escape(title)
        self.note = escape(note) if note else None
        self.rows = "".join(
            f'<div class="registry-legend-row"><span class="registry-swatch {shape}"'
            f' style="background:{color}"></span>{escape(label)}'
            + (f' <span class="registry-count">{count}</span>' if count is not None else "")
            + "</div>"
            for color, label, count in entries
        )


def add_legend(m: folium.Map, legend: Legend) -> None:
    m.add_child(legend)
