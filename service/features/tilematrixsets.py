"""The tile matrix sets the OGC API tiles in (OGC Two Dimensional Tile Matrix Set 2.0), made
from their defining numbers rather than copied tables: WebMercatorQuad (EPSG:3857, one tile
at zoom 0) for web maps, and WorldCRS84Quad (lon/lat, 2×1 tiles at zoom 0) — the geographic
grid of CGCS2000 basemaps such as 天地图's `c` layers, whose coordinates are the stored ones.

A tile is addressed (z, y, x) = (tileMatrix, tileRow, tileCol), rows counted down from the top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from geo.crs import WEB_MERCATOR, crs_uri

TILE_SIZE = 256  # pixels a side: what cellSize and the scale denominators are counted in
# the OGC's standardised rendering pixel, 0.28 mm, behind every scale denominator
PIXEL_METRES = 0.00028
EARTH_RADIUS = 6378137.0  # WGS-84 semi-major axis: Web Mercator's sphere
HALF_WORLD = math.pi * EARTH_RADIUS  # Web Mercator's x (and y) at 180°
METRES_PER_DEGREE = 2 * math.pi * EARTH_RADIUS / 360  # at the equator, for geographic scales


@dataclass(frozen=True)
class TileMatrixSet:
    """A quadtree tile matrix set: each level halves the cell size of the one above."""

    id: str
    title: str
    uri: str
    epsg: int | None  # its CRS; None: CRS84, the stored lon/lat
    ordered_axes: tuple[str, str]
    well_known_scale_set: str
    origin: tuple[float, float]  # the top-left corner, (x, y)
    span: float  # a tile's width (and height) at zoom 0, in CRS units
    columns_at_zero: int  # tiles across at zoom 0 (one row)
    metres_per_unit: float
    levels: int  # tile matrices 0 … levels - 1

    @property
    def crs(self) -> str:
        return crs_uri(self.epsg)

    def cell_size(self, z: int) -> float:
        """A pixel's width at zoom z, in CRS units."""
        return self.span / TILE_SIZE / 2**z

    def scale_denominator(self, z: int) -> float:
        return self.cell_size(z) * self.metres_per_unit / PIXEL_METRES

    def matrix_size(self, z: int) -> tuple[int, int]:
        """(columns, rows) at zoom z."""
        return self.columns_at_zero * 2**z, 2**z

    def bounds(self, z: int, y: int, x: int) -> tuple[float, float, float, float]:
        """The tile's (xmin, ymin, xmax, ymax) in the set's CRS."""
        size = self.span / 2**z
        left, top = self.origin[0] + x * size, self.origin[1] - y * size
        return left, top - size, left + size, top

    def pixel_degrees(self, z: int, y: int) -> tuple[float, float]:
        """A pixel's width and height in degrees of lon and lat, in the middle of row y of
        zoom z (in Web Mercator a degree of latitude is longer than one of longitude by
        1/cos(lat))."""
        if self.epsg is None:
            return self.cell_size(z), self.cell_size(z)
        width = 360.0 / TILE_SIZE / 2**z
        _, bottom, _, top = self.bounds(z, y, 0)
        return width, width * math.cos(math.radians(_lat((bottom + top) / 2)))

    def lonlat_bounds(
        self, z: int, y: int, x: int, margin: float = 0.0
    ) -> tuple[float, float, float, float]:
        """The tile grown by `margin` (a fraction of its width) on each side, in lon/lat:
        the box a feature must meet to be drawn in it."""
        x1, y1, x2, y2 = self.bounds(z, y, x)
        grow = (x2 - x1) * margin
        x1, y1, x2, y2 = x1 - grow, y1 - grow, x2 + grow, y2 + grow
        if self.epsg is None:
            return x1, y1, x2, y2
        return _lon(x1), _lat(y1), _lon(x2), _lat(y2)

    def document(self) -> dict[str, Any]:
        """The set in the TMS 2.0 JSON encoding."""
        columns, rows = self.matrix_size(0)
        left, top = self.origin
        return {
            "id": self.id,
            "title": self.title,
            "uri": self.uri,
            "crs": self.crs,
            "orderedAxes": list(self.ordered_axes),
            "wellKnownScaleSet": self.well_known_scale_set,
            "boundingBox": {
                "lowerLeft": [left, top - rows * self.span],
                "upperRight": [left + columns * self.span, top],
                "crs": self.crs,
            },
            "tileMatrices": [
                {
                    "id": str(z),
                    "scaleDenominator": self.scale_denominator(z),
                    "cellSize": self.cell_size(z),
                    "cornerOfOrigin": "topLeft",
                    "pointOfOrigin": list(self.origin),
                    "tileWidth": TILE_SIZE,
                    "tileHeight": TILE_SIZE,
                    "matrixWidth": self.matrix_size(z)[0],
                    "matrixHeight": self.matrix_size(z)[1],
                }
                for z in range(self.levels)
            ],
        }


def _lon(x: float) -> float:
    return math.degrees(x / EARTH_RADIUS)


def _lat(y: float) -> float:
    return math.degrees(math.atan(math.sinh(y / EARTH_RADIUS)))


WEB_MERCATOR_QUAD = TileMatrixSet(
    id="WebMercatorQuad",
    title="Google Maps Compatible for the World",
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
    epsg=WEB_MERCATOR,
    ordered_axes=("X", "Y"),
    well_known_scale_set="http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
    origin=(-HALF_WORLD, HALF_WORLD),
    span=2 * HALF_WORLD,
    columns_at_zero=1,
    metres_per_unit=1.0,
    levels=25,
)
WORLD_CRS84_QUAD = TileMatrixSet(
    id="WorldCRS84Quad",
    title="CRS84 for the World",
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad",
    epsg=None,
    ordered_axes=("Lon", "Lat"),
    well_known_scale_set="http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad",
    origin=(-180.0, 90.0),
    span=180.0,
    columns_at_zero=2,
    metres_per_unit=METRES_PER_DEGREE,
    levels=24,
)
TILE_MATRIX_SETS = {s.id: s for s in (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD)}
