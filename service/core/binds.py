"""The values statements share, as typed bound parameters (docs/architecture.md, "How a
report composes its query"): a statement is built once with these in it and each request
binds its values under the same names — the tenant, the region, the page, today and the end
of the due-soon window."""

from __future__ import annotations

from sqlalchemy import Date, Integer, String, bindparam

T = bindparam("t", type_=Integer)  # the tenant
REGION = bindparam("region", type_=String)  # a division-code prefix ("" for the whole tenant)
LIMIT = bindparam("limit", type_=Integer)
OFFSET = bindparam("offset", type_=Integer)
TODAY = bindparam("today", type_=Date)
SOON = bindparam("soon", type_=Date)  # the last day of the due-soon window
