"""Every sentence the grader says to a student, in French (default) and English.

A finding is a ``Message``: a key and its parameters. It is rendered only when shown,
so results stay language-neutral and the same gradebook serves both languages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LANGUAGES = ("fr", "en")

TEMPLATES: dict[str, dict[str, str]] = {
    "missing_function": {
        "fr": "La fonction `{function}` n'est pas définie dans le notebook.",
        "en": "The function `{function}` is not defined in the notebook.",
    },
    "raised": {
        "fr": "`{call}` a levé une erreur : {error}",
        "en": "`{call}` raised an error: {error}",
    },
    "wrong_kind": {
        "fr": "{component} : on attendait {expected}, la fonction a renvoyé {obtained}.",
        "en": "{component}: expected {expected}, the function returned {obtained}.",
    },
    "wrong_shape": {
        "fr": "{component} : forme attendue {expected}, forme obtenue {obtained}.",
        "en": "{component}: expected shape {expected}, got shape {obtained}.",
    },
    "not_finite": {
        "fr": "{component} contient NaN ou inf : {obtained}.",
        "en": "{component} contains NaN or inf: {obtained}.",
    },
    "wrong_value": {
        "fr": "{component} est faux : attendu {expected}, obtenu {obtained} (écart {gap}).",
        "en": "{component} is wrong: expected {expected}, got {obtained} (off by {gap}).",
    },
    "on_input": {
        "fr": "Entrée : {input}.",
        "en": "Input: {input}.",
    },
    "gradcheck": {
        "fr": (
            "{component} ne correspond pas aux différences finies centrées de vos propres "
            "fonctions {functions} : dérivée numérique {expected}, votre gradient {obtained}."
        ),
        "en": (
            "{component} does not match the central finite differences of your own "
            "{functions}: numerical derivative {expected}, your gradient {obtained}."
        ),
    },
    "gradcheck_flat": {
        "fr": (
            "Vos fonctions {functions} donnent une perte qui ne varie pas quand les paramètres "
            "bougent (différences finies nulles ou noyées dans les erreurs d'arrondi) : elles ne "
            "peuvent pas confirmer votre gradient, qui diffère de celui attendu."
        ),
        "en": (
            "Your {functions} give a loss that does not change when the parameters move "
            "(finite differences are zero or lost in rounding error): they cannot confirm "
            "your gradient, which differs from the expected one."
        ),
    },
    "wrong_decision": {
        "fr": "{component} devrait renvoyer {expected}, il renvoie {obtained}.",
        "en": "{component} should return {expected}, it returns {obtained}.",
    },
    "input_modified": {
        "fr": "{component} modifie son argument en place ; il doit le laisser intact.",
        "en": "{component} modifies its argument in place; it must leave it untouched.",
    },
    "wrong_value_float32": {
        "fr": (
            "{component} est faux : attendu {expected}, obtenu {obtained} (écart {gap}). Vos "
            "calculs sont en float32 : leur précision (environ 7 chiffres) explique des écarts "
            "jusqu'à {tolerance} environ, pas celui-ci : ce n'est pas une erreur d'arrondi."
        ),
        "en": (
            "{component} is wrong: expected {expected}, got {obtained} (off by {gap}). Your "
            "computations are in float32: their precision (about 7 digits) explains gaps up to "
            "about {tolerance}, not this one: this is not a rounding error."
        ),
    },
    "wrong_value_precision": {
        "fr": (
            "{component} est presque juste : attendu {expected}, obtenu {obtained} (écart "
            "relatif {relative}, au-delà de la tolérance {tolerance} des calculs en float64). "
            "Un écart de cet ordre est un problème de précision : un calcul fait en partie en "
            "float32, une constante arrondie, ou un epsilon trop grand (au-delà de 1e-7) "
            "ajouté dans un log ou une division."
        ),
        "en": (
            "{component} is almost right: expected {expected}, got {obtained} (relative gap "
            "{relative}, beyond the {tolerance} tolerance of float64 computations). A gap of "
            "this size is a precision problem: a computation partly in float32, a rounded "
            "constant, or too large an epsilon (above 1e-7) added inside a log or a division."
        ),
    },
    "loop_wrong_both_ways": {
        "fr": (
            "La boucle reste fausse quand vos fonctions {functions} sont remplacées par des "
            "fonctions connues (pour ne pas vous compter deux fois une erreur de ces "
            "fonctions) : l'erreur est dans la boucle elle-même (ordre des étapes, tirages ou "
            "batchs, mise à jour, valeurs enregistrées…)."
        ),
        "en": (
            "The loop is still wrong when your functions {functions} are replaced by known "
            "ones (so that a mistake in those is not counted twice): the mistake is in the "
            "loop itself (order of the steps, draws or batches, update, recorded values…)."
        ),
    },
    "gradcheck_backward": {
        "fr": (
            "{component} est faux : votre gradient vaut {obtained}, alors que la dérivée "
            "numérique (différences finies centrées) de vos propres fonctions {functions}, "
            "qui sont justes ici, vaut {expected}. L'erreur est dans backward."
        ),
        "en": (
            "{component} is wrong: your gradient is {obtained}, while the numerical "
            "derivative (central finite differences) of your own {functions}, which are "
            "right here, is {expected}. The mistake is in backward."
        ),
    },
    "gradcheck_neither": {
        "fr": (
            "{component} : votre gradient vaut {obtained}, le gradient attendu {expected}. Il "
            "ne correspond pas non plus à la dérivée numérique de vos propres fonctions "
            "{functions} ({numeric}), qui sont elles-mêmes fausses (voir leurs tests) : "
            "corrigez-les, puis vérifiez que backward en donne le gradient."
        ),
        "en": (
            "{component}: your gradient is {obtained}, the expected gradient {expected}. It "
            "does not match the numerical derivative of your own {functions} either "
            "({numeric}), which are wrong themselves (see their tests): fix them, then check "
            "that backward gives their gradient."
        ),
    },
    "gradcheck_unverifiable": {
        "fr": (
            "{component} : votre gradient vaut {obtained}, le gradient attendu {expected}, et "
            "vos fonctions {functions} ne permettent pas de le vérifier par différences "
            "finies : {reason}"
        ),
        "en": (
            "{component}: your gradient is {obtained}, the expected gradient {expected}, and "
            "your {functions} cannot check it by finite differences: {reason}"
        ),
    },
    "gradcheck_float32": {
        "fr": (
            "{component} : votre gradient vaut {obtained}, le gradient attendu {expected}. Vos "
            "calculs de {functions} sont en float32 (ou arrondis à cette précision) : des "
            "différences finies ne peuvent pas vérifier un gradient à cette précision, seul "
            "le gradient attendu compte ici."
        ),
        "en": (
            "{component}: your gradient is {obtained}, the expected gradient {expected}. Your "
            "{functions} compute in float32 (or round to that precision): finite differences "
            "cannot check a gradient at that precision, only the expected gradient counts here."
        ),
    },
    "misconception": {
        "fr": "Erreur reconnue ({id}) : {explanation}",
        "en": "Known mistake ({id}): {explanation}",
    },
    "status_graded": {
        "fr": "Notebook exécuté et corrigé.",
        "en": "Notebook run and graded.",
    },
    "status_graded_with_errors": {
        "fr": "Notebook corrigé ; {count} cellules ont levé une erreur (la première : cellule {cell}, {error}).",
        "en": "Notebook graded; {count} cells raised an error (the first: cell {cell}, {error}).",
    },
    "status_timeout": {
        "fr": (
            "Le notebook a dépassé la limite de temps ({seconds} s de temps réel ou de calcul), "
            "pendant la cellule {cell} : rien n'a pu être corrigé. Cherchez une boucle infinie."
        ),
        "en": (
            "The notebook went over the time limit ({seconds} s of wall or CPU time) during "
            "cell {cell}: nothing could be graded. Look for an endless loop."
        ),
    },
    "status_memory": {
        "fr": "Le notebook a dépassé la limite de mémoire ({megabytes} Mo) ; ce qui a pu être calculé a été corrigé.",
        "en": "The notebook went over the memory limit ({megabytes} MB); what could be computed was graded.",
    },
    "status_error": {
        "fr": "Le notebook a interrompu sa propre exécution ({exit}) : rien n'a pu être corrigé.",
        "en": "The notebook stopped its own execution ({exit}): nothing could be graded.",
    },
    "status_invalid": {
        "fr": "Notebook impossible à corriger : {reason}.",
        "en": "The notebook cannot be graded: {reason}.",
    },
    "status_grader_failure": {
        "fr": "Le bac à sable n'a pas pu exécuter ce notebook, même au second essai ({error}).",
        "en": "The sandbox could not run this notebook, even on a second try ({error}).",
    },
    "status_rejected": {
        "fr": (
            "Ce que le notebook a renvoyé au correcteur est invalide (canal de résultats "
            "modifié, valeurs démesurées…) : rien n'a été corrigé."
        ),
        "en": (
            "What the notebook sent back to the grader is invalid (result channel tampered "
            "with, oversized values…): nothing was graded."
        ),
    },
    "status_internal_error": {
        "fr": (
            "Le correcteur a rencontré une erreur interne sur ce notebook : rien n'a été "
            "corrigé. L'enseignant en a le détail."
        ),
        "en": (
            "The grader hit an internal error on this notebook: nothing was graded. "
            "The instructor has the details."
        ),
    },
    "status_no_sandbox": {
        "fr": (
            "La machine de correction n'offre aucun bac à sable sûr : le notebook n'a pas été "
            "exécuté. L'enseignant en a le détail dans le journal du correcteur."
        ),
        "en": (
            "The grading machine offers no safe sandbox: the notebook was not run. The "
            "instructor has the details in the autograder's log."
        ),
    },
    "status_killed_worker": {
        "fr": "La correction de ce notebook a fait tomber {tries} machines de calcul : abandonnée.",
        "en": "Grading this notebook brought down {tries} grading workers: given up.",
    },
    "late_penalty": {
        "fr": "Rendu avec {hours} h de retard : pénalité de {percent} %, note {before} → {after}.",
        "en": "Submitted {hours} h late: {percent} % penalty, score {before} → {after}.",
    },
    "not_run": {
        "fr": "Non évalué : {reason}",
        "en": "Not evaluated: {reason}",
    },
    "file_reason": {"fr": "{file} : {reason}", "en": "{file}: {reason}"},
    "a_number": {"fr": "un nombre", "en": "a number"},
    "a_tuple": {"fr": "un tuple de {n} éléments", "en": "a tuple of {n} items"},
    "a_dict": {"fr": "un dictionnaire de clés {keys}", "en": "a dict with keys {keys}"},
    "an_array": {"fr": "un tableau", "en": "an array"},
    "a_bool": {"fr": "un booléen", "en": "a boolean"},
    "nothing": {"fr": "None (rien)", "en": "None (nothing)"},
    "an_object": {"fr": "un objet {type}", "en": "an object of type {type}"},
}


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
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    if reveal not in REVEALS:
        raise ValueError(f"unknown reveal level {reveal!r}: choose one of {', '.join(REVEALS)}")
    params = {
        name: _param_text(name, value, lang, reveal) for name, value in message.params.items()
    }
    templates = (HINTS.get(message.key) if reveal == "hints" else None) or TEMPLATES[message.key]
    if message.params.get("count") == 1:
        templates = SINGULAR.get(message.key, templates)
    return templates[lang].format(**params)


def show(value: Any, brief: bool = False) -> str:
    """A short, readable form of a number or an array for feedback.

    ``brief`` names large arrays by their shape only, for the inputs of a call. Otherwise
    numbers and arrays come back as ``Shown`` texts, which keep the value.
    """
    if isinstance(value, np.ndarray):
        if brief and value.size > 6:
            return f"<tableau {value.shape}>"
        if value.size > 12:
            flat = np.array2string(value.ravel()[:12], precision=6, separator=", ")
            return Shown(f"{flat[:-1]}, …] (forme {value.shape})", value)
        text = np.array2string(value, precision=6, separator=", ", suppress_small=True)
        return text if brief else Shown(text, value)
    if isinstance(value, float):
        return f"{value:.6g}" if brief else Shown(f"{value:.6g}", value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v, brief)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        if brief and len(value) > 6:  # a long list of losses: its start, its end, its length
            shown = [show(v, brief) for v in (*value[:3], *value[-2:])]
            return f"[{', '.join(shown[:3])}, …, {', '.join(shown[3:])}] ({len(value)} valeurs)"
        return "[" + ", ".join(show(v, brief) for v in value) + "]"
    return repr(value)


# --- findings as data, rendered when shown ------------------------------------------------

REVEALS = ("hints", "values")
"""How much a finding shows: ``hints`` says what is wrong and where (component, input);
``values`` also gives the expected and obtained values."""

HINTS: dict[str, dict[str, str]] = {
    "wrong_value": {"fr": "{component} est faux.", "en": "{component} is wrong."},
    "not_finite": {
        "fr": "{component} contient NaN ou inf.",
        "en": "{component} contains NaN or inf.",
    },
    "gradcheck": {
        "fr": (
            "{component} ne correspond pas aux différences finies centrées de vos propres "
            "fonctions {functions}."
        ),
        "en": (
            "{component} does not match the central finite differences of your own {functions}."
        ),
    },
    "wrong_decision": {
        "fr": "{component} ne prend pas la bonne décision.",
        "en": "{component} makes the wrong decision.",
    },
    "wrong_value_float32": {
        "fr": (
            "{component} est faux, au-delà de ce qu'explique la précision du float32 de vos "
            "calculs : ce n'est pas une erreur d'arrondi."
        ),
        "en": (
            "{component} is wrong, beyond what the float32 precision of your computations "
            "explains: this is not a rounding error."
        ),
    },
    "wrong_value_precision": {
        "fr": (
            "{component} est presque juste : l'écart est un problème de précision (calcul en "
            "partie en float32, constante arrondie, ou epsilon trop grand)."
        ),
        "en": (
            "{component} is almost right: the gap is a precision problem (a computation partly "
            "in float32, a rounded constant, or too large an epsilon)."
        ),
    },
    "gradcheck_backward": {
        "fr": (
            "{component} ne correspond pas à la dérivée numérique de vos propres fonctions "
            "{functions}, qui sont justes ici : l'erreur est dans backward."
        ),
        "en": (
            "{component} does not match the numerical derivative of your own {functions}, "
            "which are right here: the mistake is in backward."
        ),
    },
    "gradcheck_neither": {
        "fr": (
            "{component} ne correspond ni au gradient attendu ni à la dérivée numérique de vos "
            "fonctions {functions}, elles-mêmes fausses (voir leurs tests)."
        ),
        "en": (
            "{component} matches neither the expected gradient nor the numerical derivative "
            "of your {functions}, which are wrong themselves (see their tests)."
        ),
    },
    "gradcheck_unverifiable": {
        "fr": (
            "{component} est faux, et vos fonctions {functions} ne permettent pas de le "
            "vérifier par différences finies : {reason}"
        ),
        "en": (
            "{component} is wrong, and your {functions} cannot check it by finite "
            "differences: {reason}"
        ),
    },
    "gradcheck_float32": {
        "fr": (
            "{component} est faux ; vos calculs de {functions} sont en float32, trop peu "
            "précis pour le vérifier par différences finies."
        ),
        "en": (
            "{component} is wrong; your {functions} compute in float32, too coarse to check "
            "it by finite differences."
        ),
    },
}

SINGULAR: dict[str, dict[str, str]] = {
    "status_graded_with_errors": {
        "fr": "Notebook corrigé ; une cellule a levé une erreur (cellule {cell}, {error}).",
        "en": "Notebook graded; one cell raised an error (cell {cell}, {error}).",
    },
}
"""Forms of the messages whose ``count`` parameter is 1."""

PAGE_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "feedback_title": "Retour de correction", "student": "Étudiant·e", "score": "Note",
        "questions": "Vos points, question par question", "question": "Question",
        "points": "Points", "by_hand": "corrigée à la main",
        "by_hand_pending_list": "Pas encore notées", "comment": "Commentaire du correcteur",
        "known_mistake": "Erreur reconnue", "all_passed": "Tous les tests cachés sont réussis.",
        "pending_note": "Les réponses rédigées sont corrigées à la main : leurs points s'ajouteront à la note.",
        "hints_note": "Ce retour dit ce qui est faux et sur quelle entrée, sans donner les valeurs attendues.",
        "lost": "{points} en moins", "input": "Entrée",
        "question_range": "Questions {first} à {last}",
        "all_values_times": "Toutes vos valeurs valent {factor} fois les valeurs attendues.",
        "all_values_opposite": "Toutes vos valeurs sont l'opposé des valeurs attendues.",
        "cell_errors": "Erreurs dans les cellules", "cell": "Cellule",
        "report_title": "Rapport de classe", "students": "Étudiant·es", "mean": "Moyenne",
        "median": "Médiane", "max_points": "Barème", "distribution": "Distribution des notes",
        "success_by_question": "Réussite par question", "full_marks_share": "Points complets",
        "mistakes": "Erreurs reconnues les plus fréquentes", "mistake": "Erreur",
        "incidents": "Copies en erreur, hors délai de calcul ou invalides", "status": "Statut",
        "message": "Message", "none": "Aucune.", "late": "Rendus en retard", "score_axis": "note",
    },
    "en": {
        "feedback_title": "Grading feedback", "student": "Student", "score": "Score",
        "questions": "Your points, question by question", "question": "Question",
        "points": "Points", "by_hand": "graded by hand",
        "by_hand_pending_list": "Not graded yet", "comment": "Grader's comment",
        "known_mistake": "Known mistake", "all_passed": "Every hidden test passes.",
        "pending_note": "Written answers are graded by hand: their points will be added to the score.",
        "hints_note": "This feedback says what is wrong and on which input, without the expected values.",
        "lost": "{points} lost", "input": "Input",
        "question_range": "Questions {first} to {last}",
        "all_values_times": "All your values are {factor} times the expected ones.",
        "all_values_opposite": "All your values are the opposite of the expected ones.",
        "cell_errors": "Errors in cells", "cell": "Cell",
        "report_title": "Class report", "students": "Students", "mean": "Mean",
        "median": "Median", "max_points": "Maximum", "distribution": "Score distribution",
        "success_by_question": "Success per question", "full_marks_share": "Full marks",
        "mistakes": "Most frequent named mistakes", "mistake": "Mistake",
        "incidents": "Submissions that errored, timed out or were invalid", "status": "Status",
        "message": "Message", "none": "None.", "late": "Late submissions", "score_axis": "score",
    },
}  # fmt: skip

DIFFERENCES: dict[str, dict[str, str]] = {
    "differ_many": {
        "fr": "{component} est faux : {count} valeurs sur {size} diffèrent (écart maximal {gap}).",
        "en": "{component} is wrong: {count} of its {size} values differ (largest gap {gap}).",
    },
    "differ_one": {
        "fr": "{component} est faux : 1 valeur sur {size} diffère (écart {gap}).",
        "en": "{component} is wrong: 1 of its {size} values differs (off by {gap}).",
    },
    "differ_at": {
        "fr": "{where} : attendu {expected}, obtenu {obtained}",
        "en": "{where}: expected {expected}, got {obtained}",
    },
    "differ_more": {"fr": "et {count} autres", "en": "and {count} more"},
}
"""A wrong array shown by what differs: how many values, then the largest gaps."""


def number_text(value: float, lang: str = "fr") -> str:
    """A number as the language writes it: ``1,5`` in French, ``1.5`` in English."""
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "fr" else text


def points_text(value: float, lang: str = "fr") -> str:
    """``1 point``, ``2 points``; French keeps the singular below 2 (``1,5 point``)."""
    singular = abs(value) < 2 if lang == "fr" else value == 1
    return f"{number_text(value, lang)} {'point' if singular else 'points'}"


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
        (r"<cellule (\d+)>", r"<cell \1>"),
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


def _param_text(name: str, value: Any, lang: str, reveal: str) -> Any:
    if isinstance(value, Message):
        return render(value, lang, reveal)
    if isinstance(value, Translated):
        return value.text(lang)
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
        return value if np.isfinite(value) else str(value)
    return str(value)


def _plain_value(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.size <= MAX_KEPT_VALUES:
        flat = [v if np.isfinite(v) else str(v) for v in value.astype(np.float64).ravel().tolist()]
        return {"shape": list(value.shape), "data": flat}
    if isinstance(value, float | int) and not isinstance(value, bool):
        return float(value) if np.isfinite(value) else str(float(value))
    return None


def from_data(data: Any, depth: int = 0) -> Message:
    """The message ``to_data`` stored; raises ValueError on anything else (an edited or
    damaged result), so a reader can fall back to the stored text."""
    if depth > MAX_DATA_DEPTH or not isinstance(data, dict):
        raise ValueError("not a stored message")
    key, params = data.get("key"), data.get("params", {})
    if not isinstance(key, str) or key not in TEMPLATES or not isinstance(params, dict):
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
            shape = tuple(int(n) for n in value["shape"])
            data = np.array([float(v) for v in value["data"]], dtype=np.float64)
            return data.reshape(shape)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return float(value)
    except (KeyError, TypeError, ValueError):
        pass
    return None
