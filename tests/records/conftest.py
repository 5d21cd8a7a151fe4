"""Offices the evidence and work-record tests use, recording nothing yet: xincun_staff's own
(新村镇), its neighbour in the same county (辛店镇) and one in 山西; and a trigger with which
PostgreSQL refuses a marked row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from evidence_files import office_body
from office_records import OfficeSpec, register
from sqlalchemy import text

REFUSED_BY_DATABASE = "refused-by-the-database"


def bare_office(client, auth, code: str) -> int:  # type: ignore[no-untyped-def]
    """An office of 新郑 township `code`, registered with no facilities, staff or work record."""
    return register(
        client,
        auth("xinzheng_county"),
        code,
        OfficeSpec(facilities=None, staff=[], work_record=None),
    )


@pytest.fixture
def xincun_office(client, auth) -> int:  # type: ignore[no-untyped-def]
    return bare_office(client, auth, "410184101")


@pytest.fixture
def xindian_office(client, auth) -> int:  # type: ignore[no-untyped-def]
    return bare_office(client, auth, "410184102")


@pytest.fixture
def shanxi_office(client, auth) -> int:  # type: ignore[no-untyped-def]
    body = office_body("mini_shanxi", "140105100", "小店区")
    r = client.post("/api/v1/offices", json=body, headers=auth("shanxi_admin"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture(scope="module")
def database_refuses(owner_engine, engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The description with which PostgreSQL refuses an evidence row after its bytes were
    written (a trigger the schema owner creates for these tests only): the failure a clean-up
    must undo."""
    with owner_engine.begin() as conn:
        conn.execute(
            text(
                f"""
                CREATE FUNCTION test_refuse_evidence() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.description = '{REFUSED_BY_DATABASE}' THEN
                    RAISE EXCEPTION 'refused for the test' USING ERRCODE = 'check_violation';
                  END IF;
                  RETURN NEW;
                END $$;
                CREATE TRIGGER test_refuse_evidence BEFORE INSERT ON evidence_files
                  FOR EACH ROW EXECUTE FUNCTION test_refuse_evidence();
                """
            )
        )
    yield REFUSED_BY_DATABASE
    with owner_engine.begin() as conn:
        conn.execute(text("DROP TRIGGER test_refuse_evidence ON evidence_files"))
        conn.execute(text("DROP FUNCTION test_refuse_evidence()"))
