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

A dependency of the route that needs the session or the scope (an office checked to be in
the caller's region, `valid_office`; the tag of a kept export, `kept_export`; a report's
region) is called in the hop too, after the credential check and before the route's function,
in the order FastAPI would solve them; FastAPI still reads and checks its other parameters, as
the route's. A route is left to FastAPI's dependencies when its function is a coroutine (it
does its own trips), when neither it nor such a dependency takes `CurrentScope` (a route
without a credential, e.g. a login), or when such a dependency cannot be called so: a
coroutine or a generator, one that has a dependency of its own needing the session, one
whose parameters clash with the route's, or its router's own (FastAPI would solve those,
and open a second transaction).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ForwardRef, TypeVar, get_args, get_origin

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


@dataclass(frozen=True)
class _InHop:
    """A dependency of a route that needs the transaction, called in the hop instead of by
    FastAPI: `call` with the scope and the session under the names it takes them by, and
    its other parameters (FastAPI still reads and checks those, as the route's)."""

    name: str | None  # the route's parameter it gives its value to (None: dropped)
    call: Callable[..., Any]
    scope_name: str | None
    session_name: str | None
    request_name: str | None
    params: list[inspect.Parameter]
    inner: tuple[_InHop, ...] = ()  # its own dependencies that need the transaction

    def exposed(self) -> list[tuple[Callable[..., Any], inspect.Parameter]]:
        """The parameters FastAPI reads for it, each with the function declaring it: its
        own, and its dependencies'."""
        return [
            *((self.call, p) for p in self.params),
            *(e for d in self.inner for e in d.exposed()),
        ]

    def takes_scope(self) -> bool:
        return self.scope_name is not None or any(d.takes_scope() for d in self.inner)

    def __call__(
        self,
        values: dict[str, Any],
        request: Request,
        scope: Scope,
        session: Session,
        solved: dict[Callable[..., Any], Any],
    ) -> Any:
        """Its value, called once per request whoever depends on it (`solved`: those of the
        request so far), as FastAPI caches a dependency."""
        if self.call in solved:
            return solved[self.call]
        given = {p.name: values[p.name] for p in self.params}
        for dependency in self.inner:  # (first, as FastAPI solves them)
            given[dependency.name or ""] = dependency(values, request, scope, session, solved)
        if self.scope_name is not None:
            given[self.scope_name] = scope
        if self.session_name is not None:
            given[self.session_name] = session
        if self.request_name is not None:
            given[self.request_name] = request
        value = solved[self.call] = self.call(**given)
        return value


def _depends_of(param: inspect.Parameter) -> Depends | None:
    """The Depends a parameter declares (in Annotated, or as its default)."""
    if isinstance(param.default, Depends):
        return param.default
    if get_origin(param.annotation) is Annotated:
        found = [m for m in get_args(param.annotation)[1:] if isinstance(m, Depends)]
        return found[-1] if found else None
    return None


def _in_hop(path: str, call: Callable[..., Any] | None, name: str | None) -> _InHop | bool | None:
    """How the dependency `call` is solved in the hop: an `_InHop` when it needs the
    transaction and can be called there (its value given to the route's parameter `name`,
    or dropped: a route's own `dependencies=[...]`), None when FastAPI may solve it (it does
    not need the transaction), False when the route must be left to FastAPI."""
    if call is _UNCACHED:
        return False
    if call is None or not (
        call in NEEDS_TRANSACTION or _needs_transaction(get_dependant(path=path, call=call))
    ):
        return None
    plain = inspect.isfunction(call) and not (
        inspect.iscoroutinefunction(call) or inspect.isgeneratorfunction(call)
    )
    if not plain or call in NEEDS_TRANSACTION:
        return False
    params = list(get_typed_signature(call).parameters.values())
    scope_name = next((p.name for p in params if p.annotation is CurrentScope), None)
    session_name = next((p.name for p in params if p.annotation is SessionDep), None)
    request_name = next((p.name for p in params if p.annotation is Request), None)
    others = [p for p in params if p.name not in (scope_name, session_name, request_name)]
    inner, plain_params = [], []
    for p in others:
        how = _in_hop(path, _dependency_of(p), p.name)
        if how is False:
            return False
        if isinstance(how, _InHop):
            inner.append(how)
        elif isinstance(p.annotation, str | ForwardRef):
            return False  # (a name its module defines later: FastAPI reads it there, later)
        else:
            plain_params.append(p)
    return _InHop(name, call, scope_name, session_name, request_name, plain_params, tuple(inner))


def _dependency_of(param: inspect.Parameter) -> Callable[..., Any] | None:
    depends = _depends_of(param)
    if depends is not None and not depends.use_cache:
        return _UNCACHED  # (called again by each that depends on it: FastAPI's to solve)
    return depends.dependency if depends is not None else None


def _UNCACHED() -> None:  # (never called: it stands for a dependency the hop leaves alone)
    raise NotImplementedError


def left_to_fastapi(path: str, dependencies: Sequence[Depends]) -> list[Depends]:
    """Of a route's own `dependencies=[...]`, those FastAPI still solves when it runs in one
    hop: the others, which need the transaction, are called in the hop."""
    return [d for d in dependencies if _in_hop(path, d.dependency, None) is None]


def one_hop_endpoint(
    path: str,
    endpoint: Callable[..., Any],
    dependencies: Sequence[Depends] = (),
    fixed: Sequence[Depends] = (),
) -> Callable[..., Any] | None:
    """`endpoint` as a route that runs in one hop (`in_one_hop`), or None when it must be
    left to FastAPI's dependencies (see the module's description). `dependencies` are the
    route's own (those that need the transaction are called in the hop: give FastAPI only
    `left_to_fastapi`); `fixed` its router's, which FastAPI solves for every route: none may
    need the transaction."""
    if inspect.iscoroutinefunction(endpoint) or not callable(endpoint):
        return None
    if any(_in_hop(path, d.dependency, None) is not None for d in fixed):
        return None
    # (read as FastAPI reads it: a name the module defines later stays a forward reference)
    signature = get_typed_signature(endpoint).replace(
        return_annotation=get_typed_return_annotation(endpoint) or inspect.Signature.empty
    )
    params = list(signature.parameters.values())
    scope_name = next((p.name for p in params if p.annotation is CurrentScope), None)
    session_name = next((p.name for p in params if p.annotation is SessionDep), None)
    kept = [p for p in params if p.name not in (scope_name, session_name)]
    request_name = next((p.name for p in kept if p.annotation is Request), None)
    if request_name is None and any(p.name == "request" for p in kept):
        return None  # (a parameter of that name that is not the request: left as it is)
    # the dependencies that need the transaction, called in the hop; FastAPI reads their
    # other parameters as the route's (one parameter of a name: the same declaration)
    if any(isinstance(p.annotation, str | ForwardRef) for p in kept):
        return None  # (a name its module defines later: what it declares is not known yet)
    in_hop: list[_InHop] = []
    # (as FastAPI solves them: the route's own dependencies, then its parameters')
    wanted = [(d.dependency, None) for d in dependencies]
    for call, name in [*wanted, *((_dependency_of(p), p.name) for p in kept)]:
        how = _in_hop(path, call, name)
        if how is False:
            return None
        if isinstance(how, _InHop):
            in_hop.append(how)
    if scope_name is None and not any(d.takes_scope() for d in in_hop):
        return None  # (no credential to check: a login, a public page)
    declared = {p.name: (endpoint, p) for p in kept if p.name not in {d.name for d in in_hop}}
    for dependency in in_hop:
        for by, p in dependency.exposed():
            first_by, first = declared.setdefault(p.name, (by, p))
            if first_by is not by and (first.annotation, first.default) != (
                p.annotation,
                p.default,
            ):
                return None  # (two declarations of one name that may differ)
    exposed = {name: p for name, (_, p) in declared.items()}
    # what FastAPI still solves must not need the transaction (the route's own
    # `dependencies=[...]` that do are called in the hop: FastAPI is given them as the
    # route's, see `Router.add_api_route`)
    rest = endpoint_with(signature, list(exposed.values()), endpoint)
    if _needs_transaction(get_dependant(path=path, call=rest)):
        return None
    own_names = {p.name for p in params}

    async def hopping(**values: Any) -> Any:
        request: Request = values["request"] if request_name is None else values[request_name]
        if request_name is None:
            del values["request"]

        def work(scope: Scope, session: Session) -> Any:
            solved: dict[Callable[..., Any], Any] = {}
            for dependency in in_hop:  # (in the route's order, as FastAPI solves them)
                value = dependency(values, request, scope, session, solved)
                if dependency.name is not None:
                    values[dependency.name] = value
            called = {k: v for k, v in values.items() if k in own_names}
            if scope_name is not None:
                called[scope_name] = scope
            if session_name is not None:
                called[session_name] = session
            return endpoint(**called)

        return await in_one_hop(request, work)

    setattr(hopping, CHECKS_CREDENTIAL, True)
    own = []
    if request_name is None:
        keyword = inspect.Parameter.KEYWORD_ONLY
        own.append(inspect.Parameter("request", keyword, annotation=Request))
    return endpoint_with(signature, [*own, *exposed.values()], endpoint, hopping)


def _as_written(annotation: Any) -> Any:
    """A forward reference as its text again: FastAPI reads text later, when its route is
    first asked for, in the route's module (see `endpoint_with`); a ForwardRef it keeps."""
    return annotation.__forward_arg__ if isinstance(annotation, ForwardRef) else annotation


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
        parameters=[p.replace(kind=keyword, annotation=_as_written(p.annotation)) for p in params]
    )
    target.__name__, target.__doc__ = endpoint.__name__, endpoint.__doc__
    target.__qualname__ = endpoint.__qualname__
    # FastAPI reads a name the route's module defines after the route (a forward reference)
    # in the module of the function this one unwraps to: the route's
    target.__wrapped__ = endpoint  # type: ignore[attr-defined]
    return target
