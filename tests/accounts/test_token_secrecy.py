"""An access token's secret appears once — in the response that creates it — and nowhere
else: not in a log line (the access log, errors), an error body, an audit event, or anything
sent to the database, for requests that present it as Bearer or Basic, succeed or fail."""

from __future__ import annotations

import logging

from conftest import bearer
from personal_tokens import basic, create, secret_of
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import event, text

CLIENT_LOGGERS = ("httpx", "httpcore")  # the test client's own log of what it sends


def test_the_secret_is_never_logged(client, auth, caplog, db, session):
    sent: list[str] = []

    def to_database(conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        sent.append(f"{statement} {params!r}")

    county = auth("xinzheng_county")
    made = create(client, county, name="GDAL")
    token, secret = made["token"], secret_of(made["token"])
    writer = create(client, county, write=True)["token"]
    revoked = create(client, county)
    client.delete(f"/api/v1/auth/tokens/{revoked['id']}", headers=county)
    expired = create(client, county)
    session.execute(
        text(
            "UPDATE access_tokens SET created_at = now() - interval '9 days',"
            " expires_at = now() - interval '1 day' WHERE id = :id"
        ),
        {"id": expired["id"]},
    )
    session.commit()
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    truncated = {"Authorization": basic("xinzheng_county", token)["Authorization"][:-3]}
    presented = {  # what is presented → the status it gets
        ("GET", "/api/v1/me", "bearer"): (bearer(token), 200),
        ("GET", "/api/v1/offices", "basic"): (basic("XinZheng_County", token), 200),
        ("POST", "/api/v1/offices", "read-only"): (bearer(token), 403),
        ("POST", "/api/v1/offices", "invalid body"): (basic("xinzheng_county", writer), 422),
        ("GET", "/api/v1/me", "wrong username"): (basic("zhongmu_county", token), 401),
        ("GET", "/api/v1/me", "wrong secret"): (bearer(wrong), 401),
        ("GET", "/api/v1/me", "malformed"): (bearer(token + "="), 401),
        ("GET", "/api/v1/me", "malformed basic"): (truncated, 401),
        ("GET", "/api/v1/me", "revoked"): (basic("xinzheng_county", revoked["token"]), 401),
        ("GET", "/api/v1/me", "expired"): (bearer(expired["token"]), 401),
        ("GET", f"/api/v1/me?access_token={token}", "in the query"): ({}, 401),
        ("GET", "/dashboard", "page"): (bearer(token) | {"Accept": "text/html"}, 200),
    }
    bodies, statuses = [], {}
    caplog.set_level(logging.DEBUG)
    event.listen(db.engine, "before_cursor_execute", to_database)
    try:
        for (method, url, what), (headers, _) in presented.items():
            r = client.request(method, url, headers=headers, json={"name": "x"})
            bodies.append(r.text)
            statuses[what] = r.status_code
    finally:
        event.remove(db.engine, "before_cursor_execute", to_database)
    assert statuses == {what: status for (_, _, what), (_, status) in presented.items()}
    lines = [
        JsonFormatter().format(record)
        for record in caplog.records
        if not record.name.startswith(CLIENT_LOGGERS)
    ]
    assert any('"path": "/api/v1/me"' in line for line in lines)  # (the access log is here)
    audited = session.scalars(
        text("SELECT coalesce(before::text, '') || coalesce(after::text, '') FROM audit_events")
    ).all()
    everything = {"logs": lines, "bodies": bodies, "database": sent, "audit": audited}
    # each secret, and each Authorization header as sent (Basic's is base64)
    revealing = {secret, secret_of(wrong), secret_of(writer), secret_of(revoked["token"])}
    revealing.add(secret_of(expired["token"]))
    revealing |= {h["Authorization"] for h, _ in presented.values() if "Authorization" in h}
    for where, texts in everything.items():
        assert not [t for t in texts for s in revealing if s in t], where
