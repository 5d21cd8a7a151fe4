"""Who is asking, for which tenant, over which region: what every service takes to decide
what a caller may see and do. The HTTP layer (`service/http/deps.py`) builds one from a
login's token or a personal access token (through `service/accounts/credentials.py`), the
command line from a user name; both then call the same services."""

from __future__ import annotations

from dataclasses import dataclass

from service.accounts.permissions import Action, allowed
from service.accounts.roles import Role
from service.core.errors import Forbidden
from service.divisions.codes import is_region_code
from service.tenants.models import DEFAULT_REQUIRED_KINDS, NATIONAL_CODE, db_region


@dataclass(frozen=True)
class Scope:
    """Who is asking, for which tenant, over which region (a division code subtree)."""

    user_id: int
    username: str
    tenant_id: int
    tenant_code: str
    tenant_name: str
    role: Role
    region_code: str
    session_id: int = 0
    # tenant policy: township kinds that must have an office (read with the login check)
    required_kinds: tuple[str, ...] = DEFAULT_REQUIRED_KINDS
    # the personal access token the request came with (None: a password login's session)
    access_token_id: int | None = None
    # False for a read-only access token: its requests only read (the database holds it too)
    can_write: bool = True

    @property
    def interactive(self) -> bool:
        """Whether the user logged in with their password (not a client holding a token)."""
        return self.access_token_id is None

    @property
    def region_prefix(self) -> str:
        """Division codes inside the home region start with this ("" = whole country)."""
        return "" if self.region_code == NATIONAL_CODE else self.region_code

    @property
    def db_region(self) -> str:
        """The region row-level security confines this user's transactions to."""
        return db_region(self.region_code, self.tenant_code)

    def covers(self, code: str) -> bool:
        return code.startswith(self.region_prefix)

    def can(self, action: Action) -> bool:
        return allowed(self.role, action)

    def require(self, action: Action) -> None:
        if not self.can(action):
            raise Forbidden(f"role {self.role.value} may not {action.value}")

    def require_interactive(self, what: str) -> None:
        """Account actions are for the user who logged in, not for a client holding a token."""
        if not self.interactive:
            raise Forbidden(
                f"{what} needs a password login (a login's bearer token or the login page),"
                " not an access token"
            )

    def region(self, requested: str | None) -> str:
        """The code prefix to filter by: the requested region, which must lie inside ours."""
        if requested is None or requested == "":
            return self.region_prefix
        if not is_region_code(requested):
            raise Forbidden(f"region {requested!r} is not a division code")
        if requested == NATIONAL_CODE and self.region_prefix == "":
            return ""
        if not requested.startswith(self.region_prefix):
            raise Forbidden(
                f"region {requested} is outside your region {self.region_code}",
                {"region": requested, "home_region": self.region_code},
            )
        return requested


def operator_scope(
    *, tenant_id: int, tenant_code: str, tenant_name: str, required_kinds: tuple[str, ...]
) -> Scope:
    """The operator at this terminal (the command line): the whole tenant, as its admin."""
    from service.core.operator import operator_name

    return Scope(
        user_id=0,
        username=operator_name(),
        tenant_id=tenant_id,
        tenant_code=tenant_code,
        tenant_name=tenant_name,
        role=Role.province_admin,
        region_code=tenant_code,
        required_kinds=required_kinds,
    )
