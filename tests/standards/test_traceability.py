"""docs/standards.md traces every requirement of the four documents (issue 16): each encoded
criterion has exactly one row, and each row says what the seed says — clause, quoted text,
test, kinds and whether it binds. A criterion added without a row, a row naming a key that does
not exist, or a row that no longer matches its criterion fails here."""

from __future__ import annotations

import re
from pathlib import Path

from service.standards.definition import SEED_CODES, Criterion, seed

DOC = Path(__file__).resolve().parents[2] / "docs" / "standards.md"
HEADER = "| clause | requirement (quoted) | criterion | test | kinds | binding | reading |"
SECTION = re.compile(r"^## .*`(?P<code>[a-z0-9-]+)`", re.M)


def rendered(c: Criterion) -> list[str]:
    """The columns a criterion's row must carry (the last, the reading, is free text)."""
    if c.value is not None:
        test = f"`{c.measure} {c.op.value} {c.value.normalize():f}`"
    elif c.values:
        test = f"`{c.measure} {c.op.value} {', '.join(c.values)}`"
    else:
        test = f"`{c.measure} {c.op.value}`"
    kinds = ", ".join(c.kinds) if c.kinds else "all"
    return [c.source, c.text, f"`{c.key}`", test, kinds, "mandatory" if c.mandatory else "advisory"]


def encoded_rows() -> dict[str, list[list[str]]]:
    """Per seed code, the rows of its encoded table."""
    text = DOC.read_text("utf-8")
    sections = list(SECTION.finditer(text))
    out: dict[str, list[list[str]]] = {}
    for i, match in enumerate(sections):
        body = text[match.end() : sections[i + 1].start() if i + 1 < len(sections) else None]
        rows: list[list[str]] = []
        in_table = False
        for line in body.splitlines():
            if line.strip() == HEADER:
                in_table = True
                continue
            if in_table and line.startswith("|"):
                cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
                if not set(cells[0]) <= {"-", ":", ""}:
                    rows.append(cells)
            elif in_table:
                in_table = False
        out[match.group("code")] = rows
    return out


def test_every_criterion_has_its_row_and_every_row_its_criterion() -> None:
    tables = encoded_rows()
    assert sorted(tables) == sorted(SEED_CODES)
    for code in SEED_CODES:
        criteria = {c.key: c for c in seed(code).criteria}
        keys = [row[2].strip("`") for row in tables[code]]
        assert sorted(set(keys)) == sorted(keys), f"{code}: a key has two rows"
        assert sorted(keys) == sorted(criteria), f"{code}: rows and criteria differ"
        for row in tables[code]:
            assert len(row) == 7, row
            assert row[:6] == rendered(criteria[row[2].strip("`")]), row
