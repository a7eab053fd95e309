"""The hidden checks: what each scored test computes and how it is judged.

A ``Check`` is a set of planned calls and a judge. The calls run on the submission
(sandboxed) and on the reference solution; the judge, in the grader, compares the two
sets of answers. Points are not here: the master notebook gives each check its points
(one hidden test cell per check), so an instructor re-weights a question there.

Each assignment module builds its checks from a set of inputs: its fixed ``FIXED``
inputs (the ones feedback may print), and, given a seed, inputs it ``draw``s from it.
With a seed, every check judges both and passes only if both pass: answers copied from
an earlier feedback, or a table keyed on the fixed inputs, earn nothing.

The same checks serve both engines: ``dlgrade grade`` and, through ``otter_bridge``,
the test files of the otter autograder.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType

import numpy as np

from ..compare import ATOL, RTOL, Mismatch, compare, pick
from ..execution.plan import Answer, Call, Ref, Rng, run_plan
from ..execution.standins import STANDINS
from ..messages import Message, show

Answers = Mapping[str, Answer]

ASSIGNMENTS = ("backprop_miniconv", "sgd_batch_size", "mlp_softmax")

SEEDED = "seeded/"
"""Prefix of the keys of the calls whose inputs are drawn from a seed."""

SEEDS_KEPT = 32
"""Seeds whose checks and reference answers stay cached in one process."""


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


def raised(call: Call | str, answer: Answer) -> Verdict:
    """The verdict for a call that raised instead of answering."""
    text = call if isinstance(call, str) else call_text(call)
    return fail(Message("raised", {"call": text, "error": answer.error}))


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
                return raised(call, answer)
            try:
                obtained, expected = pick(answer.value, reference[call.key].value, path, component)
            except Mismatch as mismatch:
                return fail(mismatch.message, Message("on_input", {"input": call_text(call)}))
            message = compare(obtained, expected, component, rtol=rtol, atol=atol)
            if message:
                return fail(message, Message("on_input", {"input": call_text(call)}))
        return PASSED

    return judge


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
                return raised(call, answer)
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


# --- gradient check -------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One partial derivative: an entry of a gradient answer, and the keys of the two
    losses, at θ + h and θ − h, computed with the student's own functions."""

    label: str
    gradient: Call
    gradient_path: tuple[int | str, ...]
    plus: str
    minus: str


MIN_SLOPE_IN_ATOL = 100.0
"""A probe tells something only if its slope is this many ``atol`` away from zero: a
zero gradient then fails the comparison by far."""

NOISE_IN_EPS = 1e5
"""A probe's loss difference must exceed this many machine epsilons of the loss: below,
the central difference is mostly rounding error."""


def agrees_with_finite_differences(
    probes: Sequence[Probe],
    step: float,
    loss_path: tuple[int | str, ...],
    functions: str,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> Judge:
    """Judge: each gradient entry equals (loss(θ + h) − loss(θ − h)) / 2h, where the losses
    come from the student's own functions, right or wrong.

    A gradient equal to the reference's passes whatever the student's loss does. Any other
    gradient needs finite losses, and a loss that varies: at least one probe must have a
    slope well above the tolerance and a difference well above rounding noise. A constant
    loss with a zero gradient, or NaN and inf everywhere, prove nothing and earn nothing.
    """
    gradients = list({probe.gradient.key: probe.gradient for probe in probes}.values())

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call in gradients:
            if not student[call.key].ok:
                return raised(call, student[call.key])
        unconfirmed = {
            call.key
            for call in gradients
            if compare(student[call.key].value, reference[call.key].value, "")
        }
        informative = False
        for probe in (p for p in probes if p.gradient.key in unconfirmed):
            values = _probe_values(probe, student, reference, loss_path, functions)
            if isinstance(values, Verdict):
                return values
            high, low, obtained = values
            numeric = (high - low) / (2 * step)
            if not np.isfinite(numeric):
                return _not_finite(functions, (high, low), probe.gradient)
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
                    Message("on_input", {"input": call_text(probe.gradient)}),
                )
            noise = NOISE_IN_EPS * np.finfo(np.float64).eps * max(abs(high), abs(low))
            informative |= abs(high - low) > noise and abs(numeric) >= MIN_SLOPE_IN_ATOL * atol
        if unconfirmed and not informative:
            return _flat_loss(gradients, unconfirmed, functions)
        return PASSED

    return judge


def _probe_values(
    probe: Probe, student: Answers, reference: Answers, loss_path: tuple, functions: str
) -> tuple[float, float, object] | Verdict:
    """The student's two losses (finite floats) and gradient entry of one probe, or the
    verdict that says why they cannot be used."""
    plus, minus = student[probe.plus], student[probe.minus]
    for answer in (plus, minus):
        if not answer.ok:
            return raised(functions, answer)
    try:
        high, _ = pick(plus.value, reference[probe.plus].value, loss_path, functions)
        low, _ = pick(minus.value, reference[probe.minus].value, loss_path, functions)
        obtained, _ = pick(
            student[probe.gradient.key].value,
            reference[probe.gradient.key].value,
            probe.gradient_path,
            probe.label,
        )
        high, low = float(high), float(low)
    except Mismatch as mismatch:
        return fail(mismatch.message)
    except (TypeError, ValueError, OverflowError) as error:
        return fail(Message("raised", {"call": functions, "error": str(error)}))
    if not (np.isfinite(high) and np.isfinite(low)):
        return _not_finite(functions, (high, low), probe.gradient)
    return high, low, obtained


def _not_finite(functions: str, losses: tuple[float, float], gradient: Call) -> Verdict:
    return fail(
        Message("not_finite", {"component": functions, "obtained": show(list(losses))}),
        Message("on_input", {"input": call_text(gradient)}),
    )


def _flat_loss(gradients: Sequence[Call], unconfirmed: set[str], functions: str) -> Verdict:
    """A loss that does not move cannot vouch for a gradient that differs from the
    reference's: the student is told so, on the first such input."""
    call = next(c for c in gradients if c.key in unconfirmed)
    return fail(
        Message("gradcheck_flat", {"functions": functions}),
        Message("on_input", {"input": call_text(call)}),
    )


# --- checks, plans and reference answers ------------------------------------------------


def module_for(assignment: str) -> ModuleType:
    """The module defining the checks of ``assignment``."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}: one of {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"{__name__}.{assignment}")


@lru_cache(maxsize=SEEDS_KEPT)
def checks_for(assignment: str, seed: int | None = None) -> dict[str, Check]:
    """The checks of ``assignment`` by id. With a seed, each also runs on inputs drawn from
    it (calls keyed ``seeded/…``) and passes only if it passes on both sets of inputs."""
    module = module_for(assignment)
    fixed = module.build(module.FIXED)
    if seed is None:
        return {check.id: check for check in fixed}
    drawn = module.build(module.draw(np.random.default_rng(seed)), SEEDED)
    return {one.id: _joined(one, other) for one, other in zip(fixed, drawn, strict=True)}


def _joined(fixed: Check, drawn: Check) -> Check:
    if fixed.id != drawn.id:
        raise ValueError(f"checks built in another order: {fixed.id} and {drawn.id}")
    return Check(
        fixed.id,
        fixed.calls + drawn.calls,
        all_of([fixed.judge, drawn.judge]),
        fixed.misconceptions,
    )


def plan_for(
    assignment: str, check_ids: Sequence[str] | None = None, *, seed: int | None = None
) -> list[Call]:
    """Every call the given checks need (all checks by default), once each, in a stable
    order; with a seed, the calls on the inputs drawn from it too."""
    checks = checks_for(assignment, seed)
    plan: dict[str, Call] = {}
    for check_id in check_ids if check_ids is not None else checks:
        for call in checks[check_id].calls:
            plan.setdefault(call.key, call)
    return list(plan.values())


def reference_module(assignment: str) -> ModuleType:
    return importlib.import_module(f"solutions.{assignment}")


@lru_cache(maxsize=SEEDS_KEPT)
def reference_answers(assignment: str, seed: int | None = None) -> dict[str, Answer]:
    """The reference solution's answers to the whole plan, computed once per process and
    seed."""
    namespace = vars(reference_module(assignment))
    answers = run_plan(plan_for(assignment, seed=seed), namespace, STANDINS)
    failed = {k: a.error for k, a in answers.items() if not a.ok}
    if failed:
        raise RuntimeError(f"the reference solution of {assignment} fails: {failed}")
    return answers


def judge(assignment: str, check_id: str, student: Answers, *, seed: int | None = None) -> Verdict:
    """Judge one check (on the inputs drawn from ``seed`` too, if given); when it fails,
    name the known mistake the answers match, if any."""
    from ..misconceptions import matching_misconception

    check = checks_for(assignment, seed)[check_id]
    missing = [c.key for c in check.calls if c.key not in student]
    if missing:
        raise KeyError(f"answers lack the calls {missing} of check {check_id}")
    verdict = check.judge(student, reference_answers(assignment, seed))
    if verdict.passed:
        return verdict
    found = matching_misconception(assignment, check, student, seed)
    return Verdict(False, verdict.messages, found)
