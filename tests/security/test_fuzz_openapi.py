"""Property-based fuzzing of every operation in the OpenAPI schema (schemathesis, positive
and negative generation): whatever the input, the service never answers 5xx. Runs as a
province admin (the widest rights) inside the test's transaction; counts are written to
test-artifacts/fuzz.json."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from sqlalchemy import text

from service.core.settings import Settings
from service.main import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EXAMPLES = 60  # per operation and generation mode
TALLY: Counter[str] = Counter()


def _cases() -> list[tuple[str, GenerationMode]]:
    """(operation, mode) pairs from the schema of an app that is never started; negative
    generation only where an operation takes any input to get wrong."""
    offline = create_app(Settings(database_url="postgresql+psycopg://unused@127.0.0.1:1/x"))
    loaded = schemathesis.openapi.from_asgi("/openapi.json", offline)
    out = []
    for result in loaded.get_all_operations():
        op = result.ok()
        takes_input = any(
            len(group) for group in (op.path_parameters, op.query, op.headers, op.body)
        )
        out.append((op.label, GenerationMode.POSITIVE))
        if takes_input:
            out.append((op.label, GenerationMode.NEGATIVE))
    return sorted(out, key=lambda c: (c[0], c[1].value))


@pytest.fixture(scope="module", autouse=True)
def report(engine):  # type: ignore[no-untyped-def]
    yield
    with engine.begin() as conn:  # fuzzed logins count failures on their own connection
        conn.execute(text("DELETE FROM login_failures"))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz.json").write_text(json.dumps(dict(TALLY), indent=1))


@pytest.mark.parametrize(("label", "mode"), _cases(), ids=lambda v: str(getattr(v, "value", v)))
def test_no_server_errors(app, auth, label: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    (operation,) = [r.ok() for r in schema.get_all_operations() if r.ok().label == label]
    headers = auth("henan_admin")
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(headers={**(case.headers or {}), **headers})
        TALLY["examples"] += 1
        if response.status_code >= 500:
            TALLY["server_errors"] += 1
            failures.append(
                f"{case.method} {case.formatted_path} {case.query} -> {response.status_code} {response.text[:300]}"
            )

    run()
    assert not failures, "\n".join(failures[:10])
