"""Data versions: a number per tenant and table that grows with every committed change of the
table's rows, so that whatever is made from them (a vector tile, a cached result) can be
named by the versions it read and revalidated without being made again.

Statement-level triggers (migrations 0021, 0025 and 0026) bump it on every INSERT, UPDATE,
DELETE and TRUNCATE of the tables of `VersionedTable`, in the writing transaction: a change
and its new version commit together, a rolled-back change leaves the version as it was. A
tenant's version of a table is the sum of its slots; each writing connection bumps its own
slot (backend pid mod 16), so that concurrent writers do not queue on one row until commit.

Offices and their records (`REGIONAL`) are counted per city (migration 0026): a change bumps
the region of the city the office is registered in and of the one it lies in; everything
else, and TRUNCATE, bumps region '' (the whole tenant). So what is made from one city's data
(a map of the city or of a county in it) is named by `data_version(..., region=...)`, and
stays valid while another city's bureaus write.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Literal, get_args

from sqlalchemy import BigInteger, Select, SmallInteger, Text, any_, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.core.binds import T
from service.core.columns import TenantKey
from service.core.db import Base

# the tables counted per city (migration 0026): offices and their records
RegionalTable = Literal[
    "offices",
    "office_facilities",
    "office_staff",
    "office_work_records",
    "evidence_files",
    "acceptance_events",
]
# the tables whose changes are counted (migrations 0021, 0025): those and the rest, counted
# for the whole tenant
VersionedTable = Literal[
    "divisions",
    RegionalTable,
    "standards",
    "standard_criteria",
    "targets",
    "tenants",
]
REGIONAL: frozenset[VersionedTable] = frozenset(get_args(RegionalTable))
# all of them: what a map page may read (its theme's data, the standard in force, targets)
EVERY_TABLE: tuple[VersionedTable, ...] = get_args(VersionedTable)
NAMES = bindparam("names", type_=ARRAY(Text))


class DataVersion(Base):
    """One slot of a tenant's version of a table (written only by the triggers)."""

    __tablename__ = "data_versions"

    tenant_id: Mapped[TenantKey]
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True, server_default="")
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


CITY = bindparam("city", type_=Text)


@cache
def _version(regional: bool) -> Select[Any]:
    v = DataVersion.__table__
    stmt = select(cast(func.coalesce(func.sum(v.c.version), 0), BigInteger)).where(
        v.c.tenant_id == T, v.c.name == any_(NAMES)
    )
    return stmt.where(v.c.region.in_(("", CITY))) if regional else stmt


def data_version(
    session: Session, *, tenant_id: int, names: Iterable[VersionedTable], region: str = ""
) -> int:
    """The tenant's version of the tables together: it changes whenever one of them does.
    `region`: the division (a city, or a county or township in it) that everything made from
    the version is bounded by — what it reads of offices and their records lies in that city
    — so that a change in another city leaves it as it was; "" or a province for anything
    wider."""
    params: dict[str, Any] = {"t": tenant_id, "names": list(names)}
    if len(region) >= 4:
        params["city"] = region[:4]
        return int(session.execute(_version(True), params).scalar_one())
    return int(session.execute(_version(False), params).scalar_one())
