"""What an import passes around: problems, a checked batch of divisions, the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import shapely

from geo.crs import GEOGRAPHIC_PASS_THROUGH
from geo.repair import Repair
from geo.wkb import with_srid
from service.core.errors import ImportRejected

Progress = Callable[[str, int, int], None]


@dataclass
class Problem:
    index: int | None  # 0-based feature index; None for the file as a whole
    code: str | None  # as written in the file
    problem: str


@dataclass(frozen=True)
class RepairedFeature:
    """A feature whose invalid polygon was repaired on request (`repair`), and by how much
    the repair changed its area (m² in ESRI:102025; the share of the area as given)."""

    index: int  # 0-based feature index
    code: str  # as written in the file
    problem: str  # what was invalid: the reason a refusal would have given
    area_before_m2: float
    area_after_m2: float
    area_change_m2: float
    area_change_share: float | None  # None when the rings as given enclose no area

    @classmethod
    def of(cls, repair: Repair, *, index: int, code: str) -> RepairedFeature:
        """The geometry module's repair, placed in the file: its feature index and code."""
        return cls(**{**asdict(repair), "index": index, "code": code})


@dataclass
class DivisionBatch:
    """Features as parallel lists; `geoms` are WGS-84 MultiPolygons (None where unusable)."""

    codes: list[str]  # canonical (2/4/6/9 digits)
    written: list[str]  # as the file writes them: what problems name
    names: list[str]
    kinds: list[str]
    levels: list[str]
    parents: list[str | None]
    geoms: np.ndarray
    source_geoms: np.ndarray
    source_wkb: np.ndarray | None
    source_epsg: int
    warnings: list[str] = field(default_factory=list)
    repaired: list[RepairedFeature] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.codes)

    def ewkb(self) -> list[bytes]:
        """EWKB (SRID 4326) of every geometry, reusing the file's own WKB where it already is a
        2D MultiPolygon in a pass-through CRS (saves re-encoding millions of vertices)."""
        out: list[bytes | None] = [None] * len(self)
        if self.source_wkb is not None and self.source_epsg in GEOGRAPHIC_PASS_THROUGH:
            out = [with_srid(w, 4326) if w is not None else None for w in self.source_wkb]
        missing = [i for i, w in enumerate(out) if w is None]
        if missing:
            encoded = shapely.to_wkb(shapely.set_srid(self.geoms[missing], 4326), include_srid=True)
            for i, w in zip(missing, encoded, strict=True):
                out[i] = w
        return out  # type: ignore[return-value]


@dataclass
class ImportReport:
    features: int
    by_level: dict[str, int]
    created: int = 0
    changed: int = 0  # a new version opened
    corrected: int = 0  # the current version replaced in place (a correction)
    unchanged: int = 0
    offices_relinked: int = 0
    offices_relocated: int = 0
    source_crs: str = ""
    valid_from: date | None = None  # None for a correction: versions keep their dates
    dry_run: bool = False
    correction: bool = False
    reason: str | None = None
    repair: bool = False  # invalid polygons were to be repaired, not refused
    repaired: list[RepairedFeature] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def reject_file(message: str) -> ImportRejected:
    """The whole file is refused (unreadable, no CRS, no code column ...)."""
    return ImportRejected(
        f"the file was refused: {message}",
        {"problems": [{"index": None, "code": None, "problem": message}], "count": 1},
    )


def rejection(
    problems: list[Problem], features: int, what: str = "have problems"
) -> ImportRejected:
    """Every bad feature, sorted by index, in one 422."""
    problems = sorted(problems, key=lambda p: (p.index is None, p.index or 0))
    n_bad = len({p.index for p in problems})
    return ImportRejected(
        f"{n_bad} of {features} features {what}; nothing was imported",
        {"count": n_bad, "features": features, "problems": [p.__dict__ for p in problems]},
    )
