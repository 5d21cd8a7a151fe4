"""第五篇 第1条 as a criterion (HN2009-NAME): the SQL that measures it (service/standards/
facts.py) and the name the registry suggests (service/offices/naming.py expected_name) must
agree — checked for every township of both fixtures, with the suggested name (in the current
form) and with the older form that keeps 乡/镇/街道."""

from __future__ import annotations

from sqlalchemy import Text, and_, bindparam, select, text

from service.divisions.models import Division
from service.offices.naming import expected_name, normalize_name
from service.standards.facts import name_in_current_form

_d, _c = Division.__table__.alias("d"), Division.__table__.alias("c")
MEASURE = (
    select(name_in_current_form(bindparam("n", type_=Text), _d.c.kind, _d.c.name, _c.c.name))
    .select_from(
        _d.outerjoin(
            _c,
            and_(
                _c.c.tenant_id == _d.c.tenant_id,
                _c.c.code == _d.c.parent_code,
                _c.c.valid_to.is_(None),
            ),
        )
    )
    .where(
        _d.c.tenant_id == bindparam("t"), _d.c.code == bindparam("code"), _d.c.valid_to.is_(None)
    )
)


def test_the_sql_measure_agrees_with_the_suggested_name(session, base_data) -> None:
    checked = older_checked = 0
    for tenant in (base_data.henan_id, base_data.shanxi_id):
        session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
        townships = session.execute(
            text(
                "SELECT d.code, d.name, d.kind, c.name AS county FROM divisions d"
                " JOIN divisions c ON c.tenant_id = d.tenant_id AND c.code = d.parent_code"
                " AND c.valid_to IS NULL WHERE d.tenant_id = :t AND d.level = 'township'"
                " AND d.valid_to IS NULL"
            ),
            {"t": tenant},
        ).all()
        for code, name, kind, county in townships:
            current = expected_name(county, name, kind)
            older = f"{county}司法局{name}司法所"
            where = {"t": tenant, "code": code}
            assert session.scalar(MEASURE, {"n": current, **where}) is True, (code, current)
            spaced = f" {current.replace('司法局', '司法局 ')} "  # spacing does not count
            assert session.scalar(MEASURE, {"n": spaced, **where}) is True
            same = normalize_name(older) == normalize_name(current)
            assert session.scalar(MEASURE, {"n": older, **where}) is same, (code, older)
            checked += 1
            older_checked += not same
    assert checked >= 50 and older_checked >= 30, (checked, older_checked)
