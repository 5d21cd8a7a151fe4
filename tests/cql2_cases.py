"""CQL2 filters as the OGC API tests write them: a filter of each class in both encodings
with the offices it keeps (of the offices tests/ogc/conftest.py makes, staffed), and the
features of a collection as a client pages nothing and asks for all."""

from __future__ import annotations

from typing import Any

import shapely

OFFICE_TOWNSHIPS = ("410184101", "410122101", "410222101")
# staff numbers and an area to compare: (township, staff, area in m²)
STAFFED = (("410184101", 3, 80.5), ("410122101", 1, 120.0))


def features(client, auth, collection: str, who: str = "henan_admin", **params: Any) -> list[dict]:  # type: ignore[no-untyped-def]
    r = client.get(
        f"/ogc/collections/{collection}/items", params={"limit": 1000, **params}, headers=auth(who)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["numberMatched"] == len(body["features"])
    return body["features"]


def ids(found: list[dict]) -> set[str]:
    return {f["id"] for f in found}


def township_shape(client, auth, code: str) -> shapely.Geometry:  # type: ignore[no-untyped-def]
    r = client.get(f"/ogc/collections/townships/items/{code}", headers=auth("henan_admin"))
    return shapely.geometry.shape(r.json()["geometry"])


# (the class it exercises, cql2-text, the same in cql2-json, which offices it keeps)
CASES: list[tuple[str, str, dict, set[str]]] = [
    (
        "basic-cql2",
        "staff_total >= 2 AND state = 'not_applied'",
        {
            "op": "and",
            "args": [
                {"op": ">=", "args": [{"property": "staff_total"}, 2]},
                {"op": "=", "args": [{"property": "state"}, "not_applied"]},
            ],
        },
        {"410184101"},
    ),
    (
        "basic-cql2",
        "NOT (staff_total IS NULL) OR code = '410222101'",
        {
            "op": "or",
            "args": [
                {"op": "not", "args": [{"op": "isNull", "args": [{"property": "staff_total"}]}]},
                {"op": "=", "args": [{"property": "code"}, "410222101"]},
            ],
        },
        set(OFFICE_TOWNSHIPS),
    ),
    (
        "advanced-comparison-operators",
        "area_m2 BETWEEN 100 AND 200",
        {"op": "between", "args": [{"property": "area_m2"}, 100, 200]},
        {"410122101"},
    ),
    (
        "advanced-comparison-operators",
        "code IN ('410184101', '410222101')",
        {"op": "in", "args": [{"property": "code"}, ["410184101", "410222101"]]},
        {"410184101", "410222101"},
    ),
    (
        "advanced-comparison-operators",
        "county LIKE '新郑%'",
        {"op": "like", "args": [{"property": "county"}, "新郑%"]},
        {"410184101"},
    ),
    (
        "case-insensitive-comparison",
        "CASEI(state) = CASEI('NOT_APPLIED') AND code LIKE '4101%'",
        {
            "op": "and",
            "args": [
                {
                    "op": "=",
                    "args": [
                        {"op": "casei", "args": [{"property": "state"}]},
                        {"op": "casei", "args": ["NOT_APPLIED"]},
                    ],
                },
                {"op": "like", "args": [{"property": "code"}, "4101%"]},
            ],
        },
        {"410184101", "410122101"},
    ),
    (
        "arithmetic",
        "staff_total * 2 + 1 > 4",
        {
            "op": ">",
            "args": [
                {"op": "+", "args": [{"op": "*", "args": [{"property": "staff_total"}, 2]}, 1]},
                4,
            ],
        },
        {"410184101"},
    ),
    (
        "property-property",
        "staff_formal = staff_total AND staff_total > 2",
        {
            "op": "and",
            "args": [
                {"op": "=", "args": [{"property": "staff_formal"}, {"property": "staff_total"}]},
                {"op": ">", "args": [{"property": "staff_total"}, 2]},
            ],
        },
        {"410184101"},
    ),
]
