"""Strings that folium (through branca) renders again as a Jinja template, made inert there.
Free of folium, so that what only escapes need not load it."""

from __future__ import annotations

import html
import json
import re
from typing import Any

# branca renders each element's script, then parses the result AGAIN as a Jinja template
# (MacroElement.render wraps it in Element(template)). A stored name holding "{{ … }}" or
# "{% … %}" in a layer's GeoJSON would be evaluated on the server — code execution, or a
# 500 for "{#". In JSON text a "{" that opens an object is always followed by '"' or "}",
# so a "{" before "{", "%" or "#" is inside a string, where "\u007b" means the same.
_TEMPLATE_OPENER = re.compile(r"\{(?=[{%#])")


def inert_json(value: Any, **kwargs: Any) -> str:
    """json.dumps whose text is the same JSON and holds no Jinja delimiter."""
    return _TEMPLATE_OPENER.sub(r"\\u007b", json.dumps(value, **kwargs))


def inert_html(text: str) -> str:
    """Text for an HTML element that folium renders again as a template: escaped, and with
    "{" as a character reference."""
    return html.escape(text).replace("{", "&#123;")
