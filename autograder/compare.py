"""Where a student's answers are compared with the reference's, and with what tolerance.

Both sides arrive as plain data decoded by ``execution.plan``: floats, arrays, tuples,
dicts, or ``Unsupported``. Nothing here runs student code. A comparison returns
``None`` when the answer is right, else the ``Message`` that says what is wrong.

Tolerances, and why (every tolerance of the grader is here)
------------------------------------------------------------
A number or an array agrees with the reference when every entry satisfies

    |obtained − expected| ≤ rtol · scale,   scale = max(max |expected| over the component, UNIT)

- The *component* is one quantity of the contract: a gradient, the ``W`` that ``train``
  returns, a loss history, a SoftMax output. Its entries share one scale, so an entry
  the reference makes 0 (a gradient through an inactive ReLU, a loss at the optimum) is
  judged against the size of the quantity, not against 0, where rounding errors of a
  correct computation would look infinitely large.
- ``UNIT = 1``: every input of the three exercises is of order 1 (data, weights,
  probabilities, logits up to 2000), so rounding errors of a correct computation are
  of the order of rtol · 1 even when the result itself is tiny. No mistake of the
  catalogue changes a quantity by less than a percent of its scale.
- ``rtol`` follows the precision the student computed in:
  * float64, the contract's: ``RTOL = 1e-6``. Different but correct orders of
    operations agree to about 1e-12; legitimate guards move results far less than
    1e-6 (a probability floor of 1e-300, a ``+ 1e-12`` in a denominator).
  * float32: ``RTOL_FLOAT32 = 1e-4``, about 800 float32 epsilons (1.2e-7). A float32
    version of the reference deviates by at most 2e-7 on every check (training loops
    included), except SoftMax of logits of 1000 to 2000: the logits themselves are then
    only known to about 1e-4 in float32, and the probabilities to about 6e-5.
    An answer counts as float32 work when each of its numbers is exactly a float32
    number, and one at least needs more than 12 bits of mantissa (a float64 result lands
    on a float32 number by chance with probability 2⁻²⁹ per entry; round numbers such
    as 0.5 say nothing). Float32 work does not lose points; when it is wrong beyond the
    float32 tolerance, the message says so (``wrong_value_float32``), and a float64
    answer off by less than the float32 tolerance is named a precision problem
    (``wrong_value_precision``), not a mistake of the exercise.
  * quantities that go through ``log(p)``: ``RTOL_LOG_GUARD = 1e-4``. Students guard the
    log against p = 0 with a clip, a floor or an ε (Keras clips to [1e-7, 1 − 1e-7]):
    each changes −log p by at most ε/p, 1e-7/p ≤ 1e-5 for the label probabilities of
    the inputs (≥ 0.01), well within 1e-4 of a loss of order 1.
- Gradients checked against finite differences of the student's own functions:
  ``FD_RTOL = 1e-4`` relative to the derivative, plus ``FD_ATOL = 1e-6``. With a step
  of 1e-6 on float64 losses, the truncation error (h² · ℓ'''/6 ≈ 1e-13) and the rounding
  error (ε · |ℓ| / h ≈ 2e-10 · |ℓ|) are far below both. On float32 losses, rounding
  alone is ε₃₂ · |ℓ| / h ≈ 0.1 · |ℓ|: finite differences mean nothing there, and the
  gradient check says so (``gradcheck_float32``) rather than blaming the gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .execution.plan import Unsupported
from .messages import Message, show

RTOL = 1e-6
"""Relative tolerance of float64 work, relative to the component's scale."""
RTOL_FLOAT32 = 1e-4
"""Relative tolerance of float32 work (about 800 float32 epsilons)."""
RTOL_LOG_GUARD = 1e-4
"""Relative tolerance of quantities computed through log(p), which students may guard."""
UNIT = 1.0
"""Smallest scale of a quantity: the order of magnitude of every input."""
FD_RTOL = 1e-4
"""Finite differences of float64 losses against a gradient entry: relative part."""
FD_ATOL = 1e-6
"""Finite differences of float64 losses against a gradient entry: absolute part."""
ROUND_MANTISSA_BITS = 12
"""A number needing no more mantissa bits than this is "round": it reveals no precision."""

# Kept for callers of the former API: an absolute tolerance is now ``rtol · UNIT``.
ATOL = RTOL * UNIT


class Mismatch(Exception):
    """Raised while walking into an answer whose structure differs from the reference."""

    def __init__(self, message: Message):
        super().__init__(message.key)
        self.message = message


def kind(value: Any) -> Message:
    """What a value is, in the student's words ("un tuple de 2 éléments", "un nombre")."""
    if value is None:
        return Message("nothing")
    if isinstance(value, bool):
        return Message("a_bool")
    if isinstance(value, float):
        return Message("a_number")
    if isinstance(value, tuple):
        return Message("a_tuple", {"n": len(value)})
    if isinstance(value, dict):
        return Message("a_dict", {"keys": ", ".join(sorted(value))})
    if isinstance(value, np.ndarray):
        return Message("an_array")
    name = value.type_name if isinstance(value, Unsupported) else type(value).__name__
    if name == "ellipsis":  # the template's blank, `...`, left as it is
        return Message("a_blank")
    if name in ("function", "builtin_function_or_method", "method"):
        return Message("a_function")
    return Message("an_object", {"type": name})


def pick(
    obtained: Any, expected: Any, path: Sequence[int | str], component: str
) -> tuple[Any, Any]:
    """Walk ``path`` into both answers, checking at each level that the student's has the
    reference's structure (a tuple of the same length, a dict with the key, an array of
    the same shape)."""
    for step in path:
        if isinstance(expected, tuple):
            if isinstance(obtained, np.ndarray) and obtained.ndim == 1:
                obtained = tuple(float(v) for v in obtained)
            if not isinstance(obtained, tuple | list) or len(obtained) != len(expected):
                raise Mismatch(_wrong_kind(component, obtained, expected))
        elif isinstance(expected, dict):
            if not isinstance(obtained, dict) or step not in obtained:
                raise Mismatch(_wrong_kind(component, obtained, expected))
        elif isinstance(expected, np.ndarray):
            obtained = as_array(obtained, component, expected)
            if obtained.shape != expected.shape:
                raise Mismatch(_wrong_shape(component, obtained, expected))
        obtained, expected = obtained[step], expected[step]
    return obtained, expected


# --- precision ---------------------------------------------------------------------------


def numbers_of(value: Any) -> np.ndarray:
    """Every number of an answer (nested tuples, lists, dicts, arrays), flattened."""
    found: list[np.ndarray] = []

    def walk(item: Any) -> None:
        if isinstance(item, bool):
            return
        if isinstance(item, int | float):
            found.append(np.array([item], dtype=np.float64))
        elif isinstance(item, np.ndarray) and item.dtype.kind in "fiu":
            found.append(item.astype(np.float64).ravel())
        elif isinstance(item, dict):
            for inner in item.values():
                walk(inner)
        elif isinstance(item, tuple | list):
            for inner in item:
                walk(inner)

    walk(value)
    return np.concatenate(found) if found else np.zeros(0)


def is_float32(value: Any) -> bool:
    """Whether an answer is float32 work: every finite number is exactly a float32 number,
    and one at least is not round (see the module's notes)."""
    numbers = numbers_of(value)
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0:
        return False
    with np.errstate(over="ignore"):
        narrowed = numbers.astype(np.float32).astype(np.float64)
    if not np.array_equal(narrowed, numbers):
        return False
    mantissa, _ = np.frexp(numbers)
    scaled = mantissa * 2.0**ROUND_MANTISSA_BITS
    return bool(np.any(scaled != np.round(scaled)))


def tolerance_for(obtained: Any, rtol: float = RTOL) -> float:
    """The relative tolerance an answer is judged with: ``rtol``, or the float32 one for
    float32 work if that is larger."""
    return max(rtol, RTOL_FLOAT32) if is_float32(obtained) else rtol


# --- comparison ----------------------------------------------------------------------------


def compare(
    obtained: Any,
    expected: Any,
    component: str,
    *,
    rtol: float = RTOL,
    unit: float = UNIT,
    atol: float | None = None,
) -> Message | None:
    """Compare a number or an array (or a tuple/dict of them) with the reference, with the
    tolerance described in the module's notes (``atol``, if given, replaces ``rtol·unit``
    as the smallest absolute tolerance)."""
    if isinstance(expected, tuple | dict):
        if not expected and not (isinstance(obtained, tuple | list | dict) and not obtained):
            # nothing to compare entry by entry: only an empty container is the same
            return _wrong_kind(component, obtained, expected)
        keys = range(len(expected)) if isinstance(expected, tuple) else expected
        found = None
        for key in keys:
            label = f"{component}[{key!r}]" if isinstance(key, str) else f"{component}[{key}]"
            try:
                o, e = pick(obtained, expected, [key], component)
            except Mismatch as mismatch:
                return mismatch.message
            message = compare(o, e, label, rtol=rtol, unit=unit, atol=atol)
            if message and isinstance(expected, dict):
                return message  # a model's parameters: one tells enough, all would flood
            if message:  # every entry of a tuple: (w, n_updates) wrong both ways points at
                # the loop's bound, where w alone does not
                found = (
                    message
                    if found is None
                    else Message("also_wrong", {"first": found, "then": message})
                )
        return found
    if _close_numbers(obtained, expected, rtol, unit, atol) or _close_arrays(
        obtained, expected, rtol, unit, atol
    ):
        return None
    try:
        expected = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):  # a student's own answer, compared with what it holds
        return _wrong_kind(component, obtained, expected)
    try:
        got = as_array(obtained, component, expected)
    except Mismatch as mismatch:
        return mismatch.message
    if expected.ndim == 0 and got.size == 1:
        got = got.reshape(())
    if got.shape != expected.shape:
        return _wrong_shape(component, got, expected)
    same_specials = np.isnan(got) == np.isnan(expected)
    if not np.all(np.isfinite(got) | (same_specials & ~np.isfinite(expected))):
        return Message("not_finite", {"component": component, "obtained": show(_plain(got))})
    finite = np.isfinite(got) & np.isfinite(expected)
    if not np.array_equal(got[~finite], expected[~finite], equal_nan=True):
        return _wrong_value(component, got, expected, float("inf"), "wrong_value", {})
    scale = max(float(np.max(np.abs(expected[finite]), initial=0.0)), unit)
    with np.errstate(over="ignore"):  # two huge entries of opposite signs
        gap = float(np.max(np.abs(got[finite] - expected[finite]), initial=0.0))
    if gap <= _allowed(scale, rtol, unit, atol):
        return None  # within float64's tolerance: no need to ask about float32
    if is_float32(got):
        allowed = _allowed(scale, max(rtol, RTOL_FLOAT32), unit, atol)
        if gap <= allowed:
            return None
        return _wrong_value(
            component, got, expected, gap, "wrong_value_float32", {"tolerance": f"{allowed:.1g}"}
        )
    if gap <= max(rtol, RTOL_FLOAT32) * scale:
        return _wrong_value(
            component,
            got,
            expected,
            gap,
            "wrong_value_precision",
            {"relative": f"{gap / scale:.1g}", "tolerance": f"{rtol:.0e}"},
        )
    return _wrong_value(component, got, expected, gap, "wrong_value", {})


def _close_numbers(
    obtained: Any, expected: Any, rtol: float, unit: float, atol: float | None
) -> bool:
    """The common case without NumPy: two finite Python floats within float64's
    tolerance (anything else takes the general path, which also explains failures)."""
    if type(obtained) is not float or type(expected) is not float:
        return False
    if not (math.isfinite(obtained) and math.isfinite(expected)):
        return False
    return abs(obtained - expected) <= _allowed(abs(expected), rtol, unit, atol)


def _close_arrays(
    obtained: Any, expected: Any, rtol: float, unit: float, atol: float | None
) -> bool:
    """The common case in four NumPy calls: two float64 arrays of one shape, every entry
    finite and within float64's tolerance. A NaN or an infinity anywhere makes the gap or
    the scale non-finite, and the general path then judges (and explains) the answer."""
    if type(obtained) is not np.ndarray or type(expected) is not np.ndarray:
        return False
    if obtained.shape != expected.shape or not obtained.dtype == expected.dtype == np.float64:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        gap = float(np.abs(obtained - expected).max(initial=0.0))
        scale = float(np.abs(expected).max(initial=0.0))
    if not math.isfinite(scale):
        return False
    return gap <= _allowed(scale, rtol, unit, atol)


def _allowed(scale: float, rtol: float, unit: float, atol: float | None) -> float:
    """The largest gap accepted for a quantity of size ``scale`` (see the module's notes)."""
    return max(rtol * max(scale, unit), atol if atol is not None else 0.0)


def differing(
    obtained: np.ndarray, expected: np.ndarray, *, rtol: float = RTOL, unit: float = UNIT
) -> np.ndarray:
    """Which entries of an array answer ``compare`` judges wrong (same tolerance): for a
    page that shows only the entries that differ."""
    got, wanted = np.asarray(obtained, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    finite = np.isfinite(got) & np.isfinite(wanted)
    scale = max(float(np.max(np.abs(wanted[finite]), initial=0.0)), unit)
    allowed = tolerance_for(got, rtol) * scale
    with np.errstate(invalid="ignore"):
        same_special = ~finite & ((got == wanted) | (np.isnan(got) & np.isnan(wanted)))
        return ~(same_special | (finite & (np.abs(got - wanted) <= allowed)))


def agrees(obtained: Any, expected: Any, *, rtol: float = RTOL, unit: float = UNIT) -> bool:
    """Whether ``compare`` finds nothing wrong."""
    return compare(obtained, expected, "", rtol=rtol, unit=unit) is None


def _wrong_value(
    component: str,
    got: np.ndarray,
    expected: np.ndarray,
    gap: float,
    key: str,
    extra: dict[str, Any],
) -> Message:
    shown_expected, shown_obtained = distinct_texts(_plain(expected), _plain(got))
    return Message(
        key,
        {
            "component": component,
            "expected": shown_expected,
            "obtained": shown_obtained,
            "gap": f"{gap:.3g}",
            **extra,
        },
    )


def distinct_texts(expected: Any, obtained: Any) -> tuple[Any, Any]:
    """``show`` of both values, with more digits where they would print identically: a
    student never reads "expected 0.5, got 0.5"."""
    first, second = show(expected), show(obtained)
    if str(first) != str(second):
        return first, second
    for digits in range(7, 18):
        a, b = _text(expected, digits), _text(obtained, digits)
        if a != b:
            return _like(first, a, expected), _like(second, b, obtained)
    return first, second


def _text(value: Any, digits: int) -> str:
    if isinstance(value, np.ndarray):
        if value.size > 12:
            flat = np.array2string(
                value.ravel()[:12], precision=digits, separator=", ", floatmode="maxprec"
            )
            return f"{flat[:-1]}, …] (forme {value.shape})"
        return np.array2string(value, precision=digits, separator=", ", floatmode="maxprec")
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _like(shown: Any, text: str, value: Any) -> Any:
    """``text`` in the type ``show`` gives (a text that may keep its value)."""
    if hasattr(shown, "value"):
        return type(shown)(text, value)
    return text


def as_array(value: Any, component: str, expected: Any = None) -> np.ndarray:
    """The student's answer as a float array, as the contract allows (float, list, array);
    ``expected`` (the reference's answer) names what was awaited when it is none of these."""
    if isinstance(value, bool) or not isinstance(value, float | int | np.ndarray | tuple | list):
        awaited = Message("an_array") if np.ndim(expected) > 0 else Message("a_number")
        raise Mismatch(
            Message(
                "wrong_kind", {"component": component, "expected": awaited, "obtained": kind(value)}
            )
        )
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise Mismatch(
            Message(
                "wrong_kind",
                {"component": component, "expected": Message("an_array"), "obtained": kind(value)},
            )
        ) from None


def _plain(array: np.ndarray) -> Any:
    return float(array) if array.ndim == 0 else array


def _wrong_kind(component: str, obtained: Any, expected: Any) -> Message:
    return Message(
        "wrong_kind",
        {"component": component, "expected": kind(expected), "obtained": kind(obtained)},
    )


def _wrong_shape(component: str, obtained: np.ndarray, expected: np.ndarray) -> Message:
    """Shapes, in the student's words where one side is a number: "()" says nothing."""
    if expected.ndim == 0 or obtained.ndim == 0:

        def words(array: np.ndarray) -> Message:
            return (
                Message("an_array_of_shape", {"shape": str(array.shape)})
                if array.ndim
                else Message("a_number")
            )

        return Message(
            "wrong_kind",
            {"component": component, "expected": words(expected), "obtained": words(obtained)},
        )
    transposed = expected.ndim == 2 and obtained.shape == expected.shape[::-1]
    return Message(
        "wrong_shape_transposed" if transposed else "wrong_shape",
        {"component": component, "expected": str(expected.shape), "obtained": str(obtained.shape)},
    )
