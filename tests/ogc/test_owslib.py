"""OWSLib (PyPI), a client none of us wrote, reads the OGC API over real HTTP: the landing
page, conformance, collections, items (paged, filtered) and queryables parse, and what it
reads is the caller's region."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live import live_app
from owslib.ogcapi.features import Features


@pytest.fixture(scope="module")
def server(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with live_app(settings) as url:
        yield url


def client_of(server: str, base_data, settings, who: str) -> Features:  # type: ignore[no-untyped-def]
    return Features(f"{server}/ogc", headers=base_data.logins[who].headers(settings))


def test_owslib_reads_every_document(server, base_data, settings) -> None:  # type: ignore[no-untyped-def]
    w = client_of(server, base_data, settings, "henan_planner")
    assert w.links and any(x["rel"] == "data" for x in w.links)
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in w.conformance()["conformsTo"]
    )
    collections = w.collections()["collections"]
    assert {c["id"] for c in collections} >= {"townships", "offices", "coverage"}
    assert w.collection("townships")["storageCrs"].endswith("CRS84")
    page = w.collection_items("townships", limit=5)
    assert page["type"] == "FeatureCollection" and len(page["features"]) == 5
    assert page["numberMatched"] > 5
    narrowed = w.collection_items("townships", limit=100, filter="code LIKE '410184%'")
    codes = [f["properties"]["code"] for f in narrowed["features"]]
    assert codes and all(c.startswith("410184") for c in codes)
    assert narrowed["numberMatched"] == len(codes) < page["numberMatched"]
    queryables = w.collection_queryables("offices")
    assert queryables["properties"]["state"]["type"] == "string"
    one = w.collection_item("townships", codes[0])
    assert one["id"] == codes[0] and one["geometry"]["type"] == "MultiPolygon"


def test_owslib_as_a_city_bureau_reads_its_city(server, base_data, settings) -> None:  # type: ignore[no-untyped-def]
    w = client_of(server, base_data, settings, "zhengzhou_city")
    page = w.collection_items("townships", limit=1000)
    assert page["features"] and all(
        f["properties"]["code"].startswith("4101") for f in page["features"]
    )
