"""Map pages and their offices are kept and revalidated by the data versions of everything a
page reads (service/maps/router.py `page_etag`, migration 0025): asked again, the same page
comes from the worker's memory, or as a 304 to a client that holds it; any write of what a
page reads — an office, its facilities, staff, records, the standards — changes the tag, so
the next page is made again and shows it; a write of an office in another city does not."""

from __future__ import annotations

import pytest
from evidence_files import pdf, upload
from office_records import OfficeSpec, register
from prometheus_client import REGISTRY
from sqlalchemy import text

from service.core.versions import EVERY_TABLE, REGIONAL, data_version

PAGE = ("/maps/coverage", {"region": "410184"})


@pytest.fixture
def world(client, auth) -> list[int]:  # type: ignore[no-untyped-def]
    """Two offices in 新郑's townships."""
    return [register(client, auth("xinzheng_county"), code, OfficeSpec()) for code in TOWNS]


TOWNS = ["410184101", "410184102"]


def kept(result: str) -> float:
    labels = {"cache": "pages", "result": result}
    return REGISTRY.get_sample_value("registry_cache_lookups_total", labels) or 0.0


def test_a_page_asked_again_is_kept_and_revalidated(client, auth, world) -> None:  # type: ignore[no-untyped-def]
    who = auth("xinzheng_county")
    first = client.get(PAGE[0], params=PAGE[1], headers=who)
    assert first.status_code == 200 and first.headers["ETag"].startswith('"')
    hits = kept("hit")
    again = client.get(PAGE[0], params=PAGE[1], headers=who)
    assert again.headers["ETag"] == first.headers["ETag"] and again.text == first.text
    assert kept("hit") == hits + 1
    held = client.get(
        PAGE[0], params=PAGE[1], headers={**who, "If-None-Match": first.headers["ETag"]}
    )
    assert held.status_code == 304 and held.content == b""
    # another filter, another region or another user's view is another page
    other = client.get(PAGE[0], params={**PAGE[1], "state": "accepted"}, headers=who)
    assert other.headers["ETag"] != first.headers["ETag"]
    city = client.get(PAGE[0], params=PAGE[1], headers=auth("zhengzhou_city"))
    assert city.status_code == 200 and city.headers["ETag"] != first.headers["ETag"]


def test_a_write_is_on_the_next_page(client, auth, world) -> None:  # type: ignore[no-untyped-def]
    who = auth("xinzheng_county")
    first = client.get(PAGE[0], params=PAGE[1], headers=who)
    url = f"/api/v1/offices/{world[0]}"
    current = client.get(url, headers=who)
    changed = client.patch(
        url, json={"phone": "0371-62001234"}, headers={**who, "If-Match": current.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.text
    misses = kept("miss")
    after = client.get(
        PAGE[0], params=PAGE[1], headers={**who, "If-None-Match": first.headers["ETag"]}
    )
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]
    assert kept("miss") == misses + 1  # (made again, not found)


@pytest.mark.parametrize("table", EVERY_TABLE)
def test_every_table_a_page_reads_moves_its_version(
    client, auth, session, base_data, world, table
) -> None:  # type: ignore[no-untyped-def]
    """A change of any table a page reads makes the page again. A change of an office or
    its records makes again only the maps of the cities it is in (migration 0026): 开封's
    page stays kept while 新郑 writes; a change of anything else makes every page again."""
    who, province = auth("xinzheng_county"), auth("henan_admin")
    before = data_version(session, tenant_id=base_data.henan_id, names=EVERY_TABLE)
    tag = client.get(PAGE[0], params=PAGE[1], headers=who).headers["ETag"]
    there = client.get(ELSEWHERE[0], params=ELSEWHERE[1], headers=province).headers["ETag"]
    if table in REGIONAL:
        _change_a_row(client, who, session, table, world[0])
    else:
        # a statement that changes no row moves the version of a table counted for the
        # whole tenant (the triggers are per statement): one the service role may run
        session.execute(text(_no_change(session, table)))
    assert data_version(session, tenant_id=base_data.henan_id, names=EVERY_TABLE) > before
    assert client.get(PAGE[0], params=PAGE[1], headers=who).headers["ETag"] != tag
    elsewhere = client.get(ELSEWHERE[0], params=ELSEWHERE[1], headers=province)
    assert (elsewhere.headers["ETag"] == there) is (table in REGIONAL)


ELSEWHERE = ("/maps/coverage", {"region": "410222"})  # 通许县, 开封


def _change_a_row(client, who, session, table: str, office: int) -> None:  # type: ignore[no-untyped-def]
    """A committed change of one row of `table` for `office` (of 新郑), as a user makes it."""
    if table == "acceptance_events":
        r = client.post(f"/api/v1/offices/{office}/acceptance/self_check", json={}, headers=who)
    elif table == "evidence_files":
        r = upload(client, who, office, "a.pdf", pdf())
    else:
        key = "id" if table == "offices" else "office_id"
        changed = session.execute(
            text(f"UPDATE {table} SET tenant_id = tenant_id WHERE {key} = :o"), {"o": office}
        )
        assert changed.rowcount >= 1
        return
    assert r.status_code in (200, 201), r.text


def _no_change(session, table: str) -> str:  # type: ignore[no-untyped-def]
    """A statement on `table` that changes no row, of a kind the service role may run."""
    allowed = {
        kind
        for kind in ("UPDATE", "INSERT", "DELETE")
        if session.scalar(text(f"SELECT has_table_privilege('{table}', '{kind}')"))
    }
    if table == "tenants":  # (its one column a tenant's administrator may change)
        return "UPDATE tenants SET required_kinds = required_kinds WHERE false"
    column = "tenant_id"
    if "UPDATE" in allowed:
        return f"UPDATE {table} SET {column} = {column} WHERE false"
    if "INSERT" in allowed:
        return f"INSERT INTO {table} SELECT * FROM {table} WHERE false"
    assert "DELETE" in allowed, f"the service role may not change {table}"
    return f"DELETE FROM {table} WHERE false"


def test_a_page_is_never_answered_with_its_offices(client, auth, world) -> None:  # type: ignore[no-untyped-def]
    """The page and its offices' GeoJSON are kept under different tags whatever the query
    says: a page asked with a parameter that once named the GeoJSON's tag is still a page."""
    who = auth("xinzheng_county")
    for zipped, name in ((False, "offices"), (True, "offices.gz")):
        encoding = {"Accept-Encoding": "gzip" if zipped else "identity"}
        data = client.get("/maps/coverage/offices", params=PAGE[1], headers={**who, **encoding})
        assert data.status_code == 200
        page = client.get(PAGE[0], params={**PAGE[1], "_": name}, headers={**who, **encoding})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["ETag"] != data.headers["ETag"]
        assert page.text.lstrip().lower().startswith("<!doctype html")


TILE = "/maps/coverage/tiles/8/101/208"  # (z/y/x: a tile over 郑州 and 开封)


def test_a_write_in_one_city_leaves_another_citys_tiles(client, auth, world) -> None:  # type: ignore[no-untyped-def]
    """A page's tile is named by the data versions of its region's city (migration 0026):
    新郑's edit makes 新郑's tile again and leaves 通许's (开封) as it was."""
    province = auth("henan_admin")

    def tag(region: str) -> str:
        r = client.get(TILE, params={"region": region}, headers=province)
        assert r.status_code in (200, 204), r.text
        return str(r.headers["ETag"])

    here, there = tag("410184"), tag("410222")
    who = auth("xinzheng_county")
    url = f"/api/v1/offices/{world[0]}"
    current = client.get(url, headers=who)
    changed = client.patch(
        url, json={"phone": "0371-62005678"}, headers={**who, "If-Match": current.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.text
    assert tag("410184") != here
    assert tag("410222") == there
