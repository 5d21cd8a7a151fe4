"""Evidence and regions, from outside over HTTP: a county bureau or office staff cannot list,
read or upload evidence of an office outside its region (404, nothing written), and a file is
never served under another office's id, whoever guesses it."""

from __future__ import annotations

import pytest
from evidence_files import listed, on_disk, pdf, upload


@pytest.fixture
def evidence_of(client, auth, xincun_office, xindian_office) -> dict[int, int]:
    """新村's and 辛店's offices, one evidence file each: office id → evidence id."""
    files = {}
    for office_id in (xincun_office, xindian_office):
        r = upload(client, auth("xinzheng_county"), office_id, "a.pdf", pdf())
        assert r.status_code == 201, r.text
        files[office_id] = r.json()["id"]
    return files


@pytest.mark.parametrize(
    ("user", "target"),
    [
        ("zhongmu_county", "xincun"),  # a sibling county's bureau
        ("shanxi_admin", "xincun"),  # another province
        ("xincun_staff", "xindian"),  # the staff of the neighbouring township
    ],
)
def test_evidence_outside_the_region_is_not_found(
    client, auth, settings, xincun_office, xindian_office, evidence_of, user, target
) -> None:
    office_id = xincun_office if target == "xincun" else xindian_office
    url = f"/api/v1/offices/{office_id}/evidence"
    for r in (
        client.get(url, headers=auth(user)),
        client.get(f"{url}/{evidence_of[office_id]}/content", headers=auth(user)),
    ):
        assert (r.status_code, r.json()["code"]) == (404, "office_not_found")
    data = pdf()
    r = upload(client, auth(user), office_id, "a.pdf", data)
    assert (r.status_code, r.json()["code"]) == (404, "office_not_found")
    assert on_disk(settings.var_dir, data) == []
    assert len(listed(client, auth("xinzheng_county"), office_id)) == 1


@pytest.mark.parametrize("user", ["xincun_staff", "xinzheng_county", "henan_admin"])
def test_an_evidence_id_of_another_office_is_not_served(
    client, auth, xincun_office, xindian_office, evidence_of, user
) -> None:
    """Guessing ids: 辛店's file asked for under 新村's office is not found, for anyone."""
    theirs = evidence_of[xindian_office]
    r = client.get(f"/api/v1/offices/{xincun_office}/evidence/{theirs}/content", headers=auth(user))
    assert (r.status_code, r.json()["code"]) == (404, "evidence_not_found")
    assert r.headers["content-type"] == "application/json"
