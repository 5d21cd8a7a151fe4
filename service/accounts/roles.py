"""The roles a user may hold and their Chinese names (docs/glossary.md, People) — the
one owner of this vocabulary, free of the database and the web (the command line reads it
without loading either)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user may do (docs/glossary.md, People)."""

    province_admin = "province_admin"
    province_planner = "province_planner"
    city_bureau = "city_bureau"
    county_bureau = "county_bureau"
    office_staff = "office_staff"
    viewer = "viewer"


ROLE_LABELS_ZH: dict[str, str] = {  # (a role or its value as the key)
    Role.province_admin: "省司法厅管理员",
    Role.province_planner: "省司法厅基层处",
    Role.city_bureau: "市司法局",
    Role.county_bureau: "县司法局",
    Role.office_staff: "司法所工作人员",
    Role.viewer: "只读用户",
}
