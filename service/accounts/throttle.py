"""Attempt counters for logins, token refreshes and password changes, exact under concurrency.

An attempt *reserves* its place before the password is checked: one short transaction of its
own increments every counter the attempt falls under (in key order, so that two attempts
never deadlock) and gives the places back if any counter is over its limit. A row lock per
key makes the count exact however many requests arrive at once, so at most `limit`
verifications run per key and window. When the attempt ends, `settle` applies the key's rule:

- `ATTEMPTS`: every attempt keeps its place (the password guesses an unknown client may make);
- `FAILURES`: a success gives its place back (only failures and attempts in flight count);
- `FAILURES_RESET`: a success clears the counter (a client that has proved itself).

Counters commit on their own connection, outside the request's transaction: the request that
fails rolls back, its count must not. They live in `login_failures` (key, window start,
count); rows older than a day are dropped now and then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.core.errors import TooManyAttempts

WINDOW = timedelta(minutes=15)


class Rule(Enum):
    ATTEMPTS = "attempts"
    FAILURES = "failures"
    FAILURES_RESET = "failures_reset"


@dataclass(frozen=True)
class Allowance:
    """At most `limit` attempts under `key` per window, counted by `rule`."""

    key: str
    limit: int
    rule: Rule


@dataclass(frozen=True)
class Reservation:
    allowances: tuple[Allowance, ...]
    windows: tuple[datetime, ...]  # the window each place was taken in


_TAKE = text(
    "INSERT INTO login_failures AS f (key, window_start, failures) VALUES (:key, now(), 1)"
    " ON CONFLICT (key) DO UPDATE SET"
    "  failures = CASE WHEN f.window_start <= now() - make_interval(secs => :w)"
    "                  THEN 1 ELSE f.failures + 1 END,"
    "  window_start = CASE WHEN f.window_start <= now() - make_interval(secs => :w)"
    "                      THEN now() ELSE f.window_start END"
    " RETURNING failures, window_start"
)
_GIVE_BACK = text(
    "UPDATE login_failures SET failures = greatest(failures - 1, 0)"
    " WHERE key = :key AND window_start = :window"
)
_CLEAR = text("DELETE FROM login_failures WHERE key = :key")
_FORGET_OLD = text("DELETE FROM login_failures WHERE window_start < now() - interval '1 day'")


class _Refused(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


def reserve(engine: Engine, allowances: list[Allowance], *, what: str) -> Reservation:
    """Take a place under every allowance, or none: 429 (with Retry-After) when one is full."""
    ordered = tuple(sorted(allowances, key=lambda a: a.key))
    windows = []
    try:
        with engine.begin() as conn:
            for allowance in ordered:
                count, started = conn.execute(
                    _TAKE, {"key": allowance.key, "w": WINDOW.total_seconds()}
                ).one()
                if count > allowance.limit:
                    wait = (started + WINDOW - datetime.now(UTC)).total_seconds()
                    raise _Refused(max(int(wait) + 1, 1))  # rolls every place back
                windows.append(started)
            if random.random() < 0.01:
                conn.execute(_FORGET_OLD)
    except _Refused as refused:
        raise TooManyAttempts(
            f"too many {what}; try again in {refused.retry_after} s",
            {"retry_after": refused.retry_after},
            headers={"Retry-After": str(refused.retry_after)},
        ) from None
    return Reservation(ordered, tuple(windows))


def settle(engine: Engine, reservation: Reservation, *, success: bool) -> None:
    """End the attempt: a success gives back or clears the places its rules say."""
    if not success:
        return  # a failure keeps its place under every rule
    with engine.begin() as conn:
        for allowance, window in zip(reservation.allowances, reservation.windows, strict=True):
            if allowance.rule is Rule.FAILURES:
                conn.execute(_GIVE_BACK, {"key": allowance.key, "window": window})
            elif allowance.rule is Rule.FAILURES_RESET:
                conn.execute(_CLEAR, {"key": allowance.key})
