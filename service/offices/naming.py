"""The official name convention of an office: XX县(市、区)司法局XX司法所.

第五篇 §1: "xx县(市、区)司法局xx(司法所所在地地名,不含乡镇街道字样)司法所"; the older
convention (第二篇 §三(一)1) keeps 乡/镇 in the name and drops 办事处 for streets. Both are
accepted; the expected name we suggest is the current (第五篇) form.
"""

from __future__ import annotations

import re
import unicodedata

_TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡", "苏木")
_STEM_KINDS = {"town", "township", "street"}
_SPACE = re.compile(r"\s+")


def normalize_name(name: str) -> str:
    """Compare names ignoring width (（）vs ()) and whitespace."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", name))


def place_stems(township_name: str, kind: str) -> list[str]:
    """The forms of the place name an office name may use; the preferred one first."""
    name = township_name.strip()
    forms: list[str] = []
    if kind in _STEM_KINDS:
        for suffix in _TOWNSHIP_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                forms.append(name[: -len(suffix)])
                break
    forms.append(name.removesuffix("办事处"))
    forms.append(name)
    return list(dict.fromkeys(forms))


def expected_name(county_name: str, township_name: str, kind: str) -> str:
    """The name we suggest: county + 司法局 + place name without 乡/镇/街道 + 司法所."""
    return f"{county_name}司法局{place_stems(township_name, kind)[0]}司法所"


def name_matches(name: str, county_name: str, township_name: str, kind: str) -> bool:
    given = normalize_name(name)
    return any(
        given == normalize_name(f"{county_name}司法局{stem}司法所")
        for stem in place_stems(township_name, kind)
    )
