"""What each role may do. Region limits come on top: a role acts only inside its home region."""

from __future__ import annotations

from enum import StrEnum

from service.accounts.roles import Role


class Action(StrEnum):
    """An action a route requires; see ROLE_ACTIONS for who holds it."""

    read = "read"
    import_divisions = "divisions:import"
    create_office = "offices:create"
    update_office = "offices:update"
    close_office = "offices:close"
    manage_users = "users:manage"
    read_audit = "audit:read"
    manage_tenant = "tenant:manage"
    publish_standard = "standards:publish"


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.province_admin: frozenset(Action),
    Role.province_planner: frozenset({Action.read}),
    Role.city_bureau: frozenset({Action.read, Action.read_audit}),
    Role.county_bureau: frozenset(
        {
            Action.read,
            Action.read_audit,
            Action.create_office,
            Action.update_office,
            Action.close_office,
        }
    ),
    Role.office_staff: frozenset({Action.read, Action.update_office}),
    Role.viewer: frozenset({Action.read}),
}


def allowed(role: Role, action: Action) -> bool:
    return action in ROLE_ACTIONS[role]
