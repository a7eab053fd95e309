"""What a submission is asked to compute, and the plain-data form of its answers.

A *plan* is a list of calls of the student's functions with fixed inputs. The same
plan runs on the reference solutions (in the grader) and on a submission (inside the
sandbox, or in otter's kernel); only the plain-data answers are compared.

Plain data is JSON: numbers, strings, lists, and three tagged objects for arrays (their
float64 bytes in base64), tuples and dicts. It cannot carry code, so decoding a student's answers runs nothing
of theirs. This module needs only the standard library and NumPy: it is loaded inside
the sandbox too.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import json
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any

import numpy as np

from .protocol import encodable

MAX_ARRAY_ELEMENTS = 1_000_000
"""Larger arrays in an answer are refused: no contract function returns that much."""
ARRAY_DTYPE = np.dtype("<f8")
"""Arrays travel as the base64 of their little-endian float64 bytes: exact, and far
cheaper to write and read than a JSON list of numbers (the 6,000 numbers of an
mlp_softmax submission's answers took 8 ms each way as lists)."""
MAX_DEPTH = 32
"""Deeper plain data is refused: contract answers nest a few levels at most."""


@dataclass(frozen=True)
class Ref:
    """An argument taken from an earlier call's answer: ``answers[key][index]...``."""

    key: str
    path: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class Rng:
    """An argument that is a fresh ``numpy.random.default_rng(seed)``."""

    seed: int


@dataclass(frozen=True)
class Shifted:
    """An argument that is ``base`` (a dict of arrays) with one entry moved by ``step``:
    ``base[name][index] += step``, built in the sandbox, so that a finite-difference probe
    of a large network sends the network once, not once per probe."""

    base: Mapping[str, Any]
    name: str
    index: tuple[int, ...]
    step: float


@dataclass(frozen=True)
class Call:
    """One call ``function(*args, **kwargs)`` of a student function.

    ``standins`` names functions of the namespace that are replaced, for this call only,
    by the known stand-ins of ``execution.standins``: a training loop is then graded on
    its own, whatever the student's forward or backward pass computes.
    """

    key: str
    function: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    standins: Mapping[str, str] = field(default_factory=dict)
    about: Any = field(default=None, compare=False)
    """The inputs in words, for feedback (``checks.about``); never sent to the sandbox."""
    variable: bool = False
    """Read the notebook's variable named ``function`` instead of calling it (a question
    whose answer is a value, computed with the student's functions)."""
    seconds: float | None = None
    """At most this long, whatever time the plan has left: a call on an input so large that
    only the intended method of computing its answer ends in time (``checks.in_time``)."""
    sample: tuple[int, ...] = ()
    """If given, only these entries of each array the call returns are judged (flat
    positions, modulo the array's size): a call on an input so large that its whole answer
    would cost more to judge than the call itself. Never sent to the sandbox: a notebook
    that knew them could compute its answer there alone (by finite differences, in time).
    The sandbox sends the whole answer back; ``sampled_answers`` keeps the sample, of the
    student's answers as of the reference's."""
    watched: bool = True
    """Whether the arguments the call modifies in place are recorded (``modified_arguments``):
    each is copied before the call and compared after it. Off for a call on large inputs
    whose in-place changes no judge reads."""


@dataclass(frozen=True)
class Answer:
    """What one call gave: a plain-data value, or the error it raised."""

    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# --- plain data ---------------------------------------------------------------------


class UnreadableAnswer(ValueError):
    """An answer that plain data cannot hold (too large a number or array): the call
    returned, but its value cannot reach the grader."""


UNREADABLE = "UnreadableAnswer"
"""How the error of such an answer starts: feedback says the value, not the call, failed."""


def to_plain(value: Any) -> Any:
    """Convert an answer to plain data, reading numbers through ``float()``.

    A float subclass with a lying ``__eq__`` becomes its true value here, and lists
    of numbers become arrays (the contract accepts a list where an array is asked).
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(
        value, Unsupported
    ):  # converted already (``_answer``): its type stays the student's
        return {"__unsupported__": value.type_name}
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer) and -(2**63) < value < 2**63:
        return int(value)  # sizes and counts stay integers (batch_size, n_updates...)
    if isinstance(value, int | float | np.integer | np.floating):
        try:
            return float(value)
        except OverflowError:
            raise UnreadableAnswer("un entier trop grand pour un float64") from None
    if isinstance(value, dict):
        return {"__dict__": {str(k): to_plain(v) for k, v in value.items()}}
    if isinstance(value, tuple):
        return {"__tuple__": [to_plain(v) for v in value]}
    if isinstance(value, list | np.ndarray):
        try:
            array = np.array(value, dtype=ARRAY_DTYPE)
        except (TypeError, ValueError):
            return [to_plain(v) for v in value]
        if array.size > MAX_ARRAY_ELEMENTS:
            raise UnreadableAnswer(
                f"un tableau de {array.size} valeurs (le correcteur en lit {MAX_ARRAY_ELEMENTS} au plus)"
            )
        data = base64.b64encode(array.tobytes()).decode("ascii")
        return {"__array__": {"shape": list(array.shape), "float64": data}}
    return {"__unsupported__": type(value).__name__}


def from_plain(data: Any, depth: int = 0) -> Any:
    """Rebuild arrays, tuples and dicts from plain data; anything malformed raises ValueError.

    No contract answer nests deeper than a few levels: deeper data is refused before it
    can exhaust the grader's stack. ``data`` comes from ``json.loads``, whose types are
    exact: dispatching on them keeps a reply of a few hundred arrays under a millisecond.
    """
    kind = type(data)
    if kind is str:
        return encodable(data)
    if kind is int and not -(2**63) < data < 2**63:  # never sent by ``to_plain``
        raise ValueError("an integer beyond 64 bits")
    if kind in _JSON_SCALARS:
        return data
    if depth > MAX_DEPTH:
        raise ValueError(f"plain data nested deeper than {MAX_DEPTH} levels")
    if kind is list:
        return [from_plain(v, depth + 1) for v in data]
    if kind is dict and len(data) == 1:
        ((tag, content),) = data.items()
        if tag == "__array__":
            return _array_from_plain(content)
        if tag == "__tuple__" and type(content) is list:
            return tuple([from_plain(v, depth + 1) for v in content])
        if tag == "__dict__" and type(content) is dict:
            return {encodable(k): from_plain(v, depth + 1) for k, v in content.items()}
        if tag == "__unsupported__":
            return Unsupported(encodable(str(content)))
    raise ValueError("malformed plain data")


_JSON_SCALARS = frozenset({type(None), bool, float, int, str})


def _array_from_plain(content: Any) -> np.ndarray:
    if type(content) is not dict or len(content) != 2:
        raise ValueError("malformed array")
    shape, data = content.get("shape"), content.get("float64")
    if type(shape) is not list or type(data) is not str:
        raise ValueError("malformed array")
    size = 1
    for length in shape:
        if type(length) is not int or not 0 <= length <= MAX_ARRAY_ELEMENTS:
            raise ValueError("malformed array shape")
        size *= length
    if size > MAX_ARRAY_ELEMENTS:
        raise ValueError("array size does not match its shape")
    if len(data) > 12 * size + 4:
        raise ValueError("array size does not match its shape")
    try:
        raw = binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error:
        raise ValueError("array data is not base64") from None
    if len(raw) != size * ARRAY_DTYPE.itemsize:
        raise ValueError("array size does not match its shape")
    array = np.frombuffer(bytearray(raw), dtype=ARRAY_DTYPE)  # writable, as a student's
    return array.astype(np.float64, copy=False).reshape(shape)


@dataclass(frozen=True)
class Unsupported:
    """Stands for an answer of a type plain data cannot hold (a function, an object...)."""

    type_name: str


def encode_args(value: Any) -> Any:
    """Plain data for plan arguments, keeping ``Ref``, ``Rng`` and ``Shifted`` markers."""
    if isinstance(value, Shifted):
        return {"__shifted__": {"base": encode_args(dict(value.base)), "name": value.name,
                                "index": list(value.index), "step": value.step}}  # fmt: skip
    if isinstance(value, Ref):
        return {"__ref__": {"key": value.key, "path": list(value.path)}}
    if isinstance(value, Rng):
        return {"__rng__": value.seed}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_args(v) for v in value]}
    if isinstance(value, list):  # the contract passes some inputs as Python lists (losses)
        return {"__list__": [encode_args(v) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": {k: encode_args(v) for k, v in value.items()}}
    return to_plain(value)


def decode_args(data: Any) -> Any:
    """Inverse of ``encode_args``."""
    if isinstance(data, dict) and len(data) == 1:
        ((tag, content),) = data.items()
        if tag == "__ref__":
            return Ref(content["key"], tuple(content["path"]))
        if tag == "__rng__":
            return Rng(int(content))
        if tag == "__shifted__":
            base = decode_args(content["base"])
            return Shifted(base, content["name"], tuple(content["index"]), content["step"])
        if tag == "__tuple__":
            return tuple(decode_args(v) for v in content)
        if tag == "__list__":
            return [decode_args(v) for v in content]
        if tag == "__dict__":
            return {k: decode_args(v) for k, v in content.items()}
    return from_plain(data)


def with_dependencies(calls: list[Call], others: list[Call]) -> list[Call]:
    """``calls`` preceded by the calls among ``others`` whose answers they take as inputs
    (``Ref`` arguments), so that ``calls`` can run on their own."""
    keys = {key for call in calls for key in _references((call.args, dict(call.kwargs)))}
    return [call for call in others if call.key in keys] + calls


def _references(value: Any) -> set[str]:
    if isinstance(value, Ref):
        return {value.key}
    if isinstance(value, tuple | list):
        return set().union(*map(_references, value)) if value else set()
    if isinstance(value, dict):
        return _references(tuple(value.values()))
    return set()


def plan_to_json(plan: list[Call]) -> list[dict[str, Any]]:
    return [
        {
            "key": c.key,
            "function": c.function,
            "args": encode_args(tuple(c.args)),
            "kwargs": encode_args(dict(c.kwargs)),
            "standins": dict(c.standins),
            "variable": c.variable,
            "seconds": c.seconds,
            "watched": c.watched,
        }
        for c in plan
    ]


def plan_from_json(data: list[dict[str, Any]]) -> list[Call]:
    return [
        Call(
            key=d["key"],
            function=d["function"],
            args=decode_args(d["args"]),
            kwargs=decode_args(d["kwargs"]),
            standins=d["standins"],
            variable=bool(d.get("variable", False)),
            seconds=d.get("seconds"),
            watched=bool(d.get("watched", True)),
        )
        for d in data
    ]


def answers_to_json(answers: Mapping[str, Answer]) -> str:
    return json.dumps(
        {k: {"value": to_plain(a.value), "error": a.error} for k, a in answers.items()}
    )


def answers_from_json(text: str | bytes) -> dict[str, Answer]:
    """Parse answers sent back by a submission; any malformed content raises ValueError."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("answers nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("answers are not a JSON object")
    answers = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"value", "error"}:
            raise ValueError(f"malformed answer for {key!r}")
        error = entry["error"]
        if error is not None and not isinstance(error, str):
            raise ValueError(f"malformed error for {key!r}")
        if error is not None:
            error = encodable(error if len(error) <= 2000 else error[:2000] + "…")
        try:
            answers[str(key)] = Answer(from_plain(entry["value"]), error)
        except ValueError as malformed:  # this answer only: the others are still judged
            answers[str(key)] = Answer(error=f"ValueError: {malformed}")
    return answers


# --- running a plan ------------------------------------------------------------------


INTERRUPTED = "TimeoutError"
"""How an answer's error names an ``Interrupted`` call."""


class Interrupted(BaseException):
    """A cell or a call stopped by the runner's time budget, as a student interrupts a
    kernel: the rest of the notebook is still run and graded. A ``BaseException``, so
    that an ``except Exception`` in a training loop does not swallow it."""

    def __init__(self, seconds: float, *, last: bool = False, starved: bool = False):
        super().__init__(seconds)
        self.seconds = seconds
        self.last = last  # no step came after it: the notebook's time is up
        self.starved = starved  # the steps before it had left it less than a second

    def __str__(self) -> str:
        if self.starved:
            return (
                "pas lancé jusqu'au bout : les étapes précédentes (cellules ou tests) ont pris "
                "presque tout le temps du notebook"
            )
        seconds = f"{self.seconds:.0f}"
        if self.last:
            return f"arrêté après {seconds} s : la limite de temps du notebook est atteinte"
        return f"arrêté après {seconds} s, pour laisser du temps à la suite du notebook"


def run_plan(
    plan: list[Call],
    namespace: MutableMapping[str, Any],
    standins: Mapping[str, Callable[..., Any]],
    step: Callable[[float | None], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
    starting: Callable[[int], object] | None = None,
) -> dict[str, Answer]:
    """Call each planned function found in ``namespace``; an error is an answer too.

    Values are converted to plain data as soon as they are returned, so a later call
    cannot change an earlier answer by mutating what it returned. Each call, the
    conversion of what it returned and the text of what it raised run inside ``step()``
    (the sandbox's time budget, given the call's own ``seconds``: a call, a ``__float__``
    or an exception's ``__str__`` that hangs is ``Interrupted``, and the following calls
    still run). Whatever the notebook
    raises, ``KeyboardInterrupt`` and ``SystemExit`` included, is that call's answer.
    ``starting`` is told each call's position before it runs: what ends the process
    itself (a crash, ``os._exit``) is then known to have happened in that call.
    """
    answers: dict[str, Answer] = {}
    for position, call in enumerate(plan):
        if starting is not None:
            starting(position)
        function = _reading(call, namespace) if call.variable else namespace.get(call.function)
        if not callable(function):
            answers[call.key] = Answer(error=_not_callable(call.function, namespace))
            continue
        try:
            args = [_resolve(a, answers) for a in call.args]
            kwargs = {k: _resolve(v, answers) for k, v in call.kwargs.items()}
            before = _copy((args, kwargs)) if call.watched else None
            with step(call.seconds):
                try:
                    replaced = {n: standins[s] for n, s in call.standins.items()}
                    with _standins_in(namespace, replaced):
                        value = function(*args, **kwargs)
                        answer = _answer(_sampled(value, call.sample) if call.sample else value)
                except BaseException as exc:
                    answer = Answer(error=describe_exception(exc))
            answers[call.key] = answer
            changed = () if before is None else _modified(before, (args, kwargs))
            if changed:
                answers[call.key + MODIFIED] = Answer(changed)
        except BaseException as exc:  # the step ran out while the error was being told
            answers[call.key] = Answer(error=describe_exception(exc))
    return answers


def _answer(value: Any) -> Answer:
    """What a call returned, as plain data: converted as soon as it is returned, so that a
    later call cannot change it by mutating what it returned."""
    try:
        return Answer(from_plain(to_plain(value)))
    except UnreadableAnswer as unreadable:
        return Answer(error=f"{UNREADABLE}: {unreadable}")
    except (ValueError, RecursionError):  # nested deeper than plain data may be
        return Answer(error=f"{UNREADABLE}: des données imbriquées sur plus de {MAX_DEPTH} niveaux")


def sampled_answers(
    answers: Mapping[str, Answer], samples: Mapping[str, tuple[int, ...]]
) -> dict[str, Answer]:
    """``answers`` with the answer to each call of ``samples`` (its key → ``Call.sample``)
    cut down to the entries its judges read: how the grader reads a sandbox's answers."""
    return {
        key: Answer(_sampled(answer.value, samples[key]))
        if key in samples and answer.ok
        else answer
        for key, answer in answers.items()
    }


def sample_positions(sample: tuple[int, ...], size: int) -> np.ndarray:
    """The flat positions ``Call.sample`` keeps of an array of ``size`` entries: taken
    modulo the size, once each, in increasing order."""
    return np.unique(np.asarray(sample, dtype=np.int64) % size)


def _sampled(value: Any, positions: tuple[int, ...]) -> Any:
    """The entries at ``positions`` (flat, modulo the size) of each array in ``value``;
    what is not an array, a dict or a sequence of them stays as it is."""
    if isinstance(value, dict):
        return {k: _sampled(v, positions) for k, v in value.items()}
    if isinstance(value, np.ndarray | list):  # read as ``to_plain`` reads it
        try:
            flat = np.asarray(value, dtype=ARRAY_DTYPE).ravel()
        except (TypeError, ValueError):
            pass
        else:
            return flat[sample_positions(positions, flat.size)] if flat.size else flat
    if isinstance(value, tuple | list):
        return type(value)(_sampled(v, positions) for v in value)
    return value


def _reading(call: Call, namespace: Mapping[str, Any]) -> Callable[[], Any] | None:
    """A read of the notebook's variable as a call without arguments, answered as any
    call is (None when the notebook has no such name: a ``NameError`` answer)."""
    if call.function not in namespace:
        return None
    value = namespace[call.function]
    return lambda: value


MAX_HELPER_CONTAINER = 256
"""A notebook's dict or list longer than this is data, not a registry of helpers: stand-ins
are not looked for in it (that would cost time on every training call)."""

MODIFIED = "#modified"
"""Suffix of the extra answer that lists the arguments a call modified in place (their
positions, or names for keyword arguments); absent when it modified none."""


def modified_arguments(answers: Mapping[str, Answer], key: str) -> tuple[int | str, ...]:
    """The arguments the call ``key`` modified in place, as ``run_plan`` recorded them."""
    record = answers.get(key + MODIFIED)
    if record is None or not record.ok or not isinstance(record.value, tuple):
        return ()
    return tuple(v for v in record.value if isinstance(v, int | str) and not isinstance(v, bool))


def _modified(before: tuple[list, dict], after: tuple[list, dict]) -> tuple[int | str, ...]:
    """Which arguments differ from their copies taken before the call."""
    (args_before, kwargs_before), (args_after, kwargs_after) = before, after
    changed: list[int | str] = [
        i for i, (a, b) in enumerate(zip(args_before, args_after, strict=True)) if not _same(a, b)
    ]
    changed += [k for k in kwargs_before if not _same(kwargs_before[k], kwargs_after[k])]
    return tuple(changed)


def _same(before: Any, after: Any) -> bool:
    """Whether an argument still holds what it held (generators and other objects: yes)."""
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and before.dtype == after.dtype
            and bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
        )
    if isinstance(before, dict):
        return (
            isinstance(after, dict)
            and before.keys() == after.keys()
            and all(_same(before[k], after[k]) for k in before)
        )
    if isinstance(before, list | tuple):
        if type(after) is not type(before) or len(before) != len(after):
            return False
        if _scalars_only(before) and _scalars_only(after) and before == after:
            return True  # compared in C: a list of thousands of losses costs nothing
        return all(_same(a, b) for a, b in zip(before, after, strict=True))
    if isinstance(before, float) and isinstance(after, float):
        return before == after or (before != before and after != after)
    return True


CELL_FILE = "<cellule {}>"
"""The file name a cell's code is compiled under: the student's cell number, from 1."""


def describe_exception(exc: BaseException, cell: int | None = None) -> str:
    """``Type: message`` and the line of the notebook's own code where it was raised: the
    innermost frame in a cell, as the student looks for it (not NumPy's line inside
    ``np.dot``, nor Python's behind ``exit()``), with its cell unless it is ``cell`` (the
    one being run: a function defined in cell 2 fails on its line 3 when cell 5 calls it)
    and its function's name, which finds it whatever the cells are numbered by."""
    prefix = CELL_FILE.split("{")[0]
    cells = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename.startswith(prefix)
    ]
    location = ""
    if isinstance(exc, Interrupted) and any(f.name != "<module>" for f in cells):
        location = f" ({_call_chain(cells, len(prefix))})"
    elif cells:
        number = cells[-1].filename[len(prefix) : -1]
        where = "" if number == str(cell) else f"cellule {number}, "
        inside = "" if cells[-1].name == "<module>" else f" dans {cells[-1].name}"
        location = f" ({where}ligne {cells[-1].lineno}{inside})"
    message = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        message = FILE_LIMIT  # the plain "File too large" says nothing of a limit
    if len(message) > 300:
        message = message[:300] + "…"
    name = INTERRUPTED if isinstance(exc, Interrupted) else type(exc).__name__
    return f"{name}: {message}{location}"


INTERRUPTED_FRAMES = 3


def _call_chain(frames: list[traceback.FrameSummary], prefix: int) -> str:
    """Where an interrupted run was, from the outermost function of the notebook to the
    innermost (the last ``INTERRUPTED_FRAMES``, a recursion counted once): the loop that
    never ends is rarely in the helper it was running at that instant."""
    kept: list[traceback.FrameSummary] = []
    for frame in frames:
        if kept and (kept[-1].filename, kept[-1].name) == (frame.filename, frame.name):
            kept[-1] = frame
        else:
            kept.append(frame)
    return " → ".join(
        f"cellule {f.filename[prefix:-1]}, ligne {f.lineno}"
        + ("" if f.name == "<module>" else f" dans {f.name}")
        for f in kept[-INTERRUPTED_FRAMES:]
    )


FILE_LIMIT = (
    "limite de taille atteinte (elle vaut pour chaque fichier écrit et pour tout ce que le "
    "notebook affiche) : affichez ou écrivez moins"
)


def _not_callable(name: str, namespace: Mapping[str, Any]) -> str:
    """Why a planned function cannot be called: never defined, or its name rebound to a
    value (``loss = loss(y_hat, y)`` in a later cell)."""
    if name not in namespace:
        return f"NameError: {name} is not defined"
    kind = type(namespace[name]).__name__
    return (
        f"TypeError: {name} {NOT_A_FUNCTION}, but a value of type {kind} (a later cell "
        "gives this name to something else)"
    )


NOT_A_FUNCTION = "is not a function at the end of the notebook"


def unavailable(error: str | None) -> bool:
    """Whether a call's error says its function is missing: never defined, or rebound."""
    return bool(error) and (error.startswith("NameError") or NOT_A_FUNCTION in error)


def _resolve(arg: Any, answers: Mapping[str, Answer]) -> Any:
    """Fresh copies of the inputs for each call, so a call that mutates them harms no other."""
    if isinstance(arg, Rng):
        return np.random.default_rng(arg.seed)
    if isinstance(arg, Ref):
        answer = answers.get(arg.key)
        if answer is None or not answer.ok:
            raise RuntimeError(f"l'appel {arg.key} a échoué, ce calcul en dépend")
        value = answer.value
        for step in arg.path:
            value = value[step]
        return _copy(value)
    if isinstance(arg, Shifted):
        shifted = _copy(dict(arg.base))
        shifted[arg.name][arg.index] += arg.step
        return shifted
    return _copy(arg)


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        if _scalars_only(value):  # immutable items: a shallow copy is a full one
            return type(value)(value)
        return type(value)(_copy(v) for v in value)
    return value


_SCALAR_TYPES = frozenset({float, int, bool, str, type(None)})


def _scalars_only(items: list | tuple) -> bool:
    """Whether every item is an immutable plain scalar (checked in C, not item by item)."""
    return set(map(type, items)) <= _SCALAR_TYPES


@contextmanager
def _standins_in(
    namespace: MutableMapping[str, Any], replacements: Mapping[str, Callable[..., Any]]
) -> Iterator[None]:
    """Replace the named functions during one call, wherever the notebook holds them: under
    their names, under other global names (``grad = backward``), as default arguments
    (``def train(..., backward=backward)``) and in closures of the notebook's functions."""
    missing = object()
    originals = {name: namespace.get(name, missing) for name in replacements}
    swap = {id(f): replacements[n] for n, f in originals.items() if f is not missing}
    saved_names = dict(originals)
    for name, value in list(namespace.items()):
        if name not in replacements and id(value) in swap and callable(value):
            saved_names[name] = value
    saved_functions = []
    if swap:
        for value in list(namespace.values()):
            if isinstance(value, FunctionType) and id(value) not in swap:
                saved_functions.append(_swap_in_function(value, swap))
            elif type(value) in (dict, list) and len(value) <= MAX_HELPER_CONTAINER:
                saved_functions.append(_swap_in_container(value, swap))  # {"grad": backward}
    for name, value in saved_names.items():
        if name in replacements:
            namespace[name] = replacements[name]
        else:
            namespace[name] = swap[id(value)]
    try:
        yield
    finally:
        for name, value in saved_names.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value
        for restore in saved_functions:
            restore()


def _swap_in_container(container: dict | list, swap: Mapping[int, Any]) -> Callable[[], None]:
    """Put the replacements into a notebook's dict or list of functions; returns the undo."""
    keys = container.keys() if isinstance(container, dict) else range(len(container))
    saved = [(key, container[key]) for key in list(keys) if id(container[key]) in swap]
    for key, value in saved:
        container[key] = swap[id(value)]

    def restore() -> None:
        for key, value in saved:
            container[key] = value

    return restore


def _swap_in_function(function: FunctionType, swap: Mapping[int, Any]) -> Callable[[], None]:
    """Put the replacements into ``function``'s defaults and closure; returns the undo."""
    defaults, kwdefaults = function.__defaults__, function.__kwdefaults__
    if defaults:
        function.__defaults__ = tuple(swap.get(id(d), d) for d in defaults)
    if kwdefaults:
        function.__kwdefaults__ = {k: swap.get(id(v), v) for k, v in kwdefaults.items()}
    cells = []
    for cell in function.__closure__ or ():
        try:
            content = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if id(content) in swap:
            cells.append((cell, content))
            cell.cell_contents = swap[id(content)]

    def restore() -> None:
        function.__defaults__, function.__kwdefaults__ = defaults, kwdefaults
        for cell, content in cells:
            cell.cell_contents = content

    return restore
