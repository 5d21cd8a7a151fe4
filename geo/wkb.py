"""Small WKB manipulations that spare a decode/encode round trip of large geometries."""

from __future__ import annotations

import struct

_SRID_FLAG = 0x20000000
_MULTIPOLYGON = 6


def with_srid(wkb: bytes, srid: int) -> bytes | None:
    """EWKB with `srid` for a little-endian 2D MultiPolygon WKB; None for anything else."""
    if len(wkb) < 9 or wkb[0] != 1:
        return None
    (geom_type,) = struct.unpack_from("<I", wkb, 1)
    if geom_type != _MULTIPOLYGON:
        return None
    return b"\x01" + struct.pack("<II", _MULTIPOLYGON | _SRID_FLAG, srid) + wkb[5:]
