"""Not recorded is unknown, never failed: equipment and vehicles left out of the facility
record (null) make their criteria unknown — they were once stored as the JSON value null,
which read as an empty map, and failed every equipment criterion."""

from __future__ import annotations

from criteria_cases import COUNTY, TOWN
from office_records import OfficeSpec, compliance, register, status_of


def test_equipment_and_vehicles_not_recorded_are_unknown(client, auth) -> None:
    spec = OfficeSpec()
    assert spec.facilities is not None
    spec.facilities["equipment"] = None
    spec.facilities["vehicles"] = None
    office = register(client, auth(COUNTY), TOWN, spec)
    report = compliance(client, auth(COUNTY), office, "2")
    for key in ("HN2009-EQUIP-IT", "HN2009-EQUIP-FURNITURE", "HN2009-VEHICLES"):
        assert status_of(report, key) == "unknown", key
    assert status_of(report, "HN2009-AREA") == "pass"  # the rest of the record still counts
