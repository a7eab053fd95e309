"""Where a student's answers are compared with the reference's.

Both sides arrive as plain data decoded by ``execution.plan``: floats, arrays, tuples,
dicts, or ``Unsupported``. Nothing here runs student code. A comparison returns
``None`` when the answer is right, else the ``Message`` that says what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .execution.plan import Unsupported
from .messages import Message, show

RTOL = 1e-6
ATOL = 1e-9


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
    if isinstance(value, Unsupported):
        return Message("an_object", {"type": value.type_name})
    return Message("an_object", {"type": type(value).__name__})


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
            obtained = as_array(obtained, component)
            if obtained.shape != expected.shape:
                raise Mismatch(_wrong_shape(component, obtained, expected))
        obtained, expected = obtained[step], expected[step]
    return obtained, expected


def compare(
    obtained: Any, expected: Any, component: str, *, rtol: float = RTOL, atol: float = ATOL
) -> Message | None:
    """Compare a number or an array (or a tuple/dict of them) with the reference."""
    if isinstance(expected, tuple | dict):
        keys = range(len(expected)) if isinstance(expected, tuple) else expected
        for key in keys:
            label = f"{component}[{key!r}]" if isinstance(key, str) else f"{component}[{key}]"
            try:
                o, e = pick(obtained, expected, [key], component)
            except Mismatch as mismatch:
                return mismatch.message
            message = compare(o, e, label, rtol=rtol, atol=atol)
            if message:
                return message
        return None
    expected = np.asarray(expected, dtype=np.float64)
    try:
        got = as_array(obtained, component)
    except Mismatch as mismatch:
        return mismatch.message
    if expected.ndim == 0 and got.size == 1:
        got = got.reshape(())
    if got.shape != expected.shape:
        return _wrong_shape(component, got, expected)
    same_specials = np.isnan(got) == np.isnan(expected)
    if not np.all(np.isfinite(got) | (same_specials & ~np.isfinite(expected))):
        return Message("not_finite", {"component": component, "obtained": show(_plain(got))})
    if np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
        return None
    finite = np.isfinite(got) & np.isfinite(expected)
    gap = float(np.max(np.abs(got - expected)[finite])) if finite.any() else float("inf")
    return Message(
        "wrong_value",
        {
            "component": component,
            "expected": show(_plain(expected)),
            "obtained": show(_plain(got)),
            "gap": f"{gap:.3g}",
        },
    )


def as_array(value: Any, component: str) -> np.ndarray:
    """The student's answer as a float array, as the contract allows (float, list, array)."""
    if isinstance(value, bool) or not isinstance(value, float | int | np.ndarray | tuple | list):
        raise Mismatch(
            Message(
                "wrong_kind",
                {"component": component, "expected": Message("a_number"), "obtained": kind(value)},
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
    return Message(
        "wrong_shape",
        {"component": component, "expected": str(expected.shape), "obtained": str(obtained.shape)},
    )
