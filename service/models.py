"""Imports every model module so that Base.metadata knows all tables (for Alembic and tests)."""

from service.accounts.models import AuthSession, LoginFailure, User
from service.audit.models import AuditEvent
from service.coverage.models import BoundaryQaCache
from service.db import Base
from service.divisions.models import Division
from service.offices.models import Office
from service.tenants.models import Tenant

__all__ = [
    "AuditEvent",
    "AuthSession",
    "Base",
    "BoundaryQaCache",
    "Division",
    "LoginFailure",
    "Office",
    "Tenant",
    "User",
]
