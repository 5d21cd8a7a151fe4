"""What an evidence upload may carry, checked before anything is written: the kinds of file
accepted (recognised by their first bytes, never by name or header), and the one place where
a file name sent by a client becomes the name stored and served, and where texts are refused
for control and text-direction characters.

A served name always ends with an extension of the content's kind. A name that says another
kind keeps what the uploader typed and gets the right extension appended (`x.html` holding a
PDF is served as `x.html.pdf`): nothing typed is lost (names here are often dates or document
numbers full of dots, such as `2024.03.15` or `豫司〔2009〕19号`), and the last extension is
what browsers and desktops go by.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from service.core.errors import Invalid, UnsupportedMediaType

MAX_NAME = 200  # characters of a stored file name, its extension included
DEFAULT_STEM = "evidence"  # for a name that is empty once cleaned


@dataclass(frozen=True)
class FileKind:
    content_type: str
    magic: bytes
    extensions: tuple[str, ...]  # lower case; the first is appended to names without one


KINDS = (
    FileKind("application/pdf", b"%PDF-", (".pdf",)),
    FileKind("image/jpeg", b"\xff\xd8\xff", (".jpg", ".jpeg", ".jpe", ".jfif")),
    FileKind("image/png", b"\x89PNG\r\n\x1a\n", (".png",)),
)
_BY_TYPE = {k.content_type: k for k in KINDS}


class ForbiddenCharacter(Invalid):
    code = "forbidden_character"


def sniff(path: Path) -> FileKind:
    """The kind of the file by its first bytes; 415 naming the accepted kinds otherwise."""
    with open(path, "rb") as f:
        head = f.read(16)
    for kind in KINDS:
        if head.startswith(kind.magic):
            return kind
    raise UnsupportedMediaType(
        "file: evidence must be a PDF, JPEG or PNG file (checked by its content)",
        {"field": "file", "accepted": [k.content_type for k in KINDS]},
    )


def kind_of(content_type: str) -> FileKind:
    return _BY_TYPE[content_type]


# Explicit direction marks, embeddings, overrides and isolates: invisible, they make a name or a
# sentence read differently from what it is (`invoice\u202efdp.html` shows as `invoicelmth.pdf`).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# In a file name nothing invisible belongs: controls (C0, DEL, C1), every format character
# (direction controls, zero-width characters, BOM), lone surrogates, line separators.
_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_TEXT_WHITESPACE = frozenset("\t\n\r")


def _forbidden_in_name(ch: str) -> bool:
    return unicodedata.category(ch) in _NAME_CATEGORIES


def _forbidden_in_text(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cc":
        return ch not in _TEXT_WHITESPACE
    return category == "Cs" or ch in _BIDI_CONTROLS


def _describe(ch: str) -> str:
    code = f"U+{ord(ch):04X}"
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"{code} (a control character)"
    if category == "Cs":
        return f"{code} (a lone surrogate)"
    return f"{code} {unicodedata.name(ch, '(unnamed)')}"


def _refuse(field: str, what: str, ch: str) -> ForbiddenCharacter:
    problem = f"contains {_describe(ch)}"
    return ForbiddenCharacter(
        f"{field}: the {what} {problem}; control and text-direction characters are not allowed",
        {"field": field, "character": f"U+{ord(ch):04X}", "problem": problem},
    )


def check_filename(raw: str | None) -> None:
    """Refuse a file name with an invisible or control character (422 naming `file`):
    silently dropping them would store a name other than the one the uploader saw."""
    for ch in raw or "":
        if _forbidden_in_name(ch):
            raise _refuse("file", "file name", ch)


def check_text(value: str | None, *, field: str) -> None:
    """Refuse free text (lines and tabs allowed) with control or direction characters; the
    database refuses a NUL only with an error that cannot say which field held it."""
    for ch in value or "":
        if _forbidden_in_text(ch):
            raise _refuse(field, field, ch)


_PATH_SEPARATORS = re.compile(r"[/\\]")


def clean_filename(raw: str | None, kind: FileKind) -> str:
    """The name to store and serve: the last path part (split on `/` and `\\`, so `..\\..\\x`
    is `x`), without invisible characters (names stored before they were refused), without
    leading or trailing dots and spaces (`..` is no name), ending with an extension of `kind`,
    at most MAX_NAME characters, never empty. Cleaning a cleaned name changes nothing."""
    name = _PATH_SEPARATORS.split(raw or "")[-1]
    name = "".join(ch for ch in name if not _forbidden_in_name(ch)).strip(" .")
    lowered = name.lower()
    ext = next((e for e in kind.extensions if lowered.endswith(e)), None)
    if ext is None:
        stem, ext = name, kind.extensions[0]
    else:
        stem, ext = name[: -len(ext)], name[-len(ext) :]
    if len(stem) + len(ext) > MAX_NAME:
        stem = stem[: MAX_NAME - len(ext)].rstrip(" .")
    return (stem or DEFAULT_STEM) + ext
