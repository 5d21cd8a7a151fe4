"""`registry backup FILE` → `registry restore FILE` into an empty database: every table, every
sequence, the row-level security policies, triggers and LEAKPROOF marks, and every evidence
file come back identical; a tampered archive and a database that is not empty are refused
before anything is written."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import psycopg
import pytest
from evidence_files import pdf, png, upload
from fastapi.testclient import TestClient
from operator_env import run

from service.core.cluster import LEAKPROOF_FUNCTIONS, OWNER_ROLE
from service.core.settings import Settings
from service.main import create_app

TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1
"""


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


def fingerprint(url: str) -> dict[str, Any]:
    """What must survive: each table's rows (as text, in order), each sequence's position,
    the policies, triggers, functions and the LEAKPROOF marks."""
    with psycopg.connect(plain(url)) as conn:
        tables = [r[0] for r in conn.execute(TABLES)]
        out: dict[str, Any] = {
            f"table {t}": conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), ''))"
                f' FROM public."{t}" x'
            ).fetchone()
            for t in tables
        }
        for (seq,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            out[f"sequence {seq}"] = conn.execute(
                f'SELECT last_value, is_called FROM public."{seq}"'
            ).fetchone()
        out["policies"] = sorted(
            conn.execute(
                "SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies"
                " WHERE schemaname = 'public'"
            ).fetchall()
        )
        out["triggers"] = sorted(
            conn.execute(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger"
                " WHERE NOT tgisinternal"
            ).fetchall()
        )
        out["functions"] = sorted(
            conn.execute(
                "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosecdef"
                " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d"
                " WHERE d.objid = p.oid AND d.deptype = 'e')"
            ).fetchall()
        )
        out["grants"] = sorted(
            conn.execute(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
                " WHERE grantee = 'registry_app'"
            ).fetchall()
        )
    return out


def leakproof(url: str) -> set[str]:
    """Which of PostGIS's bounding-box operators are marked LEAKPROOF (a superuser's step)."""
    with psycopg.connect(plain(url)) as conn:
        marked = {
            r[0]
            for r in conn.execute("SELECT oid::regprocedure::text FROM pg_proc WHERE proleakproof")
        }
    return {f for f in LEAKPROOF_FUNCTIONS if f.replace(" ", "") in marked}


def evidence(var: Path) -> dict[str, str]:
    root = var / "evidence"
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def add_evidence(env: dict[str, str]) -> None:
    """Two evidence files uploaded through the API, so the source has files to back up."""
    settings = Settings(
        env="test",
        database_url=env["DATABASE_URL"],
        migration_database_url=env["REGISTRY_MIGRATION_DATABASE_URL"],
        secret_key=env["REGISTRY_SECRET_KEY"],  # type: ignore[arg-type]
        var_dir=Path(env["REGISTRY_VAR_DIR"]),
    )
    logins = json.loads((settings.var_dir / "demo_logins.json").read_text())
    admin = next(x for x in logins if x["username"] == "henan_admin")
    with TestClient(create_app(settings)) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "henan_admin", "password": admin["password"]}
        ).json()["access_token"]
        who = {"Authorization": f"Bearer {token}"}
        office = client.get("/api/v1/offices", params={"limit": 1}, headers=who).json()
        office_id = office["items"][0]["id"]
        for name, data in (("门牌.png", png()), ("验收意见.pdf", pdf())):
            r = upload(client, who, office_id, name, data)
            assert r.status_code == 201, r.text


def empty_target(pg_cluster, name: str, var: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A new database with nothing in it (no extensions either), owned by the schema owner."""
    admin = pg_cluster.url("postgres", "postgres").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f'CREATE DATABASE {name} OWNER "{OWNER_ROLE}"')
    owner, app = pg_cluster.url(OWNER_ROLE, name), pg_cluster.url("registry_app", name)
    return {
        "DATABASE_URL": app,
        "REGISTRY_MIGRATION_DATABASE_URL": owner,
        "REGISTRY_VAR_DIR": str(var),
        "REGISTRY_SECRET_KEY": "cli-test-secret-0123456789-0123456789",
        "REGISTRY_SUPERUSER_DATABASE_URL": pg_cluster.url("postgres", name),
    }


@pytest.fixture(scope="module")
def archive(demo_loaded, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    add_evidence(demo_loaded)
    path = tmp_path_factory.mktemp("backup") / "registry.tar"
    done = run(demo_loaded, "backup", str(path))
    assert "evidence files" in done.stderr
    return path


def test_backup_then_restore_gives_back_every_table_and_file(
    archive, demo_loaded, pg_cluster, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    source_var = Path(demo_loaded["REGISTRY_VAR_DIR"])
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    files = evidence(source_var)
    assert len(files) >= 2
    assert {f"evidence/{name}" for name in files} <= set(manifest["members"])
    assert manifest["tables"]["offices"] > 100

    target = {**demo_loaded, **empty_target(pg_cluster, "restored", tmp_path / "var")}
    done = run(target, "restore", str(archive))
    assert "restored" in done.stderr
    assert fingerprint(target["REGISTRY_MIGRATION_DATABASE_URL"]) == fingerprint(
        demo_loaded["REGISTRY_MIGRATION_DATABASE_URL"]
    )
    restored = fingerprint(target["REGISTRY_MIGRATION_DATABASE_URL"])
    assert leakproof(target["REGISTRY_MIGRATION_DATABASE_URL"]) == set(LEAKPROOF_FUNCTIONS)
    assert evidence(tmp_path / "var") == {
        name: digest for name, digest in files.items() if f"evidence/{name}" in manifest["members"]
    }
    # the service's role reads it under row-level security, as it did the source
    with psycopg.connect(plain(target["DATABASE_URL"])) as conn:
        assert conn.execute("SELECT count(*) FROM offices").fetchone() == (0,)  # (none bound)

    # once restored, the database is not empty: a second restore is refused, untouched
    again = run(target, "restore", str(archive), ok=False)
    assert again.returncode == 1 and "not empty" in again.stderr
    assert fingerprint(target["REGISTRY_MIGRATION_DATABASE_URL"]) == restored


def test_a_tampered_archive_is_refused_before_anything_is_written(
    archive, demo_loaded, pg_cluster, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w") as out:
        changed = 0
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("evidence/") and not changed:
                data, changed = data[:-1] + bytes([data[-1] ^ 1]), 1  # one bit of one file
            out.addfile(member, io.BytesIO(data))
    assert changed
    target = {**demo_loaded, **empty_target(pg_cluster, "tampered", tmp_path / "var")}
    refused = run(target, "restore", str(tampered), ok=False)
    assert refused.returncode == 1 and "does not match its SHA-256" in refused.stderr
    with psycopg.connect(plain(target["REGISTRY_SUPERUSER_DATABASE_URL"])) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        assert tables == (0,)  # (not even PostGIS's: nothing was done)
    assert not (tmp_path / "var" / "evidence").exists()


def test_a_file_that_is_not_a_backup_is_refused(demo_loaded, pg_cluster, tmp_path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    target = {**demo_loaded, **empty_target(pg_cluster, "junk", tmp_path / "var")}
    refused = run(target, "restore", str(junk), ok=False)
    assert refused.returncode == 1 and "not a readable tar archive" in refused.stderr
