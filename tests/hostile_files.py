"""Hostile files and a database fingerprint, shared by the security tests."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any

from factories import xlsx_bytes
from sqlalchemy import text


def roster_xlsx(rows: list[list[Any]], headers: list[str]) -> bytes:
    return xlsx_bytes([headers, *rows])


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.shp", b"\0" * (200 * 1024 * 1024))
        zf.writestr("a.shx", b"\0" * 100)
        zf.writestr("a.dbf", b"\0" * 100)
    return buf.getvalue()


def xlsx_bomb(size: int) -> bytes:
    """A workbook whose shared strings inflate to `size` bytes from a few hundred kilobytes."""
    buf = io.BytesIO(roster_xlsx([["x"]], ["司法所名称"]))
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        chunk = b"<si><t>" + b"a" * 1000 + b"</t></si>"
        dst.writestr("xl/sharedStrings.xml", chunk * (size // len(chunk)))
    return out.getvalue()


def lying_zip(content: bytes, member: str, declared: int) -> bytes:
    """The archive with `member`'s declared size (and CRC) cut to its first `declared` bytes,
    while its compressed stream still inflates to all of it."""
    data = bytearray(content)
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        info = zf.getinfo(member)
        crc = zlib.crc32(zf.read(member)[:declared])
    struct.pack_into("<I", data, info.header_offset + 14, crc)
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    central = data.find(b"PK\x01\x02" + data[info.header_offset + 4 : info.header_offset + 6])
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_len] == member.encode():
            struct.pack_into("<I", data, central + 16, crc)
            struct.pack_into("<I", data, central + 24, declared)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def snapshot(session) -> list[Any]:  # type: ignore[no-untyped-def]
    """Every row an input could touch, for an exact before/after comparison."""
    out = []
    for table in ("divisions", "offices", "users", "auth_sessions", "audit_events"):
        out.append(
            (
                table,
                session.execute(
                    text(
                        f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)), count(*) FROM {table} t"
                    )
                ).one(),
            )
        )
    return out
