"""Conditional GETs: whether a client already holds the representation an ETag names."""

from __future__ import annotations

from starlette.requests import Request


def client_holds(request: Request, tag: str) -> bool:
    """The client holds what `tag` names: If-None-Match on a GET (weak or strong, or *)."""
    sent = request.headers.get("if-none-match", "")
    held = (t.strip().removeprefix("W/") for t in sent.split(","))
    return request.method == "GET" and (sent.strip() == "*" or tag in held)
