"""The SQL score (standards/scores.py) rounds as the checklist's Python does: half to even
where 100·passed/criteria ends in .25 or .75 (6.25 → 6.2, 18.75 → 18.8)."""

from __future__ import annotations

from sqlalchemy import Integer, func, literal_column, select, true

from service.standards.scores import score_of


def test_every_score_of_up_to_200_criteria_as_python_rounds_it(session) -> None:  # type: ignore[no-untyped-def]
    n = func.generate_series(1, 200).table_valued("n").alias("n")
    p = func.generate_series(0, n.c.n).table_valued("p").lateral("p")
    rows = session.execute(
        select(n.c.n, p.c.p, score_of(p.c.p, n.c.n)).select_from(n.join(p, true()))
    ).all()
    assert len(rows) == sum(range(2, 202))
    wrong = [(k, m, s) for m, k, s in rows if float(s) != round(100 * k / m, 1)]
    assert wrong == []
    none = session.scalar(
        select(score_of(literal_column("0", Integer), literal_column("0", Integer)))
    )
    assert none is None
