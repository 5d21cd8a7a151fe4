"""The level of each feature of a division file, without guessing.

Most codes denote one division (`codes.readings`). A padded code that can denote two — the
city 4101 or the county-level unit 410100; the county 410184 or the township 410184000 — is
taken as the level the file's `level` column states, else as its conventional reading (the
higher level, as the statistical codes mean it), unless the file or the registry points to
its other reading:

- the registry holds a current division under the other reading's code;
- another feature of the file lies in the other reading (a township 441900003 needs the
  county-level unit 441900);
- another feature of the file already is the conventional reading (the county 410184 given
  as `410184` and `410184000000` can only be its township);
- every other feature is of the other reading's level and none lies in the conventional one
  (410184000000 in a layer of other counties' townships).

Then the feature is refused as ambiguous, naming the code as written and why; a feature is
never written as a division of a level it may not be.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.divisions.codes import NOT_A_CODE, Reading
from service.divisions.kinds import DivisionLevel, parent_code_of

SAY_THE_LEVEL = (
    "add a `level` column (province, city, county, township or 省, 市, 县, 乡镇) to say which"
)


def other_readings(options: Iterable[tuple[Reading, ...]]) -> set[str]:
    """Codes of the non-conventional readings: whether the registry holds them decides."""
    return {r.code for opts in options for r in opts[1:]}


def choose_readings(
    written: list[str],
    options: list[tuple[Reading, ...]],
    stated: list[DivisionLevel | None],
    registry: set[str],
) -> tuple[list[Reading | None], dict[int, str]]:
    """One reading per feature (None where refused) and the refusals by feature index.

    `registry` holds the codes among `other_readings(options)` that are current divisions.
    """
    chosen: list[Reading | None] = [None] * len(written)
    problems: dict[int, str] = {}
    pending: list[int] = []
    for i, (opts, level) in enumerate(zip(options, stated, strict=True)):
        if not opts:
            problems[i] = f"code {written[i]!r} is not a 2-, 4-, 6- or 9-digit division code"
            problems[i] += f" ({NOT_A_CODE})"
        elif level is not None:
            fit = [r for r in opts if r.level is level]
            if fit:
                chosen[i] = fit[0]
            else:
                problems[i] = (
                    f"level {level.value} does not fit code {written[i]}, which can only be "
                    + " or ".join(str(r) for r in opts)
                )
        elif len(opts) == 1:
            chosen[i] = opts[0]
        else:
            pending.append(i)

    # the settled features are the file's structure
    by_code: dict[str, int] = {}
    by_parent: dict[str, int] = {}
    levels: set[DivisionLevel] = set()
    for k, r in enumerate(chosen):
        if r is not None:
            by_code.setdefault(r.code, k)
            parent = parent_code_of(r.code)
            if parent:
                by_parent.setdefault(parent, k)
            levels.add(r.level)

    def seen(k: int) -> str:
        return f"feature #{k} ({written[k]})"

    for i in pending:
        conventional, *others = options[i]
        evidence: str | None = None
        if conventional.code in by_code:
            evidence = f"{seen(by_code[conventional.code])} is {conventional}"
        for other in others:
            if evidence:
                break
            if other.code in registry:
                evidence = f"the registry holds {other}"
            elif other.code in by_parent:
                evidence = f"{seen(by_parent[other.code])} lies in {other}"
            elif levels == {other.level} and conventional.code not in by_parent:
                evidence = f"the file's other features are all {other.level.value}-level"
        if evidence is None:
            chosen[i] = conventional
        else:
            problems[i] = (
                f"code {written[i]} is ambiguous: it can be "
                + " or ".join(str(r) for r in options[i])
                + f", and {evidence}; {SAY_THE_LEVEL}"
            )
    return chosen, problems
