"""Run by Debian's /usr/bin/python3 (QGIS's own Python, headless): load the OGC API as QGIS
does — an OAPIF layer with HTTP Basic credentials from QGIS's authentication database, with
and without a CQL2 filter, and a vector-tile layer of township coverage — render each to a
PNG and print what QGIS saw as JSON. Called by tests/ogc/test_qgis.py."""

import json
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

base, username, token, out_dir = sys.argv[1:5]
profile = tempfile.mkdtemp()
os.environ["QGIS_AUTH_DB_DIR_PATH"] = profile
app = QgsApplication([], False, profile)
app.initQgis()
auth = QgsApplication.authManager()
auth.setMasterPassword("qgis-test-master", True)
config = QgsAuthMethodConfig()
config.setMethod("Basic")
config.setName("registry")
config.setConfig("username", username)
config.setConfig("password", token)
auth.storeAuthenticationConfig(config)
authcfg = config.id()


def render(layer, path):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setOutputSize(QSize(400, 400))
    settings.setBackgroundColor(QColor("white"))
    extent = layer.extent()
    if extent.isEmpty() or not extent.isFinite():
        extent = QgsRectangle(112.5, 34.0, 114.5, 35.5)
    settings.setExtent(extent)
    settings.setDestinationCrs(layer.crs())
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(path)
    painted = sum(
        1
        for x in range(0, image.width(), 4)
        for y in range(0, image.height(), 4)
        if QColor(image.pixel(x, y)).name() != "#ffffff"
    )
    return painted


result = {}
for name, subset in (("all", ""), ("filtered", "code LIKE '410184%'")):
    uri = f"url='{base}/ogc' typename='townships' authcfg={authcfg}"
    layer = QgsVectorLayer(uri, name, "OAPIF")
    if subset:
        # QGIS sends what it can of a subset string to the server as a filter (else it
        # filters what it fetched): either way the layer holds only what satisfies it
        layer.setSubsetString(subset)
    entry = {"valid": layer.isValid()}
    if layer.isValid():
        entry["count"] = sum(1 for _ in layer.getFeatures())
        entry["codes"] = sorted({f["code"] for f in layer.getFeatures()})
        entry["painted"] = render(layer, os.path.join(out_dir, f"qgis_oapif_{name}.png"))
    else:
        entry["error"] = layer.dataProvider().error().message() if layer.dataProvider() else ""
    result[name] = entry
    print(name, json.dumps(entry)[:300], file=sys.stderr, flush=True)

tiles = (
    f"type=xyz&url={base}/ogc/collections/coverage/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
    f"&zmin=0&zmax=14&authcfg={authcfg}"
)
vt = QgsVectorTileLayer(tiles, "coverage")
entry = {"valid": vt.isValid()}
if vt.isValid():
    settings_extent = QgsRectangle(12510000, 4060000, 12700000, 4200000)  # 新郑 (EPSG:3857)
    s = QgsMapSettings()
    s.setLayers([vt])
    s.setOutputSize(QSize(400, 400))
    s.setBackgroundColor(QColor("white"))
    s.setDestinationCrs(vt.crs())
    s.setExtent(settings_extent)
    job = QgsMapRendererParallelJob(s)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(os.path.join(out_dir, "qgis_vector_tiles.png"))
    entry["painted"] = sum(
        1
        for x in range(0, image.width(), 4)
        for y in range(0, image.height(), 4)
        if QColor(image.pixel(x, y)).name() != "#ffffff"
    )
result["tiles"] = entry
print(json.dumps(result), flush=True)
# (QGIS 3.22 may crash tearing down its network threads: what it saw is printed already)
os._exit(0)
