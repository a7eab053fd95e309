"""Every sentence the grader says to a student, in French (default) and English.

The sentences live in one catalogue per language, ``locale/fr.yaml`` and
``locale/en.yaml`` (same keys in both). A finding is a ``Message``: a key and its
parameters. It is rendered only when shown, so results stay language-neutral and the
same gradebook serves both languages.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGUAGES = ("fr", "en")


def _require_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")


@functools.cache
def _catalogue(lang: str) -> dict[str, dict[str, str]]:
    """``locale/<lang>.yaml``: every sentence said to a student in one language. Read when
    first needed: a student command starts its sandbox before it pays for YAML."""
    _require_language(lang)
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    path = Path(__file__).with_name("locale") / f"{lang}.yaml"
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


@functools.cache
def _by_key(section: str) -> dict[str, dict[str, str]]:
    """One section of the catalogues, as ``{key: {lang: text}}``."""
    keys = _catalogue(LANGUAGES[0])[section]
    return {key: {lang: _catalogue(lang)[section][key] for lang in LANGUAGES} for key in keys}


def texts(section: str, lang: str) -> Mapping[str, str]:
    """One section of a language's catalogue (``student``: the student commands; ``web``:
    the web application)."""
    return _catalogue(lang)[section]


_TABLES = {
    "TEMPLATES": "messages",
    "HINTS": "hints",  # what is wrong and where, without the values (reveal="hints")
    "SINGULAR": "singular",  # forms of the messages whose ``count`` parameter is 1
    "DIFFERENCES": "differences",  # a wrong array told by what differs
}


def __getattr__(name: str) -> Any:
    """The catalogues' tables, built on first use: ``TEMPLATES``, ``HINTS``, ``SINGULAR``
    and ``DIFFERENCES`` (``{key: {lang: text}}``), ``PAGE_LABELS`` (``{lang: {key:
    text}}``: every label of the feedback pages and the class report)."""
    if name in _TABLES:
        return _by_key(_TABLES[name])
    if name == "PAGE_LABELS":
        return {lang: _catalogue(lang)["pages"] for lang in LANGUAGES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Message:
    """A finding to tell the student: a template key and its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "fr", reveal: str = "values") -> str:
        return render(self, lang, reveal)


def render(message: Message, lang: str = "fr", reveal: str = "values") -> str:
    """The message in ``lang``; parameters that are messages are rendered too.

    With ``reveal="hints"``, a message that has a ``HINTS`` form says what is wrong and
    where, without the expected and obtained values.
    """
    _require_language(lang)
    if reveal not in REVEALS:
        raise ValueError(f"unknown reveal level {reveal!r}: choose one of {', '.join(REVEALS)}")
    params = {
        name: _param_text(name, value, lang, reveal) for name, value in message.params.items()
    }
    hints = _by_key("hints").get(message.key) if reveal == "hints" else None
    templates = hints or _by_key("messages")[message.key]
    if message.params.get("count") == 1:
        templates = _by_key("singular").get(message.key, templates)
    return templates[lang].format(**params)


def show(value: Any, brief: bool = False) -> str:
    """A short, readable form of a number or an array for feedback.

    ``brief`` names large arrays by their shape only, for the inputs of a call. Otherwise
    numbers and arrays come back as ``Shown`` texts, which keep the value.
    """
    if _is_array(value):
        import numpy as np

        if brief and value.size > 6:
            return f"<tableau {value.shape}>"
        plain = value + 0.0 if value.dtype.kind == "f" else value  # -0.0 reads as 0
        if value.size > 12:
            flat = np.array2string(plain.ravel()[:12], precision=6, separator=", ")
            return Shown(f"{flat[:-1]}, …] (forme {value.shape})", value)
        text = np.array2string(plain, precision=6, separator=", ", suppress_small=True)
        return text if brief else Shown(text, value)
    if isinstance(value, float):
        text = f"{value + 0.0:.6g}"
        return text if brief else Shown(text, value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v, brief)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        if brief and len(value) > 6:  # a long list of losses: its start, its end, its length
            shown = [show(v, brief) for v in (*value[:3], *value[-2:])]
            return f"[{', '.join(shown[:3])}, …, {', '.join(shown[3:])}] ({len(value)} valeurs)"
        return "[" + ", ".join(show(v, brief) for v in value) + "]"
    return repr(value)


def _is_array(value: Any) -> bool:
    """Whether ``value`` is a NumPy array, without importing NumPy: the student commands
    read their catalogue sentences from here, and no array exists before NumPy is loaded."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


# --- findings as data, rendered when shown ------------------------------------------------

REVEALS = ("hints", "values")
"""How much a finding shows: ``hints`` says what is wrong and where (component, input);
``values`` also gives the expected and obtained values."""


def number_text(value: float, lang: str = "fr") -> str:
    """A number as the language writes it: ``1,5`` in French, ``1.5`` in English."""
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "fr" else text


def score_text(value: float, lang: str = "fr") -> str:
    """A score or a number of points, to the hundredth: ``4,67`` (a mistake counted once
    may leave a third of a point)."""
    return number_text(round(value, 2), lang)


def points_text(value: float, lang: str = "fr") -> str:
    """``1 point``, ``2 points``; French keeps the singular below 2 (``1,5 point``)."""
    singular = abs(value) < 2 if lang == "fr" else value == 1
    return f"{score_text(value, lang)} {'point' if singular else 'points'}"


def duration_text(hours: float, lang: str = "fr") -> str:
    """A lateness as a student reads it: ``12 min``, ``3 h 20 min``, ``2 j 4 h 1 min``
    (English ``2 d 4 h 1 min``), to the minute: a penalty counts every started day or
    hour, so a rounded-down delay would look overcharged. Never less than a minute."""
    minutes = max(1, math.ceil(round(hours * 60, 6)))
    days, minutes = divmod(minutes, 24 * 60)
    whole_hours, minutes = divmod(minutes, 60)
    parts = [f"{days} {'j' if lang == 'fr' else 'd'}"] if days else []
    parts += [f"{whole_hours} h"] if whole_hours else []
    parts += [f"{minutes} min"] if minutes else []
    return " ".join(parts)


class Shown(str):
    """The text ``show`` gives for a number or an array, keeping the value itself: a page
    can then show only the entries of an array that differ from the expected ones."""

    value: Any

    def __new__(cls, text: str, value: Any) -> Shown:
        shown = super().__new__(cls, text)
        shown.value = value
        return shown

    def __reduce__(self):
        return (Shown, (str(self), self.value))


class Later:
    """A text parameter written only when first read: a call's input values cost an
    ``array2string`` each, and most findings that hold them (those made while looking
    for a named mistake) are discarded unread."""

    __slots__ = ("_make", "_text")

    def __init__(self, make: Callable[[], str]):
        self._make: Callable[[], str] | None = make
        self._text = ""

    def __str__(self) -> str:
        make = self._make  # read once: grading threads may share one (``checks``)
        if make is not None:
            self._text = make()
            self._make = None
        return self._text

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other) if isinstance(other, Later | str) else NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


def written(message: Message) -> Message:
    """``message`` with its ``Later`` parameters written out as plain texts."""
    if not any(isinstance(value, Later) for value in message.params.values()):
        return message
    params = {k: str(v) if isinstance(v, Later) else v for k, v in message.params.items()}
    return Message(message.key, params)


@dataclass(frozen=True)
class Translated:
    """A parameter already written in every language (a notebook's reason for being
    invalid, say): rendered by picking the language asked."""

    texts: Mapping[str, str]

    def text(self, lang: str) -> str:
        return self.texts.get(lang) or self.texts.get("fr") or next(iter(self.texts.values()), "")


# The framework's words inside the call texts that findings carry (``<tableau (7, 3)>``),
# and their English. Applied to text parameters when rendering in English. (An
# assignment's own words come as ``Translated`` texts: ``checks.about``.)
FROZEN_FRENCH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), english)
    for pattern, english in (
        (r"<tableau (\([^)]*\))>", r"<array \1>"),
        (r"\(forme (\([^)]*\))\)", r"(shape \1)"),
        (r"\((\d+) valeurs\)", r"(\1 values)"),
        (r"<résultat précédent>", "<previous result>"),
        (r"\(ligne (\d+)\)", r"(line \1)"),
        (r"\(ligne (\d+) dans ", r"(line \1 in "),
        (r"\(cellule (\d+), ligne (\d+)\)", r"(cell \1, line \2)"),
        (r"cellule (\d+), ligne (\d+) dans ", r"cell \1, line \2 in "),  # an interrupted call
        (r"cellule (\d+), ligne (\d+)", r"cell \1, line \2"),
        (r"<cellule (\d+)>", r"<cell \1>"),
        (r"arrêté après (\d+) s, pour laisser du temps à la suite du notebook",
         r"stopped after \1 s, to leave time for the rest of the notebook"),
        (r"arrêté après (\d+) s : la limite de temps du notebook est atteinte",
         r"stopped after \1 s: the notebook's time limit is reached"),
        (r"pas lancé jusqu'au bout : les étapes précédentes \(cellules ou tests\) ont pris "
         r"presque tout le temps du notebook",
         "not run to the end: the steps before it (cells or tests) took almost all the "
         "notebook's time"),
        (r"le notebook s'est arrêté net pendant cet appel ; ses autres appels ont été refaits "
         r"sans lui", "the notebook stopped dead during this call; its other calls were made "
         "again without it"),
        (r"limite de mémoire \((\d+) Mo\) dépassée pendant cet appel ; ses autres appels ont été "
         r"refaits sans lui", r"memory limit (\1 MB) exceeded during this call; its other calls "
         r"were made again without it"),
        (r"le notebook s'est arrêté net dans cette cellule ; il a été exécuté à nouveau sans "
         r"elle", "the notebook stopped dead in this cell; it was run again without it"),
        (r"limite de mémoire \((\d+) Mo\) dépassée dans cette cellule ; le notebook a été "
         r"exécuté à nouveau sans elle", r"memory limit (\1 MB) exceeded in this cell; the "
         r"notebook was run again without it"),
        (r"appel non fait : cette fonction a déjà arrêté net le notebook (\d+) fois",
         r"call not made: this function has already stopped the notebook dead \1 times"),
        (r"un entier trop grand pour un float64", "an integer too large for a float64"),
        (r"un tableau de (\d+) valeurs \(le correcteur en lit (\d+) au plus\)",
         r"an array of \1 values (the grader reads \2 at most)"),
        (r"des données imbriquées sur plus de (\d+) niveaux", r"data nested over \1 levels"),
        (r"limite de taille atteinte \(elle vaut pour chaque fichier écrit et pour tout ce "
         r"que le notebook affiche\) : affichez ou écrivez moins",
         "size limit reached (it holds for each file written and for all the notebook "
         "prints): print or write less"),
    )
)  # fmt: skip

_INDEXED = re.compile(r"^(?P<base>.*?)(?P<index>(?:\[[^\[\]]*\])+)$", re.S)
_NAMED_TUPLE = re.compile(r"^\((?P<names>[^()]*)\)(?P<rest>.*)$", re.S)


def component_label(text: str) -> str:
    """A component as a student reads it: ``(w, n_updates) pour n_b = 1[0]`` becomes
    ``w pour n_b = 1``, ``updated parameters['Wh']`` becomes ``Wh (updated parameters)``."""
    match = _INDEXED.match(text)
    if not match or not match["base"]:
        return text
    base, index = match["base"], match["index"]
    first, rest = index[1 : index.index("]")], index[index.index("]") + 1 :]
    named = _NAMED_TUPLE.match(base)
    if named and first.isdigit():
        names = [name.strip() for name in named["names"].split(",")]
        if int(first) < len(names):
            return f"{names[int(first)]}{rest}{named['rest']}"
    key = first.strip("'\"")
    if " " in base.strip() and first != key and not rest:
        return f"{key} ({base.strip()})"
    return text


def localized(text: str, lang: str) -> str:
    """A text frozen in a finding, in ``lang`` (findings are written in French)."""
    if lang == "fr":
        return text
    for pattern, replacement in FROZEN_FRENCH:
        text = pattern.sub(replacement, text)
    return text


_ERROR_GLOSSES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("undefined_name", r"^NameError: name '(?P<name>[^']{1,80})' is not defined"),
        ("none_value", r"'NoneType' object is not|NoneType' and|and 'NoneType'|non-iterable NoneType"),
        ("broadcast", r"operands could not be broadcast together"),
        ("matmul", r"mismatch in its core dimension|shapes \(.*\) and \(.*\) not aligned"),
        ("arguments", r"positional arguments? but \d+ (?:were|was) given|missing \d+ required|"
                      r"unexpected keyword argument"),
        ("missing_key", r"^KeyError: "),
        ("index", r"^IndexError: "),
        ("not_callable", r"object is not callable"),
        ("crash", r"^signal SIG(?:SEGV|BUS|ABRT|ILL|FPE)\b"),
    )
)  # fmt: skip
"""Python errors a notebook often raises, whose English text says little to a student in
a hurry: each gets a sentence of what it usually means (``gloss_<key>`` messages)."""


def error_text(error: str, lang: str) -> str:
    """A Python error raised by the student's code, in ``lang``, followed by what it
    usually means in a notebook when it is a common one."""
    text = localized(error, lang)
    for key, pattern in _ERROR_GLOSSES:
        if found := pattern.search(error):
            gloss = render(Message(f"gloss_{key}", found.groupdict()), lang)
            return f"{text} — {gloss}"
    return text


def _param_text(name: str, value: Any, lang: str, reveal: str) -> Any:
    if isinstance(value, Message):
        return render(value, lang, reveal)
    if isinstance(value, Translated):
        return value.text(lang)
    if isinstance(value, Later):
        value = str(value)
    if isinstance(value, str) and name == "error":
        return error_text(value, lang)
    if isinstance(value, str):
        return localized(component_label(value) if name == "component" else str(value), lang)
    return value


MAX_DATA_DEPTH = 8
MAX_KEPT_VALUES = 10_000
"""Arrays of at most this many entries keep their values in a stored finding."""


def to_data(message: Message) -> dict[str, Any]:
    """A message as JSON data: ``{"key": …, "params": {…}}``; a parameter that is a
    message is ``{"message": …}``, a ``Translated`` ``{"texts": …}``, a ``Shown`` value
    ``{"text": …, "value": …}``."""
    return {
        "key": message.key,
        "params": {str(k): _value_data(v) for k, v in message.params.items()},
    }


def _value_data(value: Any) -> Any:
    if isinstance(value, Message):
        return {"message": to_data(value)}
    if isinstance(value, Translated):
        return {"texts": {str(k): str(v) for k, v in value.texts.items()}}
    if isinstance(value, Shown):
        return {"text": str(value), "value": _plain_value(value.value)}
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _plain_value(value: Any) -> Any:
    if _is_array(value) and value.size <= MAX_KEPT_VALUES:
        flat = [v if math.isfinite(v) else str(v) for v in value.astype(float).ravel().tolist()]
        return {"shape": list(value.shape), "data": flat}
    if isinstance(value, float | int) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else str(float(value))
    return None


def from_data(data: Any, depth: int = 0) -> Message:
    """The message ``to_data`` stored; raises ValueError on anything else (an edited or
    damaged result), so a reader can fall back to the stored text."""
    if depth > MAX_DATA_DEPTH or not isinstance(data, dict):
        raise ValueError("not a stored message")
    key, params = data.get("key"), data.get("params", {})
    if not isinstance(key, str) or key not in _by_key("messages") or not isinstance(params, dict):
        raise ValueError(f"unknown message {key!r}")
    return Message(key, {str(k): _value_from_data(v, depth) for k, v in params.items()})


def _value_from_data(value: Any, depth: int) -> Any:
    if isinstance(value, dict):
        if "message" in value:
            return from_data(value["message"], depth + 1)
        if "texts" in value and isinstance(value["texts"], dict):
            return Translated({str(k): str(v) for k, v in value["texts"].items()})
        if "text" in value:
            return Shown(str(value["text"]), _value_from_plain(value.get("value")))
        raise ValueError("unknown parameter")
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    raise ValueError("unknown parameter")


def _value_from_plain(value: Any) -> Any:
    try:
        if isinstance(value, dict):
            import numpy as np

            shape = tuple(int(n) for n in value["shape"])
            data = np.array([float(v) for v in value["data"]], dtype=np.float64)
            return data.reshape(shape)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return float(value)
    except (KeyError, TypeError, ValueError):
        pass
    return None
