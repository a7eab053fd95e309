"""Judging a submission's answers: an assignment's checks, its reference answers, and the
known mistake a failure matches.

Everything here is computed once per process (and per seed of hidden inputs) and cached:
the checks an assignment's ``checks.py`` builds, the reference's answers to their calls,
and the answers of each wrong variant of ``mistakes.py``. Loading an assignment checks
that its files agree with each other and that the reference passes its own checks; a
problem names the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from types import FunctionType
from typing import Any

import numpy as np

from .checks import Answers, Check, Verdict, all_of
from .compare import numbers_of
from .course import AssignmentCode, AssignmentError, Project, failing_line, where
from .execution.plan import Answer, Call, run_plan
from .mistakes import Mistake, Variant

SEEDED = "seeded/"
"""Prefix of the keys of the calls whose inputs are drawn from a seed."""

SEEDS_KEPT = 32
"""Seeds whose checks and answers stay cached in one process."""


def code(assignment: str, root: Path | None = None) -> AssignmentCode:
    """The assignment's files, from the course folder ``root`` (by default, the default one)."""
    return Project(root or Project.default().root).code(assignment)


def checks_for(
    assignment: str, seed: int | None = None, *, root: Path | None = None
) -> dict[str, Check]:
    """The checks of ``assignment`` (in the course folder ``root``, by default the default
    one) by id. With a seed, each also runs on inputs drawn from it (calls keyed
    ``seeded/…``) and passes only if it passes on both sets of inputs."""
    return _checks(root or Project.default().root, assignment, seed)


@lru_cache(maxsize=SEEDS_KEPT)
def _checks(root: Path, assignment: str, seed: int | None) -> dict[str, Check]:
    loaded = Project(root).code(assignment)
    module = loaded.checks
    with _naming_the_line(loaded.folder / "checks.py"):
        fixed = module.build(module.FIXED, loaded.reference)
        if seed is None:
            _validate(loaded, fixed)
            return {check.id: check for check in fixed}
        drawn = module.build(module.draw(np.random.default_rng(seed)), loaded.reference, SEEDED)
    return {one.id: _joined(one, other) for one, other in zip(fixed, drawn, strict=True)}


@contextmanager
def _naming_the_line(path: Path) -> Iterator[None]:
    """An error raised by the assignment's code becomes an AssignmentError naming its line."""
    try:
        yield
    except AssignmentError:
        raise
    except Exception as error:
        raise AssignmentError(
            f"{failing_line(path, error)}: {type(error).__name__}: {error}"
        ) from None


def _validate(loaded: AssignmentCode, checks: Sequence[Check]) -> None:
    """Every check id unique, every mistake and stand-in a check names defined, every
    mistake named by some check."""
    path = loaded.folder / "checks.py"
    seen: set[str] = set()
    for check in checks:
        if check.id in seen:
            raise AssignmentError(f"{where(path, check.id)}: check {check.id!r} built twice")
        seen.add(check.id)
        for mistake in check.misconceptions:
            if mistake not in loaded.mistakes:
                raise AssignmentError(
                    f"{where(path, mistake)}: check {check.id!r} names mistake {mistake!r}, "
                    f"which {loaded.folder / 'mistakes.py'} does not define"
                )
        for call in (*check.calls, *check.reference_calls):
            unknown = set(call.standins.values()) - set(loaded.standins)
            if unknown:
                raise AssignmentError(
                    f"{where(path, sorted(unknown)[0])}: check {check.id!r} uses the stand-ins "
                    f"{', '.join(sorted(unknown))}, which standins.py does not define"
                )
    named = {m for check in checks for m in check.misconceptions}
    for mistake in loaded.mistakes:
        if mistake not in named:
            raise AssignmentError(
                f"{where(loaded.folder / 'mistakes.py', mistake)}: no check names mistake "
                f"{mistake!r}: list it in the misconceptions of the checks it makes fail"
            )


def _joined(fixed: Check, drawn: Check) -> Check:
    if fixed.id != drawn.id:
        raise AssignmentError(f"checks built in another order: {fixed.id} and {drawn.id}")
    return Check(
        fixed.id,
        fixed.calls + drawn.calls,
        all_of([fixed.judge, drawn.judge]),
        fixed.misconceptions,
        fixed.reference_calls + drawn.reference_calls,
        fixed.follows,
    )


def plan_for(
    assignment: str,
    check_ids: Sequence[str] | None = None,
    *,
    seed: int | None = None,
    root: Path | None = None,
) -> list[Call]:
    """Every call the given checks need (all checks by default), once each, in a stable
    order; with a seed, the calls on the inputs drawn from it too."""
    return _calls(checks_for(assignment, seed, root=root), check_ids)


def _calls(
    checks: Mapping[str, Check], check_ids: Sequence[str] | None = None, *, reference: bool = False
) -> list[Call]:
    """The calls of the given checks, once each in a stable order; with ``reference``,
    their reference-only calls instead."""
    calls: dict[str, Call] = {}
    for check_id in check_ids if check_ids is not None else checks:
        check = checks[check_id]
        for call in check.reference_calls if reference else check.calls:
            calls.setdefault(call.key, call)
    return list(calls.values())


def reference_answers(
    assignment: str, seed: int | None = None, *, root: Path | None = None
) -> dict[str, Answer]:
    """The reference solution's answers to the whole plan, computed once per process and
    seed; a reference that fails a call or one of its own checks is an AssignmentError."""
    return _reference_answers(root or Project.default().root, assignment, seed)


@lru_cache(maxsize=SEEDS_KEPT)
def _reference_answers(root: Path, assignment: str, seed: int | None) -> dict[str, Answer]:
    loaded = Project(root).code(assignment)
    checks = _checks(root, assignment, seed)
    plan = _calls(checks)
    # A reference-only call may fail: a loop mixing the reference's backward with a
    # stand-in forward pass can diverge. That route then vouches for no student.
    with np.errstate(all="ignore"):
        answers = run_plan(
            plan + _calls(checks, reference=True), vars(loaded.reference), loaded.standins
        )
    reference_file = Project(root).reference(assignment)
    checks_file = loaded.folder / "checks.py"
    for call in plan:
        if call.variable:  # the notebook's, not the contract's: the reference has none
            continue
        answer = answers[call.key]
        if not callable(getattr(loaded.reference, call.function, None)):
            raise AssignmentError(
                f"{where(checks_file, call.function)}: a check calls {call.function}(), which "
                f"{reference_file} does not define"
            )
        if not answer.ok:
            raise AssignmentError(
                f"{reference_file}: the reference fails {call.function}() of a check "
                f"({call.key}): {answer.error}"
            )
        if not np.all(np.isfinite(numbers_of(answer.value))):
            raise AssignmentError(
                f"{reference_file}: the reference gives NaN or inf for {call.function}() "
                f"({call.key}): no student could match it"
            )
    for check in checks.values():
        if not check.judge(answers, answers).passed:
            raise AssignmentError(
                f"{where(loaded.folder / 'checks.py', check.id)}: the reference does not pass "
                f"its own check {check.id!r}"
            )
    return answers


def judge(
    assignment: str,
    check_id: str,
    student: Answers,
    *,
    seed: int | None = None,
    root: Path | None = None,
) -> Verdict:
    """Judge one check (on the inputs drawn from ``seed`` too, if given); when it fails,
    name the known mistake the answers match, if any."""
    root = root or Project.default().root
    check = _checks(root, assignment, seed)[check_id]
    missing = [c.key for c in check.calls if c.key not in student]
    if missing:
        raise KeyError(f"answers lack the calls {missing} of check {check_id}")
    verdict = check.judge(student, _reference_answers(root, assignment, seed))
    if verdict.passed:
        return verdict
    found = _matching_mistake(root, assignment, check, student, seed)
    return Verdict(False, verdict.messages, found)


# --- known mistakes -----------------------------------------------------------------------


def mistake(assignment: str, mistake_id: str, root: Path | None = None) -> Mistake | None:
    """The known mistake ``mistake_id`` of ``assignment``, if it has one."""
    return code(assignment, root).mistakes.get(mistake_id)


def variant_namespace(loaded: AssignmentCode, variant: Variant) -> dict[str, Any]:
    """The reference's functions, rebound to a namespace where the variant replaces some."""
    module = loaded.reference
    live: dict[str, Any] = {}
    for name, value in vars(module).items():
        if isinstance(value, FunctionType) and value.__module__ == module.__name__:
            rebound = FunctionType(
                value.__code__, live, name, value.__defaults__, value.__closure__
            )
            rebound.__kwdefaults__ = value.__kwdefaults__
            value = rebound
        live[name] = value
    live.update(variant(dict(live), live))
    return live


VARIANTS_KEPT = SEEDS_KEPT * 48
"""Variant answer sets kept in one process: every variant of an assignment (fewer than
48), for ``SEEDS_KEPT`` seeds."""


@lru_cache(maxsize=VARIANTS_KEPT)
def variant_answers(
    root: Path, assignment: str, mistake_id: str, index: int, seed: int | None
) -> dict[str, Answer]:
    """Answers of one wrong variant to the calls of every check that lists its mistake (on
    the inputs drawn from ``seed`` too, if given), computed once per process and seed."""
    loaded = Project(root).code(assignment)
    calls = {
        call.key: call
        for check in _checks(root, assignment, seed).values()
        if mistake_id in check.misconceptions
        for call in (*check.calls, *check.reference_calls)
    }
    namespace = variant_namespace(loaded, loaded.mistakes[mistake_id].variants[index])
    with np.errstate(all="ignore"):
        return run_plan(list(calls.values()), namespace, loaded.standins)


def _matching_mistake(
    root: Path, assignment: str, check: Check, student: Answers, seed: int | None
) -> str | None:
    """The id of the first listed mistake whose wrong variant the student's answers match;
    ``check`` is the one ``checks_for(assignment, seed)`` holds."""
    mistakes = code(assignment, root).mistakes
    for mistake_id in check.misconceptions:
        for index in range(len(mistakes[mistake_id].variants)):
            wrong = variant_answers(root, assignment, mistake_id, index, seed)
            # A variant may fail on some calls (gradient ascent overflows with the real
            # functions): the judge then compares the others (a training loop's stand-in route).
            if any(wrong[c.key].ok for c in check.calls) and _passes(check, student, wrong):
                return mistake_id
    return None


def _passes(check: Check, student: Answers, wrong: Mapping[str, Answer]) -> bool:
    """Whether the student's answers pass ``check`` with a wrong variant as reference; a
    variant whose answers the judge cannot read matches nothing."""
    try:
        return check.judge(student, wrong).passed
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        return False
