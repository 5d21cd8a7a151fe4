"""Backup and restore of the whole registry: the database and the evidence files, in one tar
archive with a manifest of their SHA-256 (`registry backup FILE`, `registry restore FILE`).

- **Consistent.** The database is dumped (pg_dump, custom format) from a snapshot exported
  by a transaction that also lists the evidence files its rows name, so the archive holds
  exactly the files of the dumped rows: a file the dump names and the disk lacks fails the
  backup, loudly.
- **Checked before use.** A restore reads the manifest, checks every member's size and hash
  and refuses any member it does not name (or a name outside `database.dump` and
  `evidence/<2 hex>/<sha256>`) before it touches the database.
- **Into an empty database, whole or not at all.** pg_restore runs in one transaction and
  stops at the first error, as the schema owner. What a plain dump loses because only a
  superuser may do it is done first, as the superuser: the extensions (PostGIS, btree_gist)
  and the LEAKPROOF marks of PostGIS's bounding-box operators (service/core/cluster.py:
  without them spatial queries under row-level security cannot use their indexes), and
  CONNECT for the service's role. Planner statistics are not in a dump: ANALYZE follows.
- Evidence files are content-addressed (service/records/blobs.py), so restoring one next to
  files already there never overwrites different bytes under the same name.

pg_dump and pg_restore come from the PostgreSQL installation the embedded cluster uses, else
from PATH (the service image's postgresql-client).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from service.core.cluster import APP_ROLE, LEAKPROOF_SQL, ClusterError, find_pg_bindir

FORMAT = "registry-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
_EVIDENCE = re.compile(r"^evidence/([0-9a-f]{2})/([0-9a-f]{64})$")
_CHUNK = 1024 * 1024
EXTENSIONS = ("postgis", "btree_gist")


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


@dataclass(frozen=True)
class Summary:
    """What an archive holds (its manifest, in short)."""

    path: Path
    revision: str
    tables: int
    rows: int
    files: int
    bytes: int


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A connection string without the password, and the environment that carries it (so it
    is never on a command line, which other users of the machine can read)."""
    params = conninfo_to_dict(url.replace("postgresql+psycopg://", "postgresql://"))
    password = params.pop("password", None)
    env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    return make_conninfo(**{k: str(v) for k, v in params.items()}), env


def _connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), **kwargs)


def _tool(name: str) -> str:
    """pg_dump or pg_restore: the embedded cluster's, else the one on PATH (Debian's
    postgresql-client, which the service image installs)."""
    try:
        return str(find_pg_bindir() / name)
    except ClusterError:
        found = shutil.which(name)
        if found is None:
            raise BackupError(f"{name} is not installed (Debian: postgresql-client)") from None
        return found


def _digest(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def backup(*, owner_url: str, var_dir: Path, target: Path) -> Summary:
    """Write the archive `target` (through a temporary name: a failed backup leaves nothing
    that looks like one)."""
    conninfo, env = _libpq(owner_url)
    evidence_root = var_dir / "evidence"
    with tempfile.TemporaryDirectory(prefix="registry-backup-") as tmp:
        dump = Path(tmp) / DUMP
        # a snapshot of its own, read by pg_dump: the rows dumped and the files listed agree
        with _connect(owner_url) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            hashes = sorted(
                r[0] for r in conn.execute("SELECT DISTINCT sha256 FROM evidence_files")
            )
            tables = _row_counts(conn)
            done = subprocess.run(
                [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}",
                 f"--file={dump}", f"--dbname={conninfo}"],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            conn.rollback()
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[-2000:]}")
        members: dict[str, dict[str, Any]] = {}
        sha, size = _digest(dump)
        members[DUMP] = {"sha256": sha, "bytes": size}
        missing = []
        for h in hashes:
            path = evidence_root / h[:2] / h
            if not path.is_file():
                missing.append(h)
                continue
            sha, size = _digest(path)
            if sha != h:
                raise BackupError(f"evidence file {path} does not hold the bytes of its name")
            members[f"evidence/{h[:2]}/{h}"] = {"sha256": sha, "bytes": size}
        if missing:
            raise BackupError(
                f"{len(missing)} evidence file(s) named by the database are missing under "
                f"{evidence_root}, e.g. {missing[0]}: the backup would not restore them"
            )
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "alembic_revision": revision[0] if revision else None,
            "tables": tables,
            "members": members,
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        try:
            with tarfile.open(partial, "w") as tar:
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(data))
                tar.add(dump, arcname=DUMP)
                for name in members:
                    if name != DUMP:
                        tar.add(evidence_root / name.removeprefix("evidence/"), arcname=name)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return _summary(target, manifest)


def _row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows of every table of the schema (the manifest's inventory)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
            " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid"
            "                 AND d.deptype = 'e') ORDER BY 1"
        )
    ]
    return {
        name: conn.execute(
            sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(name))
        ).fetchone()[0]  # type: ignore[index]
        for name in names
    }


def _summary(path: Path, manifest: dict[str, Any]) -> Summary:
    members = manifest["members"]
    return Summary(
        path=path,
        revision=str(manifest.get("alembic_revision")),
        tables=len(manifest["tables"]),
        rows=sum(manifest["tables"].values()),
        files=sum(1 for name in members if name != DUMP),
        bytes=sum(m["bytes"] for m in members.values()),
    )


@contextmanager
def verified(archive: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    """The archive's manifest and a directory holding its members, each checked against the
    manifest (BackupError naming the first that is not what it says)."""
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    with tempfile.TemporaryDirectory(prefix="registry-restore-") as tmp, _open(archive) as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile():
            raise BackupError(f"{archive}: not a registry backup (no {MANIFEST} first)")
        try:
            manifest = json.load(tar.extractfile(first))  # type: ignore[arg-type]
        except ValueError as exc:
            raise BackupError(f"{archive}: its manifest is not JSON: {exc}") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive}: format {manifest.get('format')!r}, expected {FORMAT}")
        expected: dict[str, dict[str, Any]] = manifest["members"]
        seen = set()
        for member in tar:
            if member.offset == first.offset:  # (iterating starts again at the manifest)
                continue
            name = member.name
            if name not in expected or name in seen or not member.isfile():
                raise BackupError(f"{archive}: member {name!r} is not in the manifest")
            if name != DUMP and not _EVIDENCE.match(name):
                raise BackupError(f"{archive}: member {name!r} is not a backup's member")
            out = Path(tmp) / name
            out.parent.mkdir(parents=True, exist_ok=True)
            h, size = hashlib.sha256(), 0
            with tar.extractfile(member) as src, open(out, "wb") as dst:  # type: ignore[union-attr]
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
            want = expected[name]
            if h.hexdigest() != want["sha256"] or size != want["bytes"]:
                raise BackupError(f"{archive}: {name} does not match its SHA-256 in the manifest")
            seen.add(name)
        if seen != set(expected):
            lost = sorted(set(expected) - seen)
            raise BackupError(f"{archive}: {len(lost)} member(s) missing, e.g. {lost[0]}")
        yield manifest, Path(tmp)


@contextmanager
def _open(archive: Path) -> Iterator[tarfile.TarFile]:
    try:
        with tarfile.open(archive, "r:") as tar:
            yield tar
    except tarfile.TarError as exc:
        raise BackupError(f"{archive}: not a readable tar archive: {exc}") from exc


def restore(*, archive: Path, owner_url: str, superuser_url: str, var_dir: Path) -> Summary:
    """Restore `archive` into the (empty) database of `owner_url` and its evidence files
    under `var_dir`."""
    with verified(archive) as (manifest, members):
        extension_tables = _prepare(superuser_url)
        dump = members / DUMP
        listed = subprocess.run(
            [_tool("pg_restore"), "--list", str(dump)], capture_output=True, text=True
        )
        if listed.returncode:
            raise BackupError(f"pg_restore could not read the dump: {listed.stderr[-2000:]}")
        # the extensions (and their comments) were made by the superuser above, who also
        # restores the rows a dump keeps of an extension's own tables (PostGIS's
        # spatial_ref_sys: user-added systems only); the owner restores everything else
        entries = [line for line in listed.stdout.splitlines() if " EXTENSION " not in line]
        theirs = [
            line
            for line in entries
            if any(f" TABLE DATA public {t} " in line for t in extension_tables)
        ]
        ours = [line for line in entries if line not in theirs]
        if theirs:
            _pg_restore(dump, members / "extension.list", theirs, superuser_url)
        _pg_restore(dump, members / "restore.list", ours, owner_url)
        with _connect(owner_url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        for name in manifest["members"]:
            if name == DUMP:
                continue
            target = var_dir / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(members / name, target)
        return _summary(archive, manifest)


def _pg_restore(dump: Path, toc: Path, entries: list[str], url: str) -> None:
    """pg_restore of the dump's `entries` as the user of `url`: in one transaction, stopping at
    the first error (so restoring nothing of them)."""
    toc.write_text("\n".join(entries) + "\n")
    conninfo, env = _libpq(url)
    done = subprocess.run(
        [_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner",
         f"--use-list={toc}", f"--dbname={conninfo}", str(dump)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise BackupError(f"pg_restore failed, and restored nothing: {done.stderr.strip()[-2000:]}")


def _prepare(superuser_url: str) -> list[str]:
    """The superuser's part, in the target database: refuse one that is not empty, then make
    what a dump cannot (the extensions, the LEAKPROOF marks, the service role's CONNECT);
    returns the extensions' own tables."""
    with _connect(superuser_url, autocommit=True) as conn:
        used = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
            " AND n.nspname NOT LIKE 'pg_temp%%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid"
            "                 AND d.deptype = 'e')"
        ).fetchone()[0]  # type: ignore[index]
        if used:
            raise BackupError(
                f"the target database is not empty ({used} tables, views or sequences): "
                "restore only into a new, empty database"
            )
        for extension in EXTENSIONS:
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension))
            )
        conn.execute(LEAKPROOF_SQL)
        extension_tables = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'"
                " WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ]
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
            database = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(database), sql.Identifier(APP_ROLE)
                )
            )
    return extension_tables
