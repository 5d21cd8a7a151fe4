"""Test helper for evidence files: fresh file contents (so each test's blob is its own), where
their bytes would be on disk, and uploads, including multipart bodies written byte by byte."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import shapely
from factories import mini_features

from service.divisions.kinds import DivisionLevel, kind_from_name
from service.offices.naming import expected_name


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(48)


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(48)


def pdf(body: bytes = b"") -> bytes:
    return b"%PDF-1.4\n%" + os.urandom(16).hex().encode() + b"\n" + body


def blob(var_dir: Path, data: bytes) -> Path:
    """Where the registry keeps these bytes (var/evidence/<2 hex>/<sha256>)."""
    sha = hashlib.sha256(data).hexdigest()
    return var_dir / "evidence" / sha[:2] / sha


def on_disk(var_dir: Path, data: bytes) -> list[Path]:
    """Every file under var/evidence named for these bytes' hash: the blob or a partial write."""
    target = blob(var_dir, data)
    return sorted(target.parent.glob(f"*{target.name}*")) if target.parent.exists() else []


def office_body(fixture: str, code: str, county: str) -> dict[str, Any]:
    """A valid registration of an office in township `code` of a mini fixture."""
    ((geom, props),) = mini_features(fixture, lambda c: c == code)
    p = shapely.point_on_surface(geom)
    kind = kind_from_name(props["name"], DivisionLevel.township).value
    return {
        "name": expected_name(county, props["name"], kind),
        "location": {"lon": p.x, "lat": p.y},
    }


def upload(client, headers, office_id: int, name: str, data: bytes, description=None):  # type: ignore[no-untyped-def]
    form = {} if description is None else {"description": description}
    return client.post(
        f"/api/v1/offices/{office_id}/evidence",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        headers=headers,
    )


def raw_upload(client, headers, office_id: int, filename: bytes, data: bytes):  # type: ignore[no-untyped-def]
    """POST a multipart body written byte by byte: HTTP clients escape control characters in
    file names (NUL becomes %00), a hostile client does not."""
    boundary = b"evidence-test-boundary"
    body = b"\r\n".join(
        [
            b"--" + boundary,
            b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"',
            b"Content-Type: application/octet-stream",
            b"",
            data,
            b"--" + boundary + b"--",
            b"",
        ]
    )
    return client.post(
        f"/api/v1/offices/{office_id}/evidence",
        content=body,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=" + boundary.decode()},
    )


def listed(client, headers, office_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The sha256 of every evidence file the office lists."""
    r = client.get(f"/api/v1/offices/{office_id}/evidence", headers=headers)
    assert r.status_code == 200, r.text
    return [e["sha256"] for e in r.json()]
