"""Test helper: an office of the mini 河南 fixture registered over HTTP with a full set of
records (facilities, staff), described as data so that a test can change one fact of it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

import shapely
from factories import mini_features

from service.divisions.kinds import DivisionLevel, kind_from_name
from service.offices.naming import expected_name
from service.standards import measures

COUNTY_NAMES = {"410184": "新郑市", "410122": "中牟县", "410222": "通许县", "140105": "小店区"}


def _fixture(code: str) -> str:
    return "mini_shanxi" if code.startswith("14") else "mini_henan"


YEAR = date.today().year


def staff_member(position: str = "staff", **extra: Any) -> dict[str, Any]:
    """A staff member who meets every criterion on staff (`extra` overrides any field)."""
    return {
        "name": "张三" if position == "director" else "李四",
        "position": position,
        "education": "bachelor",
        "law_major": True,
        "formal": True,
        "civil_servant": True,
        "party_member": False,
        "heads_legal_service": False,
        "training_year": YEAR,
        "training_days": 10,
        **extra,
    }


def full_facilities() -> dict[str, Any]:
    """Facilities that meet every criterion of every seed standard."""
    return {
        "own_premises": True,
        "separated_from_legal_service": True,
        "party_organisation": "branch",
        "rooms": list(measures.ROOMS),
        "certificates": list(measures.CERTIFICATES),
        "displays": list(measures.DISPLAYS),
        "registers": list(measures.REGISTERS),
        "systems": list(measures.SYSTEMS),
        "equipment": dict.fromkeys(measures.EQUIPMENT, 3),
        "vehicles": {"car": 1, "motorcycle": 1},
        "results_year": YEAR,
        "mediation_success_rate": 98,
        "key_assistance_rate": 100,
        "key_placement_rate": 100,
        "reoffending_rate": 1,
        "practices": dict.fromkeys(measures.PRACTICES, True),
        "staff_establishment": 5,
    }


def full_work_record() -> dict[str, Any]:
    """A year of work (第四篇) that meets every criterion reading it; its counts give the
    work-result rates (98 % mediation success, 100 % assisted and placed, 0 % re-offending)."""
    return {
        "mediation_cases": 50,
        "mediation_successes": 49,
        "villages": 20,
        "mediation_committees": 20,
        "mediators": 40,
        "full_time_mediators": 2,
        "mediator_min_training_days": 5,
        "released_persons": 30,
        "key_persons": 5,
        "key_assisted": 5,
        "key_placed": 5,
        "reoffended": 0,
        "community_corrections": 8,
        "assistance_agreements": 30,
        "publicity_events": 12,
        "legal_aid_cases": 6,
        "rights_stations": 1,
        "discipline_violations": 0,
        "titles": ["civilised_office"],
        "county_assessment_passed": True,
        "reports_on_time": True,
    }


@dataclass
class OfficeSpec:
    """What an office records: its area, facilities (None = not recorded), staff and this
    year's work record (None = none)."""

    area_m2: float | None = 200
    name: str | None = None  # None: the name in its current (第五篇) form
    facilities: dict[str, Any] | None = field(default_factory=full_facilities)
    work_record: dict[str, Any] | None = field(default_factory=full_work_record)
    work_year: int = YEAR  # the year of the work record
    staff: list[dict[str, Any]] = field(
        default_factory=lambda: (
            [staff_member("director", party_member=True)] + [staff_member() for _ in range(4)]
        )
    )

    def copy(self) -> OfficeSpec:
        return copy.deepcopy(self)


def township_point(code: str) -> tuple[float, float]:
    ((geom, _),) = mini_features(_fixture(code), lambda c: c == code)
    largest = max(shapely.get_parts(geom), key=lambda g: g.area)
    x, y = shapely.maximum_inscribed_circle(largest).coords[0]
    return x, y


def township_office_name(code: str) -> str:
    ((_, props),) = mini_features(_fixture(code), lambda c: c == code)
    kind = kind_from_name(props["name"], DivisionLevel.township).value
    return expected_name(COUNTY_NAMES[code[:6]], props["name"], kind)


def older_office_name(code: str) -> str:
    """The name in the older form (第二篇: the township's full name, 乡/镇 kept)."""
    ((_, props),) = mini_features(_fixture(code), lambda c: c == code)
    return f"{COUNTY_NAMES[code[:6]]}司法局{props['name'].removesuffix('办事处')}司法所"


def register(client, headers: dict[str, str], code: str, spec: OfficeSpec) -> int:  # type: ignore[no-untyped-def]
    """Create the office in township `code` of the test fixtures and record `spec`; returns
    its id."""
    spec = spec if spec.name else replace(spec, name=township_office_name(code))
    return register_at(client, township_point(code), spec, headers)


def register_at(
    client, point: tuple[float, float], spec: OfficeSpec, headers: dict[str, str] | None = None
) -> int:  # type: ignore[no-untyped-def]
    """Create the office named `spec.name` at `point` (lon, lat) and record `spec`; returns
    its id."""
    lon, lat = point
    headers = headers or {}
    body: dict[str, Any] = {
        "name": spec.name,
        "location": {"lon": lon, "lat": lat},
        "opened_on": "2000-01-01",
    }
    if spec.area_m2 is not None:
        body["area_m2"] = spec.area_m2
    r = client.post("/api/v1/offices", json=body, headers=headers)
    assert r.status_code == 201, r.text
    office_id = int(r.json()["id"])
    if spec.facilities is not None:
        r = client.put(
            f"/api/v1/offices/{office_id}/facilities", json=spec.facilities, headers=headers
        )
        assert r.status_code == 200, r.text
    for member in spec.staff:
        r = client.post(f"/api/v1/offices/{office_id}/staff", json=member, headers=headers)
        assert r.status_code == 201, r.text
    if spec.work_record is not None:
        r = client.put(
            f"/api/v1/offices/{office_id}/work-records/{spec.work_year}",
            json=spec.work_record,
            headers=headers,
        )
        assert r.status_code == 200, r.text
    return office_id


def compliance(client, headers: dict[str, str], office_id: int, standard: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.get(
        f"/api/v1/offices/{office_id}/compliance", params={"standard": standard}, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()


def status_of(report: dict[str, Any], key: str) -> str:
    (item,) = [i for i in report["items"] if i["key"] == key]
    return str(item["status"])


def _num(value: Decimal | float | int) -> float:
    return float(value)
