"""Every sentence the grader says to a student, in French (default) and English.

A finding is a ``Message``: a key and its parameters. It is rendered only when shown,
so results stay language-neutral and the same gradebook serves both languages.
"""

from __future__ import annotations

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
    "misconception": {
        "fr": "Erreur reconnue ({id}) : {explanation}",
        "en": "Known mistake ({id}): {explanation}",
    },
    "status_graded": {
        "fr": "Notebook exécuté et corrigé.",
        "en": "Notebook run and graded.",
    },
    "status_graded_with_errors": {
        "fr": "Notebook corrigé ; {count} cellule(s) ont levé une erreur (la première : cellule {cell}, {error}).",
        "en": "Notebook graded; {count} cell(s) raised an error (the first: cell {cell}, {error}).",
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

    def render(self, lang: str = "fr") -> str:
        return render(self, lang)


def render(message: Message, lang: str = "fr") -> str:
    """The message in ``lang``; parameters that are messages are rendered too."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    params = {
        name: render(value, lang) if isinstance(value, Message) else value
        for name, value in message.params.items()
    }
    return TEMPLATES[message.key][lang].format(**params)


def show(value: Any, brief: bool = False) -> str:
    """A short, readable form of a number or an array for feedback.

    ``brief`` names large arrays by their shape only, for the inputs of a call.
    """
    if isinstance(value, np.ndarray):
        if brief and value.size > 6:
            return f"<tableau {value.shape}>"
        if value.size > 12:
            flat = np.array2string(value.ravel()[:12], precision=6, separator=", ")
            return f"{flat[:-1]}, …] (forme {value.shape})"
        return np.array2string(value, precision=6, separator=", ", suppress_small=True)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v, brief)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(show(v, brief) for v in value) + "]"
    return repr(value)
