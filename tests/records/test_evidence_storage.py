"""Evidence bytes on disk, from outside over HTTP: a refused upload leaves nothing on disk and
nothing in the database, even when PostgreSQL refuses the row after the bytes were written;
and a failure never removes bytes that a stored row (of any province) uses."""

from __future__ import annotations

import pytest
from evidence_files import blob, listed, on_disk, pdf, png, upload


def test_a_value_the_database_refuses_leaves_nothing(client, auth, xincun_office, settings) -> None:
    """A NUL in the description: PostgreSQL refuses it when the row is written (the check
    before writing is tested with the other names and texts)."""
    data = png()
    r = upload(client, auth("xincun_staff"), xincun_office, "门牌.png", data, "司法所\x00标牌")
    assert r.status_code == 422
    assert on_disk(settings.var_dir, data) == []
    assert listed(client, auth("xincun_staff"), xincun_office) == []


def test_a_failure_after_the_bytes_are_written_leaves_nothing(
    client, auth, xincun_office, settings, database_refuses
) -> None:
    data = png()
    r = upload(client, auth("xincun_staff"), xincun_office, "a.png", data, database_refuses)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    assert on_disk(settings.var_dir, data) == []
    assert listed(client, auth("xincun_staff"), xincun_office) == []
    # the same bytes, accepted this time, are written again and served
    r = upload(client, auth("xincun_staff"), xincun_office, "a.png", data)
    assert r.status_code == 201, r.text
    assert on_disk(settings.var_dir, data) == [blob(settings.var_dir, data)]
    assert client.get(r.json()["href"], headers=auth("xincun_staff")).content == data


@pytest.mark.parametrize(
    ("owner", "other_office"),
    [("xinzheng_county", "xindian_office"), ("shanxi_admin", "shanxi_office")],
    ids=["of_another_office", "of_another_province"],
)
def test_a_failed_upload_keeps_the_bytes_another_office_uses(
    client, auth, xincun_office, settings, database_refuses, request, owner, other_office
) -> None:
    """Also another province's: row-level security hides 山西's row from 河南's request, and
    the check before removing the blob must see it all the same."""
    other = request.getfixturevalue(other_office)
    data = pdf()
    kept = upload(client, auth(owner), other, "a.pdf", data)
    assert kept.status_code == 201, kept.text
    r = upload(client, auth("xincun_staff"), xincun_office, "b.pdf", data, database_refuses)
    assert r.status_code == 409
    assert on_disk(settings.var_dir, data) == [blob(settings.var_dir, data)]
    assert client.get(kept.json()["href"], headers=auth(owner)).content == data
    assert listed(client, auth("xincun_staff"), xincun_office) == []


def test_an_empty_file_is_refused_and_leaves_nothing(client, auth, xincun_office, settings) -> None:
    r = upload(client, auth("xincun_staff"), xincun_office, "a.pdf", b"")
    assert r.status_code == 415
    assert r.json() == {
        "code": "unsupported_media_type",
        "message": "file: the file is empty",
        "details": {"field": "file"},
    }
    assert on_disk(settings.var_dir, b"") == []


def test_a_role_that_may_not_upload_leaves_nothing(client, auth, xincun_office, settings) -> None:
    data = png()
    r = upload(client, auth("henan_planner"), xincun_office, "a.png", data)
    assert r.status_code == 403
    assert on_disk(settings.var_dir, data) == []
