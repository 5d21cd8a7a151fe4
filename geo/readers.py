"""Reading vector files (GeoJSON, zipped Shapefile, GeoPackage, FlatGeobuf) through pyogrio/GDAL.

Zip archives are inspected before GDAL sees them (entry count, total size, compression ratio,
nested archives, path tricks) so that a zip bomb is refused without being inflated.
Shapefiles without a .cpg are decoded as UTF-8 when every string is valid UTF-8, else as
GB18030 (a superset of GBK/GB2312), the encodings Chinese shapefiles come in.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import shapely


class UnreadableFile(ValueError):
    """The file is not a vector data set we can read; the message says why."""


@dataclass(frozen=True)
class ZipLimits:
    """What a zipped Shapefile may contain before we refuse to open it."""

    max_entries: int = 64
    max_total_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0  # uncompressed/compressed, per entry


@dataclass
class FeatureTable:
    """Features as columns: shapely geometries (None where missing) and attribute arrays."""

    geometries: np.ndarray
    properties: dict[str, np.ndarray]
    crs: str | None
    format: str
    layer: str | None = None
    warnings: list[str] = field(default_factory=list)
    wkb: np.ndarray | None = None  # the geometries as read (2D WKB), for pass-through writes

    def __len__(self) -> int:
        return len(self.geometries)


def sniff_format(path: Path) -> str:
    """Which format a file is, by its first bytes (the name may lie)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "shapefile-zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"fgb\x03"):
        return "flatgeobuf"
    if len(head) >= 4 and head[:4] in (b"\x00\x00\x27\x0a",):
        return "shapefile"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"{", b"[")):
        return "geojson"
    raise UnreadableFile(
        "not a GeoJSON, GeoPackage, FlatGeobuf or zipped Shapefile (unrecognised content)"
    )


def inspect_zip(path: Path, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """The entries of a zip archive, refused before anything is inflated when it is broken,
    encrypted, nested, has unsafe paths, too many entries, or inflates too far (by its own
    numbers: each entry is then read no further than its declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(f"broken zip archive: {exc}") from exc
    if len(infos) > limits.max_entries:
        raise UnreadableFile(f"zip has {len(infos)} entries; at most {limits.max_entries} allowed")
    total = 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith("/") or ".." in parts:
            raise UnreadableFile(f"zip entry {name!r} has an unsafe path")
        if info.flag_bits & 0x1:
            raise UnreadableFile("encrypted zip archives are not accepted")
        if name.lower().endswith((".zip", ".gz", ".7z", ".rar")):
            raise UnreadableFile(f"nested archive {name!r} is not accepted")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnreadableFile(
                f"zip would inflate to more than {limits.max_total_bytes} bytes; refused"
            )
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise UnreadableFile(
                f"zip entry {name!r} has a compression ratio above {limits.max_ratio:.0f}:1 "
                "(zip bomb?); refused"
            )
    return infos


def check_zip(path: Path, limits: ZipLimits = ZipLimits()) -> str:
    """Validate a zipped Shapefile without inflating it; return the .shp member's name."""
    infos = inspect_zip(path, limits)
    shps = [
        i.filename
        for i in infos
        if i.filename.lower().endswith(".shp") and not i.filename.startswith("__MACOSX")
    ]
    if not shps:
        raise UnreadableFile("the zip archive contains no .shp file")
    if len(shps) > 1:
        raise UnreadableFile(f"the zip archive contains {len(shps)} .shp files; send one layer")
    stem = shps[0][:-4]
    names = {i.filename.lower() for i in infos}
    for needed in (".shx", ".dbf"):
        if (stem + needed).lower() not in names:
            raise UnreadableFile(f"the Shapefile is incomplete: {stem + needed} is missing")
    return shps[0]


def read_features(
    path: Path, *, layer: str | None = None, zip_limits: ZipLimits = ZipLimits()
) -> FeatureTable:
    """Read every feature of one layer of `path` into a FeatureTable."""
    # GDAL's bindings are loaded by the first file read, not by every worker that imports
    # this module: they hold 29 MB that a worker serving the API never uses
    import pyogrio
    from pyogrio import raw
    from pyogrio.errors import DataLayerError, DataSourceError

    fmt = sniff_format(path)
    source = str(path)
    shapefile_needs_decoding = False
    if fmt == "shapefile-zip":
        member = check_zip(path, zip_limits)
        source = f"/vsizip/{path}/{member}"
        with zipfile.ZipFile(path) as archive:
            cpg = {i.filename.lower() for i in archive.infolist()}
        shapefile_needs_decoding = (member[:-4] + ".cpg").lower() not in cpg
    if fmt == "geojson":
        _refuse_nul(path)
    if fmt == "gpkg" and layer is None:
        layers = [str(row[0]) for row in pyogrio.list_layers(source)]
        if len(layers) > 1:
            raise UnreadableFile(f"the GeoPackage has {len(layers)} layers {layers}; name one")
    try:
        meta, _fids, wkb, field_data = raw.read(
            source,
            layer=layer,
            encoding="latin1" if shapefile_needs_decoding else None,
            force_2d=True,
        )
    except (DataSourceError, DataLayerError) as exc:
        raise UnreadableFile(f"cannot read the file: {exc}") from exc
    except Exception as exc:  # GDAL raises a zoo of errors on corrupt input
        raise UnreadableFile(f"cannot read the file: {type(exc).__name__}: {exc}") from exc
    names = [str(n) for n in meta["fields"]]
    properties = {name: np.asarray(col) for name, col in zip(names, field_data, strict=True)}
    warnings: list[str] = []
    if shapefile_needs_decoding:
        encoding = _guess_encoding(properties)
        properties = {k: _redecode(v, encoding) for k, v in properties.items()}
        warnings.append(f"no .cpg in the Shapefile; attributes decoded as {encoding}")
    try:
        geometries = shapely.from_wkb(wkb, on_invalid="raise") if wkb is not None else None
    except shapely.errors.GEOSException as exc:
        raise UnreadableFile(f"unreadable geometry in the file: {exc}") from exc
    if geometries is None:
        raise UnreadableFile("the layer has no geometry column")
    return FeatureTable(
        geometries=np.asarray(geometries, dtype=object),
        properties=properties,
        crs=meta.get("crs"),
        format=fmt,
        layer=layer,
        warnings=warnings,
        wkb=wkb,
    )


def _refuse_nul(path: Path) -> None:
    """GDAL cuts strings at NUL, silently shortening names: refuse NUL in GeoJSON outright."""
    with open(path, "rb") as fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            window = tail + chunk
            if b"\x00" in window or b"\\u0000" in window:
                raise UnreadableFile("the file contains NUL characters (\\u0000)")
            tail = window[-5:]


def _guess_encoding(properties: dict[str, np.ndarray]) -> str:
    """UTF-8 when every string column decodes as UTF-8, else GB18030."""
    for column in properties.values():
        if column.dtype != object:
            continue
        for value in column:
            if isinstance(value, str):
                try:
                    value.encode("latin1").decode("utf-8")
                except UnicodeError:
                    return "gb18030"
    return "utf-8"


def _redecode(column: np.ndarray, encoding: str) -> np.ndarray:
    if column.dtype != object:
        return column
    out = column.copy()
    for i, value in enumerate(column):
        if isinstance(value, str):
            try:
                out[i] = value.encode("latin1").decode(encoding)
            except UnicodeError:
                out[i] = value
    return out
