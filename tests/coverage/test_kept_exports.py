"""Report exports are kept by the data versions they read (service/http/kept_exports.py): the
same file asked again comes from the worker's memory, or as a 304 to a client that holds its
ETag, without the report being computed; a write of what the report reads is in the next
file."""

from __future__ import annotations

from office_records import OfficeSpec, register
from prometheus_client import REGISTRY

GAPS = "/api/v1/coverage/gaps"
QUERY = {"region": "410184", "format": "csv"}


def kept(result: str) -> float:
    labels = {"cache": "pages", "result": result}
    return REGISTRY.get_sample_value("registry_cache_lookups_total", labels) or 0.0


def test_an_export_asked_again_is_kept_and_a_write_is_in_the_next(client, auth) -> None:  # type: ignore[no-untyped-def]
    who = auth("xinzheng_county")
    first = client.get(GAPS, params=QUERY, headers=who)
    assert first.status_code == 200 and "attachment" in first.headers["content-disposition"]
    tag = first.headers["ETag"]
    hits = kept("hit")
    again = client.get(GAPS, params=QUERY, headers=who)
    assert again.content == first.content and again.headers["ETag"] == tag
    assert again.headers["content-disposition"] == first.headers["content-disposition"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert kept("hit") == hits + 1
    held = client.get(GAPS, params=QUERY, headers={**who, "If-None-Match": tag})
    assert held.status_code == 304 and held.content == b""
    # the JSON answer is not a file: nothing kept, no tag
    assert "ETag" not in client.get(GAPS, params={"region": "410184"}, headers=who).headers
    # another user, another file (their own region's)
    city = client.get(GAPS, params=QUERY, headers=auth("zhengzhou_city"))
    assert city.status_code == 200 and city.headers["ETag"] != tag

    gap = first.text.splitlines()[1].split(",")[0]  # (the first gap township's code)
    register(client, who, gap, OfficeSpec())
    after = client.get(GAPS, params=QUERY, headers={**who, "If-None-Match": tag})
    assert after.status_code == 200 and after.headers["ETag"] != tag
    assert gap in first.text and gap not in after.text
