"""The hidden checks: what each scored test computes and how it is judged.

A ``Check`` is a set of planned calls and a judge. The calls run on the submission
(sandboxed) and on the reference solution; the judge, in the grader, compares the two
sets of answers. Points are not here: the master notebook gives each check its points
(one hidden test cell per check), so an instructor re-weights a question there.

The same checks serve both engines: ``dlgrade grade`` and, through ``otter_bridge``,
the test files of the otter autograder.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

from ..compare import ATOL, RTOL, Mismatch, compare, pick
from ..execution.plan import Answer, Call, Ref, Rng, run_plan
from ..execution.standins import STANDINS
from ..messages import Message, show

Answers = Mapping[str, Answer]

ASSIGNMENTS = ("backprop_miniconv", "sgd_batch_size", "mlp_softmax")


@dataclass(frozen=True)
class Verdict:
    """A check's outcome: passed, or the messages that say why not."""

    passed: bool
    messages: tuple[Message, ...] = ()
    misconception: str | None = None


PASSED = Verdict(True)

Judge = Callable[[Answers, Answers], Verdict]


@dataclass(frozen=True)
class Check:
    """One scored test: calls to make, and how to judge their answers."""

    id: str
    calls: tuple[Call, ...]
    judge: Judge
    misconceptions: tuple[str, ...] = field(default=())


def fail(*messages: Message) -> Verdict:
    return Verdict(False, tuple(messages))


def call_text(call: Call) -> str:
    """How a call reads in feedback: ``backward(W, x, y)`` with its input values."""
    shown = [_argument_text(a) for a in call.args]
    shown += [f"{k}={_argument_text(v)}" for k, v in call.kwargs.items()]
    text = f"{call.function}({', '.join(shown)})"
    return text if len(text) <= 400 else text[:400] + "…)"


def _argument_text(argument: object) -> str:
    if isinstance(argument, Rng):
        return f"np.random.default_rng({argument.seed})"
    if isinstance(argument, Ref):
        return "<résultat précédent>"
    return show(argument, brief=True)


def matches_reference(
    calls: Sequence[Call],
    component: str,
    path: Sequence[int | str] = (),
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Judge:
    """Judge: on every call, the answer's ``path`` part equals the reference's."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call in calls:
            answer = student[call.key]
            if not answer.ok:
                return fail(Message("raised", {"call": call_text(call), "error": answer.error}))
            try:
                obtained, expected = pick(answer.value, reference[call.key].value, path, component)
            except Mismatch as mismatch:
                return fail(mismatch.message, Message("on_input", {"input": call_text(call)}))
            message = compare(obtained, expected, component, rtol=rtol, atol=atol)
            if message:
                return fail(message, Message("on_input", {"input": call_text(call)}))
        return PASSED

    return judge


def module_for(assignment: str) -> ModuleType:
    """The module defining the checks of ``assignment``."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}: one of {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"{__name__}.{assignment}")


@cache
def checks_for(assignment: str) -> dict[str, Check]:
    return {check.id: check for check in module_for(assignment).CHECKS}


def plan_for(assignment: str, check_ids: Sequence[str] | None = None) -> list[Call]:
    """Every call the given checks need, once each, in a stable order."""
    checks = checks_for(assignment)
    plan: dict[str, Call] = {}
    for check_id in check_ids if check_ids is not None else checks:
        for call in checks[check_id].calls:
            plan.setdefault(call.key, call)
    return list(plan.values())


def reference_module(assignment: str) -> ModuleType:
    return importlib.import_module(f"solutions.{assignment}")


@cache
def reference_answers(assignment: str) -> dict[str, Answer]:
    """The reference solution's answers to the whole plan, computed once per process."""
    namespace = vars(reference_module(assignment))
    answers = run_plan(plan_for(assignment), namespace, STANDINS)
    failed = {k: a.error for k, a in answers.items() if not a.ok}
    if failed:
        raise RuntimeError(f"the reference solution of {assignment} fails: {failed}")
    return answers


def judge(assignment: str, check_id: str, student: Answers) -> Verdict:
    """Judge one check; when it fails, name the known mistake the answers match, if any."""
    from ..misconceptions import matching_misconception

    check = checks_for(assignment)[check_id]
    missing = [c.key for c in check.calls if c.key not in student]
    if missing:
        raise KeyError(f"answers lack the calls {missing} of check {check_id}")
    verdict = check.judge(student, reference_answers(assignment))
    if verdict.passed:
        return verdict
    found = matching_misconception(assignment, check, student)
    return Verdict(False, verdict.messages, found)


def all_of(judges: Sequence[Judge]) -> Judge:
    """Judge that passes when every one of ``judges`` does, reporting the first failure."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        for one in judges:
            verdict = one(student, reference)
            if not verdict.passed:
                return verdict
        return PASSED

    return judge


def same_decision(calls: Sequence[Call], component: str) -> Judge:
    """Judge for boolean answers: the student's truth value equals the reference's."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call in calls:
            answer = student[call.key]
            if not answer.ok:
                return fail(Message("raised", {"call": call_text(call), "error": answer.error}))
            expected = bool(reference[call.key].value)
            obtained = answer.value
            if not isinstance(obtained, bool | int | float) or bool(obtained) != expected:
                return fail(
                    Message(
                        "wrong_decision",
                        {
                            "component": call_text(call),
                            "expected": expected,
                            "obtained": show(obtained),
                        },
                    )
                )
        return PASSED

    return judge


@dataclass(frozen=True)
class Probe:
    """One partial derivative estimated by central differences of the student's own loss."""

    label: str
    gradient_path: tuple[int | str, ...]
    plus: str
    minus: str


def agrees_with_finite_differences(
    gradient_call: Call,
    probes: Sequence[Probe],
    step: float,
    loss_path: tuple[int | str, ...],
    functions: str,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> Judge:
    """Judge: each gradient component equals (loss(θ + h) − loss(θ − h)) / 2h, where the
    losses come from the student's own functions, right or wrong."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        gradient = student[gradient_call.key]
        if not gradient.ok:
            return fail(
                Message("raised", {"call": call_text(gradient_call), "error": gradient.error})
            )
        for probe in probes:
            plus, minus = student[probe.plus], student[probe.minus]
            for answer in (plus, minus):
                if not answer.ok:
                    return fail(Message("raised", {"call": functions, "error": answer.error}))
            try:
                high, _ = pick(plus.value, reference[probe.plus].value, loss_path, functions)
                low, _ = pick(minus.value, reference[probe.minus].value, loss_path, functions)
                obtained, _ = pick(
                    gradient.value,
                    reference[gradient_call.key].value,
                    probe.gradient_path,
                    probe.label,
                )
                numeric = (float(high) - float(low)) / (2 * step)
            except (Mismatch, TypeError, ValueError) as error:
                message = (
                    error.message
                    if isinstance(error, Mismatch)
                    else Message("raised", {"call": functions, "error": str(error)})
                )
                return fail(message)
            if compare(obtained, numeric, probe.label, rtol=rtol, atol=atol):
                return fail(
                    Message(
                        "gradcheck",
                        {
                            "component": probe.label,
                            "functions": functions,
                            "expected": show(numeric),
                            "obtained": show(obtained),
                        },
                    ),
                    Message("on_input", {"input": call_text(gradient_call)}),
                )
        return PASSED

    return judge
