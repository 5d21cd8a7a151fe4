"""Stored text as people type it: NFC-normalised, trimmed, and free of control and invisible
characters (a stored string is shown in pages, tooltips, spreadsheets and PDFs, where such
characters hide or forge text). Every text a user or a file gives passes through here."""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import AfterValidator

# control, format (zero-width, bidi overrides …), surrogate and private-use characters
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co"})
PROBLEM = "contains control or invisible characters"


def hidden_characters(text: str, *, allow: str = "") -> bool:
    """Whether `text` holds a control or invisible character (other than those in `allow`,
    e.g. the line breaks of a multi-line reason)."""
    # isprintable() is false for every such character (and for a few harmless ones, such as
    # the ideographic space): the scan runs only then
    return not text.isprintable() and any(
        unicodedata.category(ch) in INVISIBLE and ch not in allow for ch in text
    )


def clean_text(value: str, *, allow: str = "") -> str:
    """`value` NFC-normalised and trimmed; ValueError if it hides a character."""
    text = unicodedata.normalize("NFC", value).strip()
    if hidden_characters(text, allow=allow):
        raise ValueError("must not contain control or invisible characters")
    return text


def _optional(value: Any) -> Any:
    return None if value is None else clean_text(value)


# for pydantic fields: Annotated[str, StringConstraints(...), NO_CONTROL_CHARS]
NO_CONTROL_CHARS = AfterValidator(_optional)
