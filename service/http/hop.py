"""Routes that do their database work in one trip to the thread pool.

A route that declares `scope: CurrentScope` (and `session: SessionDep`) as FastAPI
dependencies costs each request several trips between the event loop and the thread pool:
the credential check (a plain function), the route's own function, the validation of its
answer (for a plain function, FastAPI does it in the pool too) and the commit. Each trip, and
FastAPI solving the dependencies, cost ≈0.4 ms of the ≈1.2 ms an authenticated no-op
(/api/v1/me) took in the app.

`in_one_hop` does the same work in one trip: the transaction (`Database.session`: the replica
when the request may read there), the credential check (`authenticate`: the one guard of every
route), the route's work and the commit, in that order, after the request was admitted to the
database (service/core/admission.py). `one_hop_endpoint` makes a route's function such a route
without changing it: `Router` (service/http/routing.py) applies it to every route it can, and
the OGC API's routes (service/ogc/common.py) run through `in_one_hop` as well, and those of
them that read and answer JSON, GeoJSON or tiles on the event loop (`on_loop`).

A route is left to FastAPI's dependencies when its function is a coroutine (it does its own
trips), when it takes no `CurrentScope` (a route without a credential, e.g. a login), or when
another of its dependencies needs the session or the scope (FastAPI would solve those, and
open a second transaction).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import (
    get_dependant,
    get_typed_return_annotation,
    get_typed_signature,
)
from fastapi.params import Depends
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.accounts.scope import Scope
from service.http.deps import (
    CurrentScope,
    SessionDep,
    authenticate,
    current_scope,
    get_session,
    oauth2_scheme,
)

T = TypeVar("T")
NEEDS_TRANSACTION = (current_scope, get_session)
# the mark of an endpoint that checks the request's credential itself, in its one hop
CHECKS_CREDENTIAL = "checks_its_own_credential"
# what a route in one hop declares of the credential it reads itself (as CurrentScope would)
SECURITY: list[dict[str, list[str]]] = [{oauth2_scheme.scheme_name: []}]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header (what `oauth2_scheme` reads)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    return token if scheme.lower() == "bearer" and token else None


async def in_one_hop(
    request: Request, work: Callable[[Scope, Session], T], *, on_loop: bool = False
) -> T:
    """`work(scope, session)` in the thread pool, in the request's transaction, after the
    request's credential was checked in it; committed when `work` returns, rolled back when
    it raises.

    `on_loop`: on the event loop instead, when the database has a loop lane
    (`Database.run_on_loop`), for work that waits for the database and does little else
    (the OGC API's reads: PostgreSQL writes their GeoJSON and tiles). It saves the trip to
    the thread pool and back, and the threads' contention for the interpreter with the
    loop: at 8 clients, a fifth of an OGC item's throughput (docs/architecture.md). The
    same function runs, the same guard first; only the driver's waits differ."""
    bearer = bearer_token(request)
    db = request.app.state.db
    async with db.admission.admitted():  # (core/admission.py)
        if on_loop and db.has_loop_lane:
            return await db.run_on_loop(_in_transaction, request, bearer, work, True)
        return await run_in_threadpool(_in_transaction, request, bearer, work, False)


def checks_own_credential(request: Request) -> bool:
    """Whether the request's route checks its credential itself, in its one hop (after
    FastAPI read and checked its parameters: see `check_credential`)."""
    return getattr(request.scope.get("endpoint"), CHECKS_CREDENTIAL, False) is True


async def check_credential(request: Request) -> None:
    """The request's credential check alone, in a transaction of its own: what a route in one
    hop does first. FastAPI's dependencies check it before the route's parameters, so the
    parameters of a request that is refused are not read out to its client (service/http/
    errors.py asks this of such a route before it answers that they are invalid)."""

    def nothing(scope: Scope, session: Session) -> None:
        return None

    await in_one_hop(request, nothing)


def _in_transaction(
    request: Request, bearer: str | None, work: Callable[[Scope, Session], T], on_loop: bool
) -> T:
    with request.app.state.db.session(on_loop=on_loop) as session:
        return work(authenticate(request, session, bearer), session)


def _needs_transaction(dependant: Dependant) -> bool:
    """Whether solving `dependant` would open the request's session or check its credential."""
    return any(d.call in NEEDS_TRANSACTION or _needs_transaction(d) for d in dependant.dependencies)


def one_hop_endpoint(
    path: str, endpoint: Callable[..., Any], dependencies: Sequence[Depends] = ()
) -> Callable[..., Any] | None:
    """`endpoint` as a route that runs in one hop (`in_one_hop`), or None when it must be
    left to FastAPI's dependencies (see the module's description)."""
    if inspect.iscoroutinefunction(endpoint) or not callable(endpoint):
        return None
    # (read as FastAPI reads it: a name the module defines later stays a forward reference)
    signature = get_typed_signature(endpoint).replace(
        return_annotation=get_typed_return_annotation(endpoint) or inspect.Signature.empty
    )
    params = list(signature.parameters.values())
    scope_name = next((p.name for p in params if p.annotation is CurrentScope), None)
    if scope_name is None:
        return None
    session_name = next((p.name for p in params if p.annotation is SessionDep), None)
    kept = [p for p in params if p.name not in (scope_name, session_name)]
    request_name = next((p.name for p in kept if p.annotation is Request), None)
    if request_name is None and any(p.name == "request" for p in kept):
        return None  # (a parameter of that name that is not the request: left as it is)
    # what FastAPI still solves must not need the transaction: the others, and the route's
    # own `dependencies=[...]`
    rest = endpoint_with(signature, kept, endpoint)
    if _needs_transaction(get_dependant(path=path, call=rest)) or any(
        d.dependency is not None
        and (
            d.dependency in NEEDS_TRANSACTION
            or _needs_transaction(get_dependant(path=path, call=d.dependency))
        )
        for d in dependencies
    ):
        return None

    async def hopping(**values: Any) -> Any:
        request: Request = values["request"] if request_name is None else values[request_name]
        if request_name is None:
            del values["request"]

        def work(scope: Scope, session: Session) -> Any:
            values[scope_name] = scope
            if session_name is not None:
                values[session_name] = session
            return endpoint(**values)

        return await in_one_hop(request, work)

    setattr(hopping, CHECKS_CREDENTIAL, True)
    own = []
    if request_name is None:
        keyword = inspect.Parameter.KEYWORD_ONLY
        own.append(inspect.Parameter("request", keyword, annotation=Request))
    return endpoint_with(signature, [*own, *kept], endpoint, hopping)


def endpoint_with(
    signature: inspect.Signature,
    params: list[inspect.Parameter],
    endpoint: Callable[..., Any],
    call: Callable[..., Any] | None = None,
) -> Callable[..., Any]:
    """`call` (by default a function that is never called) presented to FastAPI as
    `endpoint` with `params` as its parameters (keyword-only: FastAPI passes them by name)."""

    def unused(**values: Any) -> Any:  # pragma: no cover (only inspected)
        raise NotImplementedError

    target = call or unused
    keyword = inspect.Parameter.KEYWORD_ONLY
    target.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(kind=keyword) for p in params]
    )
    target.__name__, target.__doc__ = endpoint.__name__, endpoint.__doc__
    target.__qualname__ = endpoint.__qualname__
    return target
