"""`registry import demo`: the demo tenants with generated divisions, offices and logins.

Only into a database of its own: demo tenants are marked (`tenants.demo`), and the demo is
refused where a real tenant is (and a real tenant where the demo is: `tenants/service.py`).
Idempotent: a tenant, its division set (recognised by the builder's content hash in
`source`), its offices (by external_id) and its users are each created only when missing,
so running it twice changes nothing. Demo passwords are random, kept in var/demo_logins.json.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.accounts.models import User
from service.accounts.roles import Role
from service.accounts.service import create_user
from service.core.db import Database, engine_for
from service.core.operator import owner_session, tenant_session
from service.core.settings import Settings
from service.demo.builder import cached_build
from service.demo.offices import load_offices
from service.demo.records import load_records
from service.divisions.importer import import_divisions
from service.standards.service import ensure_default_standards
from service.tenants.models import Tenant
from service.tenants.service import check_demo_separation, create_tenant, province_names

DEMO_VALID_FROM = date(2023, 1, 1)  # the code lists are the 2023 statistical division codes
GENERATED_SOURCE = "generated"  # prefix of `source` for generated (not official) boundaries
TENANT_NAMES = {"41": "河南省司法厅", "14": "山西省司法厅"}
USERNAME_STEMS = {"41": "henan", "14": "shanxi"}
DemoUser = tuple[str, Role, str]  # (suffix, role, region)


def _province_users(province: str, *local: DemoUser) -> list[DemoUser]:
    """A demo province's users: its administrator and planner, the `local` ones, and a viewer
    of the whole province."""
    return [
        ("admin", Role.province_admin, province),
        ("planner", Role.province_planner, province),
        *local,
        ("viewer", Role.viewer, province),
    ]


# region codes for 河南 and 山西 picked for a useful demo
DEMO_USERS = {
    "41": _province_users(
        "41",
        ("zhengzhou", Role.city_bureau, "4101"),
        ("kaifeng", Role.city_bureau, "4102"),
        ("xinzheng", Role.county_bureau, "410184"),
        ("xincun", Role.office_staff, "410184101"),
    ),
    "14": _province_users(
        "14", ("taiyuan", Role.city_bureau, "1401"), ("xiaodian", Role.county_bureau, "140105")
    ),
}

Progress = Callable[[str, int, int], None]


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str
    region: str

    def __str__(self) -> str:
        return f"{self.username:<22} {self.password:<24} {self.role:<18} {self.region}"


def _logins_file(settings: Settings) -> Path:
    return settings.var_dir / "demo_logins.json"


def _saved_logins(settings: Settings) -> dict[str, DemoLogin]:
    path = _logins_file(settings)
    if not path.exists():
        return {}
    return {d["username"]: DemoLogin(**d) for d in json.loads(path.read_text())}


def _save_logins(settings: Settings, logins: dict[str, DemoLogin]) -> None:
    path = _logins_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([v.__dict__ for v in logins.values()], ensure_ascii=False, indent=1))
    path.chmod(0o600)


def load_demo(
    *, settings: Settings, provinces: list[str], progress: Progress | None = None, workers: int = 2
) -> list[DemoLogin]:
    """Load (or confirm) the demo tenants; return their logins."""
    step = progress or (lambda stage, done, total: None)
    with owner_session(settings) as owner:  # before the slow build: a real tenant refuses
        check_demo_separation(session=owner, demo=True)
    database = Database(engine_for(settings))
    saved = _saved_logins(settings)
    logins: dict[str, DemoLogin] = {}
    try:
        for code in [p.strip() for p in provinces if p.strip()]:
            gpkg = cached_build(
                [code],
                settings.var_dir / "cache" / "divisions",
                progress=_counties_progress(step, code),
                workers=workers,
            )
            source = f"{GENERATED_SOURCE}:{gpkg.stem}"
            with owner_session(settings) as owner:
                tenant = owner.scalar(select(Tenant).where(Tenant.code == code))
                if tenant is None:
                    name = TENANT_NAMES.get(code) or f"{province_names()[code]}司法厅"
                    tenant = create_tenant(session=owner, code=code, name=name, demo=True)
            with tenant_session(settings, tenant, database=database) as session:
                loaded = session.scalar(
                    text("SELECT EXISTS (SELECT 1 FROM divisions WHERE source = :s)"),
                    {"s": source},
                )
                if not loaded:
                    import_divisions(
                        session=session,
                        tenant=tenant,
                        path=gpkg,
                        valid_from=DEMO_VALID_FROM,
                        source=source,
                        progress=_labelled(step, code),
                    )
                step(f"offices {code}", 0, 1)
                load_offices(session=session, tenant_id=tenant.id)
                ensure_default_standards(session=session, tenant_id=tenant.id, tenant_code=code)
                load_records(session=session, tenant_id=tenant.id)
                step(f"offices {code}", 1, 1)
                for login in _ensure_users(session, tenant, saved):
                    logins[login.username] = login
    finally:
        database.engine.dispose()
    _save_logins(settings, {**saved, **logins})
    _analyze(settings)
    return list(logins.values())


def _counties_progress(step: Progress, code: str) -> Callable[[int, int], None]:
    return lambda done, total: step(f"build {code}", done, total)


def _labelled(step: Progress, code: str) -> Progress:
    return lambda stage, done, total: step(f"{stage} {code}", done, total)


def _ensure_users(session: Session, tenant: Tenant, saved: dict[str, DemoLogin]) -> list[DemoLogin]:
    stem = USERNAME_STEMS.get(tenant.code, f"p{tenant.code}")
    users = DEMO_USERS.get(tenant.code) or [("admin", Role.province_admin, tenant.code)]
    out = []
    for suffix, role, region in users:
        username = f"{stem}_{suffix}"
        exists = session.scalar(select(User.id).where(User.username == username))
        if exists is None:
            password = secrets.token_urlsafe(12)
            create_user(
                session=session,
                tenant=tenant,
                username=username,
                password=password,
                role=role,
                region_code=region,
                display_name=f"演示用户 {username}",
            )
            out.append(DemoLogin(username, password, role.value, region))
        elif username in saved:
            out.append(saved[username])
        else:
            out.append(
                DemoLogin(username, "(set earlier; see var/demo_logins.json)", role.value, region)
            )
    return out


def _analyze(settings: Settings) -> None:
    """Fresh planner statistics after a bulk load (only the owner may ANALYZE)."""
    with owner_session(settings) as owner:
        owner.execute(text("ANALYZE divisions"))
        owner.execute(text("ANALYZE offices"))
