"""Imports every model module so that Base.metadata knows all tables (for Alembic and tests)."""

from service.acceptance.models import AcceptanceEvent
from service.accounts.models import AccessToken, AuthSession, LoginFailure, User
from service.audit.models import AuditEvent
from service.core.db import Base
from service.core.versions import DataVersion
from service.coverage.models import BoundaryQaCache
from service.divisions.models import Division
from service.offices.models import Office
from service.records.models import (
    EvidenceFile,
    OfficeFacilities,
    OfficeStaff,
    OfficeStaffPersonal,
    OfficeWorkRecord,
)
from service.standards.models import Standard, StandardCriterion, Target
from service.tenants.models import Tenant

__all__ = [
    "AcceptanceEvent",
    "AccessToken",
    "AuditEvent",
    "AuthSession",
    "Base",
    "BoundaryQaCache",
    "DataVersion",
    "Division",
    "EvidenceFile",
    "LoginFailure",
    "Office",
    "OfficeFacilities",
    "OfficeStaff",
    "OfficeStaffPersonal",
    "OfficeWorkRecord",
    "Standard",
    "StandardCriterion",
    "Target",
    "Tenant",
    "User",
]
