"""How a hidden check is written: planned calls, and a judge of their answers.

A ``Check`` is a set of planned calls and a judge. The calls run on the submission
(sandboxed) and on the reference solution; the judge, in the grader, compares the two
sets of answers. Points are not here: the master notebook gives each check its points
(one hidden test cell per check), so an instructor re-weights a question there.

An assignment's ``checks.py`` builds its checks with this toolkit from a set of inputs:
its fixed ``FIXED`` inputs (the ones feedback may print), and, given a seed, inputs it
``draw``s from it. ``judging`` runs them: with a seed, every check judges both and passes
only if both pass, so answers copied from an earlier feedback earn nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .compare import (
    FD_ATOL,
    FD_RTOL,
    RTOL,
    RTOL_FLOAT32,
    RTOL_LOG_GUARD,
    UNIT,
    Mismatch,
    agrees,
    as_array,
    compare,
    distinct_texts,
    is_float32,
    kind,
    pick,
)
from .execution.plan import (
    INTERRUPTED,
    UNREADABLE,
    Answer,
    Call,
    Ref,
    Rng,
    modified_arguments,
    sample_positions,
    unavailable,
)
from .messages import Later, Message, Translated, show

Answers = Mapping[str, Answer]


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
    """One scored test: calls to make, and how to judge their answers.

    ``reference_calls`` are answered by the reference (and the catalogue's wrong
    variants) only, never asked of the student: the reference run with other stand-ins,
    against which a training loop that computes some quantities inline is judged.
    ``follows`` marks a check that fails whenever its question's other checks do (a
    gradient check fails with any wrong gradient): it names no mistake of its own, and a
    mistake named by the others answers for it (``mistakes.counted_once``).
    """

    id: str
    calls: tuple[Call, ...]
    judge: Judge
    misconceptions: tuple[str, ...] = field(default=())
    reference_calls: tuple[Call, ...] = field(default=())
    follows: bool = False


def fail(*messages: Message) -> Verdict:
    return Verdict(False, tuple(messages))


def call_text(call: Call) -> str:
    """How a call reads in feedback: ``backward(W, x, y)`` with its input values (a
    variable read: its name)."""
    if call.variable:
        return call.function
    shown = [_argument_text(a) for a in call.args]
    shown += [f"{k}={_argument_text(v)}" for k, v in call.kwargs.items()]
    text = f"{call.function}({', '.join(shown)})"
    return text if len(text) <= 400 else text[:400] + "…)"


def on_input(call: Call) -> Message:
    """Where a finding was made: the call's inputs in words (``Call.about``), and the call
    itself (shown when the inputs have no words)."""
    text = _later_call_text(call)
    return Message("on_input", {"input": call.about or text, "call": text})


def _later_call_text(call: Call) -> Later:
    """``call_text``, written only if the finding is shown or stored, and once per call:
    a check's calls and their inputs last as long as the process, and a class repeats the
    same wrong answers."""
    kept = _CALL_TEXTS.get(id(call))
    if kept is None:
        if len(_CALL_TEXTS) >= CALL_TEXTS_KEPT:
            _CALL_TEXTS.clear()
        kept = _CALL_TEXTS[id(call)] = (call, Later(lambda: call_text(call)))
    return kept[1]


CALL_TEXTS_KEPT = 4096
_CALL_TEXTS: dict[int, tuple[Call, Later]] = {}
"""By the call's identity (a call holds arrays: it has no hash); the call is kept with its
text, so that its identity is never another's."""


def about(fr: str, en: str) -> Translated:
    """A call's inputs described in words, for the student (``Call(..., about=...)``):
    ``about("un batch aléatoire de 7 exemples", "a random batch of 7 examples")``."""
    return Translated({"fr": fr, "en": en})


def _argument_text(argument: object) -> str:
    if isinstance(argument, Rng):
        return f"np.random.default_rng({argument.seed})"
    if isinstance(argument, Ref):
        return "<résultat précédent>"
    return show(argument, brief=True)


def raised(call: Call | str, answer: Answer) -> Verdict:
    """The verdict for a call that raised instead of answering, or returned a value the
    grader cannot read (``UNREADABLE``)."""
    text = call if isinstance(call, str) else _later_call_text(call)
    error = answer.error or ""
    if error.startswith(f"{UNREADABLE}: "):
        reason = error.removeprefix(f"{UNREADABLE}: ")
        return fail(Message("unreadable_answer", {"call": text, "reason": reason}))
    return fail(Message("raised", {"call": text, "error": error}))


def matches_reference(
    calls: Sequence[Call],
    component: str,
    path: Sequence[int | str] = (),
    *,
    rtol: float = RTOL,
    unit: float = UNIT,
    protected: Mapping[int | str, str] | None = None,
) -> Judge:
    """Judge: on every call, the answer's ``path`` part equals the reference's (tolerances:
    ``compare``). ``protected`` names the arguments the contract forbids modifying in
    place (position or keyword → name): a call that modifies one fails, unless the
    reference (a wrong variant, when a mistake is being named) did the same."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call in calls:
            verdict = _one_answer(call, student, reference, component, path, rtol, unit)
            if not verdict.passed:
                return verdict
        return in_place(calls, protected)(student, reference)

    return judge


def _one_answer(
    call: Call,
    student: Answers,
    reference: Answers,
    component: str,
    path: Sequence[int | str],
    rtol: float,
    unit: float,
    reference_key: str | None = None,
) -> Verdict:
    """The verdict on one call's answer, against the reference's answer to ``reference_key``
    (by default the same call)."""
    answer = student[call.key]
    if not answer.ok:
        return raised(call, answer)
    expected_answer = reference[reference_key or call.key]
    if not expected_answer.ok:  # a wrong variant that fails here: nothing to match
        error = expected_answer.error
        return fail(Message("raised", {"call": _later_call_text(call), "error": error}))
    try:
        obtained, expected = pick(answer.value, expected_answer.value, path, component)
    except Mismatch as mismatch:
        return fail(mismatch.message, on_input(call))
    message = compare(obtained, expected, component, rtol=rtol, unit=unit)
    if message:
        return fail(message, on_input(call))
    return PASSED


def matches_sample(
    calls: Sequence[Call], component: str, path: Sequence[int | str], shape: tuple[int, ...]
) -> Judge:
    """``matches_reference`` for calls whose answers are sampled (``Call.sample``): the
    ``path`` part is an array of ``shape``, and a wrong value names the entries of that
    array the sample holds, not their places in the sample."""
    plain = [matches_reference((call,), component, path) for call in calls]

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call, one in zip(calls, plain, strict=True):
            verdict = one(student, reference)
            if not verdict.passed:
                sampled = {
                    "sampled_from": "×".join(map(str, shape)),
                    "sampled_at": " ".join(map(str, sample_positions(call.sample, math.prod(shape)))),
                }  # fmt: skip
                messages = tuple(
                    Message(m.key, {**m.params, **sampled}) if m.key.startswith("wrong_value") else m
                    for m in verdict.messages
                )  # fmt: skip
                return replace(verdict, messages=messages)
        return PASSED

    return judge


def in_place(calls: Sequence[Call], protected: Mapping[int | str, str] | None) -> Judge:
    """Judge: no call modified in place an argument the contract protects (unless the
    reference modified it too: a wrong variant that does, when a mistake is named)."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call in calls:
            for argument in modified_arguments(student, call.key):
                if argument in (protected or {}) and argument not in modified_arguments(
                    reference, call.key
                ):
                    component = f"{call.function}({(protected or {})[argument]})"
                    return fail(
                        Message("input_modified", {"component": component}),
                        on_input(call),
                    )
        return PASSED

    return judge


# --- training loops: the student's own functions, or stand-ins -------------------------


def inlined_key(call: Call, inlined: Sequence[str]) -> str:
    """Key of the reference-only call: ``call`` run with the stand-ins, except for the
    ``inlined`` functions, which keep the reference's own."""
    return f"{call.key}/inline:{'+'.join(sorted(inlined))}"


def with_inlined(call: Call, inlined: Sequence[str]) -> Call:
    """The reference-only twin of a stand-in ``call`` for a loop computing ``inlined``
    itself: those functions are not replaced."""
    standins = {name: s for name, s in call.standins.items() if name not in inlined}
    return Call(inlined_key(call, inlined), call.function, call.args, call.kwargs, standins)


def inline_choices(names: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Every non-empty set of ``names`` a loop may compute inline rather than call."""
    from itertools import combinations

    return tuple(
        tuple(chosen) for size in range(1, len(names) + 1) for chosen in combinations(names, size)
    )


def rng_twins(call: Call, other_seed: int) -> tuple[Call, Call]:
    """``call`` made again with the same seeded ``rng``, and with a generator seeded
    ``other_seed``: what ``naming_stray_draws`` reads to tell where a loop draws from."""
    reseeded = tuple(Rng(other_seed) if isinstance(a, Rng) else a for a in call.args)
    return (
        replace(call, key=f"{call.key}/again"),
        replace(call, key=f"{call.key}/reseeded", args=reseeded),
    )


def naming_stray_draws(judge: Judge, call: Call, twins: tuple[Call, Call]) -> Judge:
    """``judge``, whose failure also names a loop that does not draw only from the ``rng``
    it is given (CONTRACT.md): ``call`` and its twin with the same seed give two results
    (it draws from ``np.random`` or a generator of its own without a seed), or its twin
    with another seed gives the same result where the reference's changes (it ignores
    ``rng``, or never keeps an update: it returns the weights it started from). Either way
    its values are wrong on every input: "the loop differs" would not tell the student
    why."""
    again, reseeded = twins

    def judged(student: Answers, reference: Answers) -> Verdict:
        verdict = judge(student, reference)
        if verdict.passed:
            return verdict
        first, same, other = (student[c.key] for c in (call, again, reseeded))
        finding = None
        if first.ok and same.ok and not agrees(first.value, same.value):
            finding = Message("draws_elsewhere", {"function": call.function})
        elif (
            first.ok
            and other.ok
            and agrees(first.value, other.value)
            and not agrees(reference[call.key].value, reference[reseeded.key].value)
        ):
            kept = _returns_a_start(first.value, call) and not _returns_a_start(
                reference[call.key].value, call
            )
            finding = Message("never_updates" if kept else "ignores_rng", {"function": call.function})
        if finding is None:
            return verdict
        return replace(verdict, messages=(finding, *verdict.messages))

    return judged


def _returns_a_start(answer: object, call: Call) -> bool:
    """Whether a loop's answer holds one of the arrays or dicts it was given, unchanged:
    the weights it started from, never updated, explain a result that ignores the seed."""
    parts = answer if isinstance(answer, tuple | list) else (answer,)
    starts = [arg for arg in call.args if isinstance(arg, np.ndarray | dict)]
    return any(agrees(part, start) for part in parts for start in starts)


def training_loop(
    own: Sequence[Call],
    standin: Sequence[Call],
    inlinable: Sequence[str],
    component: str,
    path: Sequence[int | str] = (),
    *,
    rtol: float = RTOL,
    protected: Mapping[int | str, str] | None = None,
) -> Judge:
    """Judge of a training loop, right by either of two routes (CONTRACT.md, "Helpers or
    inline: the student's choice"):

    - with the student's own functions (``own`` calls), its result equals the reference's;
    - or, with the contract functions it calls replaced by stand-ins (``standin`` calls),
      its result equals the reference's run with the same stand-ins. A loop may compute
      some of them inline (``inlinable``: those whose stand-in is not the contract's own
      formula): its result is then compared with the reference run with stand-ins for
      the others only (``with_inlined`` reference-only calls).

    A wrong helper then costs only its own checks, whichever way the loop is written; only
    a loop wrong both ways fails, and the feedback says it is wrong both ways.
    """
    choices = ((), *inline_choices(inlinable))
    replaced = ", ".join(sorted({name for call in standin for name in call.standins}))

    def with_standins(student: Answers, reference: Answers) -> Verdict:
        stopped = next((student[c.key] for c in standin if not student[c.key].ok), None)
        if stopped is not None:  # no value to compare: the loop is not shown to be wrong
            return fail(
                Message("loop_fails_with_standins", {"functions": replaced, "error": stopped.error})
            )
        for inlined in choices:
            if all(
                _one_answer(
                    call,
                    student,
                    reference,
                    component,
                    path,
                    rtol,
                    UNIT,
                    inlined_key(call, inlined) if inlined else None,
                ).passed
                for call in standin
            ):
                return PASSED
        return fail()

    either = right_by_either_route(
        matches_reference(own, component, path, rtol=rtol),
        with_standins,
        Message("loop_wrong_both_ways", {"functions": replaced}),
    )
    return all_of([either, in_place([*own, *standin], protected)])


def stops_when_told(
    plateau: tuple[Call, Call],
    steady: tuple[Call, Call],
    limit: int,
    record: tuple[str, Sequence[int | str]],
    rule: str,
    *,
    also: Judge,
) -> Judge:
    """Judge of a loop that must end as soon as its stopping test (the contract function
    ``rule``) says so. Each pair is a call with the student's own test and its twin with
    the test replaced by a stand-in: ``plateau`` where every valid test stops before
    ``limit``, the loop's own cap on its steps, and ``steady``, where the loss falls so
    steadily that no valid test stops before the cap. ``record`` (a component's name and
    path) is what the loop keeps one entry of per step. Right by either route:

    - with the student's own test, called or written inline: on the plateau, at least two
      steps and fewer than ``limit``, each entry the reference's, and the rest of the
      answer right by ``also``; on the steady fall, as many steps as the reference (the
      entries there are the loss checks' to judge);
    - with the stand-in test: as many steps as the reference with the same stand-in, on
      both. A test that is wrong on its own costs its own points only.

    A loop that never asks the test runs to ``limit`` on the plateau; one that stops after
    a count of its own, whatever the losses, stops short on the steady fall.
    """
    component, path = record
    own, standin = plateau
    own_steady, standin_steady = steady

    def entries(call: Call, answers: Answers, reference: Answers) -> np.ndarray | None:
        answer, expected = answers[call.key], reference[call.key]
        if not (answer.ok and expected.ok):
            return None
        try:
            kept, _ = pick(answer.value, expected.value, path, component)
            kept = np.asarray(kept, dtype=np.float64)
        except (Mismatch, TypeError, ValueError):
            return None
        return kept if kept.ndim == 1 else None

    def plateau_right(student: Answers, reference: Answers) -> bool:
        taken, expected = entries(own, student, reference), entries(own, reference, reference)
        if taken is None or expected is None or not 2 <= len(taken) < limit:
            return False
        common = min(len(taken), len(expected))
        same = compare(taken[:common], expected[:common], component) is None
        return same and also(student, reference).passed

    def as_many_steps(call: Call, student: Answers, reference: Answers) -> bool:
        taken, expected = entries(call, student, reference), entries(call, reference, reference)
        return taken is not None and expected is not None and len(taken) == len(expected)

    def judge(student: Answers, reference: Answers) -> Verdict:
        if plateau_right(student, reference) and as_many_steps(own_steady, student, reference):
            return PASSED
        if all(as_many_steps(call, student, reference) for call in (standin, standin_steady)):
            return PASSED
        for call in (own, own_steady):
            if not student[call.key].ok:
                return raised(call, student[call.key])
        said = {"function": own.function, "rule": rule, "limit": limit}
        steps = entries(own, student, reference)
        if steps is None or len(steps) >= limit:
            return fail(Message("ignores_stopping_test", said), on_input(own))
        if not plateau_right(student, reference):
            return fail(Message("stops_wrongly", {**said, "steps": len(steps)}), on_input(own))
        taken = entries(own_steady, student, reference)
        steps = 0 if taken is None else len(taken)
        return fail(Message("stops_while_falling", {**said, "steps": steps}), on_input(own_steady))

    return judge


def right_by_either_route(
    own: Judge, with_standins: Judge, wrong_both_ways: Message | None = None
) -> Judge:
    """Judge of a function that may call other contract functions: right if it passes
    ``own`` (the student's own helpers) or ``with_standins`` (the helpers replaced by the
    stand-ins, against the reference run with the same stand-ins). A mistake in a helper
    then costs that helper's points only (CONTRACT.md); a function wrong both ways fails
    with the messages of its own route (what the student's code gives), then, if
    ``wrong_both_ways`` is given, the stand-in route's own messages or else that one."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        verdict = own(student, reference)
        if verdict.passed:
            return PASSED
        standins = with_standins(student, reference)
        if standins.passed:
            return PASSED
        why = (standins.messages or (wrong_both_ways,)) if wrong_both_ways else ()
        return fail(*verdict.messages, *why)

    return judge


def standin_twins(
    calls: Sequence[Call],
    standins: Mapping[str, str],
    args: Callable[[Call], tuple] | None = None,
) -> tuple[Call, ...]:
    """``calls`` made again with ``standins`` replacing the helpers they may call (keys
    ending in ``/standins``); ``args`` gives each twin other arguments, where the stand-ins
    need inputs of their own to tell a right function from a wrong one."""
    return tuple(
        replace(
            call,
            key=f"{call.key}/standins",
            args=args(call) if args else call.args,
            standins=standins,
        )
        for call in calls
    )


def variable(key: str, name: str, about: Translated | None = None) -> Call:
    """A planned read of the notebook's variable ``name`` (a question answered by a value)."""
    return Call(key, name, about=about, variable=True)


def holds_results(
    value: Call, entries: Mapping[str, Call], component: str, without: Judge
) -> Judge:
    """Judge of a variable (``value``, read with ``variable``) holding a dict of results of
    the student's functions, one entry per key of ``entries`` (the call that computes it):
    each entry equals the reference's answer to that call, or the student's own answer.
    A mistake in the function is that function's: the variable built from it is right.

    The variable is the notebook's, not the contract's: a notebook that does not define
    it is judged by ``without`` (on the calls themselves)."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        answer = student[value.key]
        if not answer.ok:
            return (
                without(student, reference) if unavailable(answer.error) else raised(value, answer)
            )
        table = answer.value
        expected = {key: reference[call.key].value for key, call in entries.items()}
        if not isinstance(table, dict) or not expected.keys() <= table.keys():
            shown = {"name": component, "expected": kind(expected), "obtained": kind(table)}
            return fail(Message("wrong_kind_variable", shown))
        for key, call in entries.items():
            own = student[call.key]
            message = compare(table[key], expected[key], f"{component}[{key}]")
            if message is None or (own.ok and not compare(table[key], own.value, component)):
                continue
            if message.key == "wrong_kind":  # what the notebook holds, not what a call returned
                message = Message(
                    "wrong_kind_variable", {**message.params, "name": message.params["component"]}
                )
            return fail(message, Message("not_own_result", {"call": _later_call_text(call)}))
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


def in_time(calls: Sequence[Call], slower_way: Translated) -> Judge:
    """Judge: every call ended within its own ``seconds``. For inputs so large that the
    intended method answers in milliseconds and ``slower_way`` (how a student gets the
    answer without the mathematics, such as a gradient by finite differences) takes far
    longer than that limit. Only the time is judged here: the values are other checks'."""
    if any(call.seconds is None for call in calls):
        raise ValueError("in_time judges calls given a time limit: Call(..., seconds=...)")

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call in calls:
            if (student[call.key].error or "").startswith(f"{INTERRUPTED}: "):
                fields = {"call": call.function, "seconds": f"{call.seconds:g}",
                          "input": call.about or call_text(call), "slower_way": slower_way}  # fmt: skip
                return fail(Message("too_slow_for_its_size", fields))
        return PASSED

    return judge


def changes_where_reference_changes(
    pairs: Sequence[tuple[Call, Call]],
    component: str,
    *,
    rtol: float = RTOL,
    unit: float = UNIT,
    entries: Sequence[int] | None = None,
) -> Judge:
    """Judge: from the first call of each pair to the second, the student's answer keeps
    every entry the reference keeps, and changes if the reference's changes. ``entries``
    (of the flattened answer; None: all) are those the rule is about: an entry it does
    not govern, wrong by a mistake its own check counts, must not cost points here too.

    For a rule the contract fixes between neighbouring inputs (at a ReLU input of exactly
    0 the gradient is the one just below it, H(0) = 0, and it changes once the neuron is
    on): judged on how the student's own answers move, so a mistake other checks already
    count (a sign) costs nothing more here, an answer that never moves earns nothing, and
    a wrong variant of the rule is still recognised by what it moves.
    """

    def judge(student: Answers, reference: Answers) -> Verdict:
        for before, after in pairs:
            for call in (before, after):
                if not student[call.key].ok:
                    return raised(call, student[call.key])
                if not reference[call.key].ok:  # a wrong variant that fails here
                    return raised(call, reference[call.key])
            try:
                obtained = [
                    as_array(student[c.key].value, component, reference[c.key].value)
                    for c in (before, after)
                ]
            except Mismatch as mismatch:
                return fail(mismatch.message, on_input(after))
            expected = [np.asarray(reference[c.key].value, np.float64) for c in (before, after)]
            for got, wanted in zip(obtained, expected, strict=True):
                if got.shape != wanted.shape:
                    shapes = {"expected": str(wanted.shape), "obtained": str(got.shape)}
                    return fail(Message("wrong_shape", {"component": component, **shapes}))
            for call, got in zip((before, after), obtained, strict=True):
                if not np.all(np.isfinite(got)):  # NaN never equals itself: not a "change"
                    shown = {"component": component, "obtained": show(got)}
                    return fail(Message("not_finite", shown), on_input(call))
            scale = max(unit, *(float(np.max(np.abs(a), initial=0.0)) for a in expected))
            got, wanted = (
                [a.reshape(-1)[list(entries)] for a in answers] if entries is not None else answers
                for answers in (obtained, expected)
            )
            with np.errstate(invalid="ignore"):
                moved = ~(np.abs(got[1] - got[0]) <= rtol * scale)  # NaN: moved
                should_move = np.abs(wanted[1] - wanted[0]) > rtol * scale
            if np.any(moved & ~should_move):
                key = "no_change_expected"
            elif np.any(should_move) and not np.any(moved):
                key = "change_expected"
            else:
                continue
            fields = {
                "component": component,
                "before": show(obtained[0]),
                "after": show(obtained[1]),
                "other": before.about or _later_call_text(before),
            }
            return fail(Message(key, fields), on_input(after))
        return PASSED

    return judge


def same_decision(calls: Sequence[Call], component: str) -> Judge:
    """Judge for boolean answers: the student's truth value, as an ``if`` reads it (None
    is False, ``np.array([True])`` True), equals the reference's. A value no ``if`` can
    read (an array of several entries) is wrong."""

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call in calls:
            answer = student[call.key]
            if not answer.ok:
                return raised(call, answer)
            expected = bool(reference[call.key].value)
            obtained = answer.value
            try:
                decided = bool(obtained)
            except (TypeError, ValueError):
                decided = None
            if decided != expected:
                return fail(
                    Message(
                        "wrong_decision",
                        {
                            "component": _later_call_text(call),
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
    """One partial derivative: an entry of a gradient answer, and the keys of the
    losses at θ + h, θ − h and θ, computed with the student's own functions.

    ``alternative``, if given, is the same gradient computed from the reference's cache
    (TP1's ``backward`` takes a cache): equal to the reference there, the gradient is
    right whatever the student's forward pass puts in its own cache.
    """

    label: str
    gradient: Call
    gradient_path: tuple[int | str, ...]
    plus: str
    minus: str
    base: str
    """The key of the loss at θ itself, by the same functions, called before the probes."""
    alternative: Call | None = None
    generic: bool = False
    """θ has no structure (``generic``): a loss right there must be right around it."""


MIN_SLOPE_IN_ATOL = 100.0
"""A probe tells something only if its slope is this many ``FD_ATOL`` away from zero: a
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
    rtol: float = FD_RTOL,
    atol: float = FD_ATOL,
) -> Judge:
    """Judge of ``backward`` through its consistency: each gradient must equal the
    reference's, or each entry must equal (loss(θ + h) − loss(θ − h)) / 2h, where the
    losses come from the student's own functions, right or wrong.

    A gradient equal to the reference's passes whatever the student's forward pass or
    loss does (raises, NaN, no ½, no 1/n...). Any other gradient needs finite losses that
    vary: at least one probe must have a slope well above the tolerance and a difference
    well above rounding noise; a constant loss with a zero gradient, or NaN and inf
    everywhere, prove nothing and earn nothing. A failure names the function at fault:
    ``backward`` when the student's forward pass and loss are right, both when they are
    not, and float32 when the losses are too coarse for finite differences.
    """
    gradients = list({probe.gradient.key: probe for probe in probes}.values())

    def judge(student: Answers, reference: Answers) -> Verdict:
        unconfirmed: set[str] = set()
        for probe in gradients:
            if _confirmed(probe, student, reference):
                continue
            first_failure = _unusable_gradient(probe, student, reference)
            if first_failure:
                return first_failure
            unconfirmed.add(probe.gradient.key)
        informative = False
        for probe in (p for p in probes if p.gradient.key in unconfirmed):
            values = _probe_values(probe, student, reference, loss_path, functions)
            if isinstance(values, Verdict):
                return values
            losses, obtained, expected = values
            high, low, _ = losses[0]
            numeric = (high - low) / (2 * step)
            if compare(obtained, numeric, probe.label, rtol=rtol, unit=0.0, atol=atol):
                return _inconsistent(
                    probe,
                    student,
                    reference,
                    loss_path,
                    functions,
                    (high, low, numeric),
                    (obtained, expected),
                )
            if _made_up(probe, losses, step, (rtol, atol)):
                reason = Message("losses_not_a_function", {"functions": functions})
                return _gradient_failure(probe, "gradcheck_unverifiable", obtained, expected,
                                         functions, {"reason": reason})  # fmt: skip
            noise = NOISE_IN_EPS * np.finfo(np.float64).eps * max(abs(high), abs(low))
            informative |= abs(high - low) > noise and abs(numeric) >= MIN_SLOPE_IN_ATOL * atol
        if unconfirmed and not informative:
            return _flat_loss([p.gradient for p in gradients], unconfirmed, functions)
        return PASSED

    return judge


def _confirmed(probe: Probe, student: Answers, reference: Answers) -> bool:
    """The probe's gradient (or its twin computed from the reference's cache) equals the
    reference's, within the tolerance of its precision."""
    for call in (probe.gradient, probe.alternative):
        if call is None:
            continue
        answer = student[call.key]
        if answer.ok and agrees(answer.value, reference[call.key].value):
            return True
    return False


def _unusable_gradient(probe: Probe, student: Answers, reference: Answers) -> Verdict | None:
    """The verdict when the gradient to check against finite differences is not there:
    ``backward`` raised with the student's own cache. (Raising on the reference's cache
    only is no failure: a backward reading the keys of the student's own cache may be
    consistent with it.)"""
    answer = student[probe.gradient.key]
    if answer.ok:
        return None
    if probe.alternative is None or not student[probe.alternative.key].ok:
        return raised(probe.gradient, answer)
    # backward works on the reference's cache, but gives another gradient; with the
    # student's own cache it cannot run (their forward pass failed): say both.
    alternative = student[probe.alternative.key]
    message = compare(
        alternative.value, reference[probe.alternative.key].value, _gradient_name(probe)
    )
    return fail(
        *((message,) if message else ()),
        on_input(probe.alternative),
        Message("raised", {"call": _later_call_text(probe.gradient), "error": answer.error}),
    )


def _gradient_name(probe: Probe) -> str:
    return probe.label.split("[", 1)[0]


def _probe_values(
    probe: Probe, student: Answers, reference: Answers, loss_path: tuple, functions: str
) -> tuple[tuple[tuple[float, float, float], tuple[float, float, float]], float, float] | Verdict:
    """The losses of one probe (``_losses``), the student's gradient entry and the
    reference's, or the verdict that says why the losses cannot vouch for the gradient."""
    try:
        obtained, expected = pick(
            student[probe.gradient.key].value,
            reference[probe.gradient.key].value,
            probe.gradient_path,
            _gradient_name(probe),
        )
        obtained, expected = float(obtained), float(expected)
    except Mismatch as mismatch:
        return fail(mismatch.message, on_input(probe.gradient))
    except (TypeError, ValueError, OverflowError) as error:
        text = _later_call_text(probe.gradient)
        return fail(Message("raised", {"call": text, "error": str(error)}))
    if not np.isfinite(obtained):
        return fail(
            Message("not_finite", {"component": probe.label, "obtained": show(obtained)}),
            on_input(probe.gradient),
        )
    losses = _losses(probe, student, reference, loss_path, functions)
    if isinstance(losses, Message):
        return _gradient_failure(
            probe, "gradcheck_unverifiable", obtained, expected, functions, {"reason": losses}
        )
    if is_float32(losses[0][:2]):
        return _gradient_failure(probe, "gradcheck_float32", obtained, expected, functions)
    return losses, obtained, expected


def _losses(
    probe: Probe, student: Answers, reference: Answers, loss_path: tuple, functions: str
) -> tuple[tuple[float, float, float], tuple[float, float, float]] | Message:
    """The student's and the reference's finite losses at θ + h, θ − h and θ, or why the
    student's cannot be read."""
    theirs, ours = [], []
    for key in (probe.plus, probe.minus, probe.base):
        answer = student[key]
        if not answer.ok:
            return Message("raised", {"call": functions, "error": answer.error})
        try:
            value, expected = pick(answer.value, reference[key].value, loss_path, functions)
            theirs.append(float(value))
            ours.append(float(expected))
        except Mismatch as mismatch:
            return mismatch.message
        except (TypeError, ValueError, OverflowError) as error:
            return Message("raised", {"call": functions, "error": str(error)})
    if not np.all(np.isfinite(theirs)):
        return Message("not_finite", {"component": functions, "obtained": show(theirs)})
    return (theirs[0], theirs[1], theirs[2]), (ours[0], ours[1], ours[2])


def _made_up(
    probe: Probe,
    losses: tuple[tuple[float, float, float], tuple[float, float, float]],
    step: float,
    tolerance: tuple[float, float],
) -> bool:
    """Whether losses at θ + h, θ − h and θ cannot come from one function of the
    parameters. Any smooth function's mean of the first two is its value at θ, up to h²
    times its curvature. And at a ``generic`` θ, a loss right there (within what the loss
    checks accept) is right around it: a wrong formula equals the right one only where
    its error vanishes, at a zero weight or two weights of one size. Losses made up for
    the probes, bent to agree with any gradient, fail one or the other."""
    (high, low, base), (right_high, right_low, right_base) = losses
    off_centre = abs((high + low) / 2 - base) > SELF_CONSISTENCY * max(abs(base), UNIT)
    slope, right_slope = (high - low) / (2 * step), (right_high - right_low) / (2 * step)
    right_here = probe.generic and _relative_gap(base, right_base) <= RTOL_LOG_GUARD
    rtol, atol = tolerance
    return off_centre or (right_here and abs(slope - right_slope) > atol + rtol * abs(right_slope))


def generic(*arrays: np.ndarray) -> bool:
    """Whether parameters have no entry 0 and no two entries of one size: drawn at
    random, no student's wrong formula can then be right at them by chance."""
    sizes = np.abs(np.concatenate([np.ravel(a) for a in arrays]).astype(float))
    return bool(np.all(sizes > 0) and len(np.unique(sizes)) == len(sizes))


SELF_CONSISTENCY = 1e-8
"""Relative gap allowed between a loss at θ and the mean of its values at θ ± h: h²
times the loss's curvature, and rounding, stay orders of magnitude below it for h = 1e-6."""


def _gradient_failure(
    probe: Probe,
    key: str,
    obtained: float,
    expected: float,
    functions: str,
    extra: dict | None = None,
) -> Verdict:
    shown_expected, shown_obtained = distinct_texts(expected, obtained)
    params = {
        "component": probe.label,
        "functions": functions,
        "expected": shown_expected,
        "obtained": shown_obtained,
        **(extra or {}),
    }
    return fail(Message(key, params), on_input(probe.gradient))


def _inconsistent(
    probe: Probe,
    student: Answers,
    reference: Answers,
    loss_path: tuple,
    functions: str,
    losses: tuple[float, float, float],
    entries: tuple[float, float],
) -> Verdict:
    """A gradient entry that matches neither the reference nor the finite differences of
    the student's own losses: ``backward`` is wrong. The message says whether the
    student's forward pass and loss are right (then the mistake is in backward alone)."""
    high, low, numeric = losses
    obtained, expected = entries
    gap = max(
        _relative_gap(
            value, float(pick(reference[key].value, reference[key].value, loss_path, "")[0])
        )
        for key, value in ((probe.plus, high), (probe.minus, low))
    )
    if gap > EXACT_LOSS and gap <= RTOL_FLOAT32:
        return _gradient_failure(probe, "gradcheck_float32", obtained, expected, functions)
    if gap <= EXACT_LOSS:
        shown_numeric, shown_obtained = distinct_texts(numeric, obtained)
        message = Message(
            "gradcheck_backward",
            {
                "component": probe.label,
                "functions": functions,
                "expected": shown_numeric,
                "obtained": shown_obtained,
            },
        )
    else:
        shown_expected, shown_obtained = distinct_texts(expected, obtained)
        message = Message(
            "gradcheck_neither",
            {
                "component": probe.label,
                "functions": functions,
                "expected": shown_expected,
                "obtained": shown_obtained,
                "numeric": show(numeric),
            },
        )
    return fail(message, on_input(probe.gradient))


EXACT_LOSS = 1e-10
"""Relative gap below which the student's losses are the reference's up to float64
rounding: their finite differences are then exact enough to blame ``backward`` alone."""


def _relative_gap(obtained: float, expected: float) -> float:
    return abs(obtained - expected) / max(abs(expected), UNIT)


def _flat_loss(gradients: Sequence[Call], unconfirmed: set[str], functions: str) -> Verdict:
    """A loss that does not move cannot vouch for a gradient that differs from the
    reference's: the student is told so, on the first such input."""
    call = next(c for c in gradients if c.key in unconfirmed)
    return fail(
        Message("gradcheck_flat", {"functions": functions}),
        on_input(call),
    )
