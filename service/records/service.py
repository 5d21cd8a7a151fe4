"""Keeping an office's records: facilities (one row), staff (with personal data apart), and
the office's staff counts kept in step with its staff list."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Select, and_, any_, cast, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from service.accounts.permissions import Action
from service.accounts.roles import Role
from service.accounts.scope import Scope
from service.core.errors import Conflict, Invalid, NotFound
from service.offices.models import Office
from service.records.models import (
    POSITION_LABELS_ZH,
    Education,
    OfficeFacilities,
    OfficeStaff,
    OfficeStaffPersonal,
    Position,
)
from service.records.schemas import FacilitiesIn, StaffIn, StaffLeave, StaffUpdate
from service.standards import measures

FACILITY_FIELDS = tuple(FacilitiesIn.model_fields)
PERSONAL_ROLES = frozenset(
    {Role.province_admin, Role.city_bureau, Role.county_bureau, Role.office_staff}
)

IDS = ARRAY(BigInteger)


class StaffNotFound(NotFound):
    code = "staff_not_found"


def sees_personal_data(scope: Scope) -> bool:
    """Names, phones and education are shown only to the roles that work with them."""
    return scope.role in PERSONAL_ROLES


def may_edit(scope: Scope, office: Office) -> bool:
    """Whether `require_editor` lets this user change the office's records (pages ask)."""
    return scope.can(Action.update_office) and office.closed_at is None


def require_editor(scope: Scope, office: Office) -> None:
    scope.require(Action.update_office)
    if office.closed_at is not None:
        raise Conflict(f"office {office.id} is closed; its records can no longer change")


# -- facilities --------------------------------------------------------------------------------


def get_facilities(*, session: Session, scope: Scope, office: Office) -> dict[str, Any]:
    scope.require(Action.read)
    row = session.get(OfficeFacilities, (scope.tenant_id, office.id))
    out: dict[str, Any] = {"office_id": office.id, "recorded": row is not None}
    if row is not None:
        out.update({f: getattr(row, f) for f in FACILITY_FIELDS})
        out["updated_at"] = row.updated_at
    out["labels"] = {**measures.SET_ITEMS, **measures.COUNT_ITEMS, **measures.CHECK_ITEMS}
    return out


def put_facilities(
    *, session: Session, scope: Scope, office: Office, data: FacilitiesIn
) -> dict[str, Any]:
    """Replace the office's facility record (one statement, whatever existed before)."""
    require_editor(scope, office)
    values = {f: getattr(data, f) for f in FACILITY_FIELDS}
    stmt = insert(OfficeFacilities).values(tenant_id=scope.tenant_id, office_id=office.id, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "office_id"],
            set_={**values, "updated_at": text("now()")},
        )
    )
    session.expire_all()
    return get_facilities(session=session, scope=scope, office=office)


# -- staff -------------------------------------------------------------------------------------


def _staff(tenant_id: int, office_id: int) -> Select:
    """An office's staff with their personal data (shown only to roles that may see it)."""
    st, p = OfficeStaff.__table__, OfficeStaffPersonal.__table__
    return (
        select(
            st.c.id,
            st.c.office_id,
            st.c.position,
            st.c.formal,
            st.c.civil_servant,
            st.c.college,
            st.c.law_major,
            st.c.party_member,
            st.c.heads_legal_service,
            st.c.training_year,
            st.c.training_days,
            st.c.joined_on,
            st.c.left_on,
            st.c.left_reason,
            p.c.name,
            p.c.phone,
            p.c.education,
        )
        .select_from(
            st.outerjoin(p, and_(p.c.tenant_id == st.c.tenant_id, p.c.staff_id == st.c.id))
        )
        .where(st.c.tenant_id == tenant_id, st.c.office_id == office_id)
    )


def _staff_out(row: Any, personal: bool) -> dict[str, Any]:
    out = dict(row._mapping)
    out["position_label"] = POSITION_LABELS_ZH[Position(out["position"])]
    out["personal_data_visible"] = personal
    if not personal:
        out.update(name=None, phone=None, education=None)
    return out


def list_staff(
    *, session: Session, scope: Scope, office: Office, include_left: bool = False
) -> list[dict[str, Any]]:
    scope.require(Action.read)
    stmt = _staff(scope.tenant_id, office.id)
    if not include_left:
        stmt = stmt.where(OfficeStaff.__table__.c.left_on.is_(None))
    rows = session.execute(stmt.order_by(OfficeStaff.__table__.c.id))
    personal = sees_personal_data(scope)
    return [_staff_out(r, personal) for r in rows]


def get_staff(*, session: Session, scope: Scope, office: Office, staff_id: int) -> dict[str, Any]:
    scope.require(Action.read)
    stmt = _staff(scope.tenant_id, office.id).where(OfficeStaff.__table__.c.id == staff_id)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise StaffNotFound(f"no staff member {staff_id} in office {office.id}")
    return _staff_out(row, sees_personal_data(scope))


def _college(education: Education | None) -> bool | None:
    return None if education is None else education != Education.below_college


def _check_director(session: Session, scope: Scope, office: Office, exclude: int | None) -> None:
    existing = session.scalar(
        select(OfficeStaff.id).where(
            OfficeStaff.tenant_id == scope.tenant_id,
            OfficeStaff.office_id == office.id,
            OfficeStaff.position == Position.director.value,
            OfficeStaff.left_on.is_(None),
            OfficeStaff.id != (exclude or 0),
        )
    )
    if existing is not None:
        raise Conflict(
            f"office {office.id} already has a director (staff {existing}); "
            "record the change of director by letting the old one leave first",
            {"field": "position", "director_staff_id": existing},
        )


def add_staff(*, session: Session, scope: Scope, office: Office, data: StaffIn) -> dict[str, Any]:
    require_editor(scope, office)
    if data.position == Position.director:
        _check_director(session, scope, office, None)
    staff = OfficeStaff(
        tenant_id=scope.tenant_id,
        office_id=office.id,
        position=data.position.value,
        formal=data.formal,
        civil_servant=data.civil_servant,
        college=_college(data.education),
        law_major=data.law_major,
        party_member=data.party_member,
        heads_legal_service=data.heads_legal_service,
        training_year=data.training_year,
        training_days=data.training_days,
    )
    if data.joined_on is not None:
        staff.joined_on = data.joined_on
    session.add(staff)
    session.flush()
    session.add(
        OfficeStaffPersonal(
            tenant_id=scope.tenant_id,
            staff_id=staff.id,
            name=data.name,
            phone=data.phone,
            education=data.education.value if data.education else None,
        )
    )
    session.flush()
    sync_staff_counts(session=session, tenant_id=scope.tenant_id, office_ids=[office.id])
    return get_staff(session=session, scope=scope, office=office, staff_id=staff.id)


def _load_staff(session: Session, scope: Scope, office: Office, staff_id: int) -> OfficeStaff:
    staff = session.get(OfficeStaff, (scope.tenant_id, staff_id))
    if staff is None or staff.office_id != office.id:
        raise StaffNotFound(f"no staff member {staff_id} in office {office.id}")
    return staff


def update_staff(
    *, session: Session, scope: Scope, office: Office, staff_id: int, data: StaffUpdate
) -> dict[str, Any]:
    require_editor(scope, office)
    staff = _load_staff(session, scope, office, staff_id)
    if staff.left_on is not None:
        raise Conflict(
            f"staff member {staff_id} left on {staff.left_on}; records stay as they were"
        )
    changes = data.model_dump(exclude_unset=True)
    for name in ("formal", "civil_servant", "position"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", {"field": name})
    if changes.get("position") == Position.director and staff.position != Position.director:
        _check_director(session, scope, office, staff.id)
    for name in (
        "position",
        "formal",
        "civil_servant",
        "law_major",
        "party_member",
        "heads_legal_service",
        "training_year",
        "training_days",
    ):
        if name in changes:
            value = changes[name]
            setattr(staff, name, value.value if isinstance(value, Position) else value)
    if "education" in changes:
        staff.college = _college(changes["education"])
    personal_changes = {k: changes[k] for k in ("name", "phone", "education") if k in changes}
    if personal_changes:
        if not sees_personal_data(scope):
            raise Invalid("your role does not handle staff personal data")
        personal = session.get(OfficeStaffPersonal, (scope.tenant_id, staff.id))
        if personal is None:
            raise StaffNotFound(f"no personal record for staff member {staff_id}")
        for key, value in personal_changes.items():
            setattr(personal, key, value.value if isinstance(value, Education) else value)
    staff.updated_at = text("now()")  # type: ignore[assignment]
    session.flush()
    sync_staff_counts(session=session, tenant_id=scope.tenant_id, office_ids=[office.id])
    return get_staff(session=session, scope=scope, office=office, staff_id=staff.id)


def staff_leaves(
    *, session: Session, scope: Scope, office: Office, staff_id: int, data: StaffLeave
) -> dict[str, Any]:
    """A member of staff leaves: the row is kept with its leaving date, never erased."""
    require_editor(scope, office)
    staff = _load_staff(session, scope, office, staff_id)
    if staff.left_on is not None:
        raise Conflict(f"staff member {staff_id} already left on {staff.left_on}")
    if data.left_on < staff.joined_on or data.left_on > date.today():
        raise Invalid(
            f"left_on must lie between the joining date {staff.joined_on} and today",
            {"field": "left_on"},
        )
    staff.left_on = data.left_on
    staff.left_reason = data.reason
    session.flush()
    sync_staff_counts(session=session, tenant_id=scope.tenant_id, office_ids=[office.id])
    return get_staff(session=session, scope=scope, office=office, staff_id=staff.id)


StaffCounts = tuple[int, int, int]  # (on duty, formal, civil servants)


def _list_counts(tenant_id: int, office_ids: list[int]) -> Select:
    """Per office of `office_ids` with a staff list: its members now (n), the formal ones and
    the civil servants among them (the staff-count rule, offices/staff_counts.py)."""
    st = OfficeStaff.__table__
    now = st.c.left_on.is_(None)
    return (
        select(
            st.c.office_id,
            func.count().filter(now).label("n"),
            func.count().filter(and_(now, st.c.formal)).label("formal"),
            func.count().filter(and_(now, st.c.civil_servant)).label("cs"),
        )
        .where(st.c.tenant_id == tenant_id, st.c.office_id == any_(cast(office_ids, IDS)))
        .group_by(st.c.office_id)
    )


def staff_list_counts(
    *, session: Session, tenant_id: int, office_ids: list[int]
) -> dict[int, StaffCounts]:
    """The staff numbers of those offices that keep a staff list, as the list says. Such an
    office's numbers follow its list: every path that sets numbers checks here first (and a
    database trigger refuses what slips through)."""
    rows = session.execute(_list_counts(tenant_id, office_ids))
    return {r.office_id: (r.n, r.formal, r.cs) for r in rows}


def sync_staff_counts(*, session: Session, tenant_id: int, office_ids: list[int]) -> None:
    """Set the offices' staff counts from their staff lists (for offices that have one)."""
    c = _list_counts(tenant_id, office_ids).subquery("c")
    counted = tuple_(Office.staff_total, Office.staff_formal, Office.staff_civil_servants)
    session.execute(
        update(Office)
        .where(
            Office.tenant_id == tenant_id,
            Office.id == c.c.office_id,
            counted.is_distinct_from(tuple_(c.c.n, c.c.formal, c.c.cs)),
        )
        .values(
            staff_total=c.c.n,
            staff_formal=c.c.formal,
            staff_civil_servants=c.c.cs,
            updated_at=func.now(),
            version=Office.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
