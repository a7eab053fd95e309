"""Findings as a student reads them: stored as data, rendered in the language asked.

A failed check's verdict is stored as data in the result (``TestResult.messages``: the
``Message``s of ``messages.py``, and the misconception id). It is rendered only when
shown: ``feedback_text`` at grading time, for the engines' reports, and
``questions_feedback`` for the pages, in whatever language ``--lang`` asks.

The pages follow the notebook: one entry per question of the master, titled as in the
master; the named mistake and its explanation first, once per question; then one line
per failed check (which component, on which input, by how much). How much a line
reveals is set per assignment in ``assignments/<name>/feedback.yaml`` (``REVEALS``):
``hints`` (what is wrong and where) or ``values`` (also expected and obtained).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .checks import Verdict
from .course import AssignmentError
from .errors import DlgradeError
from .messages import (
    DIFFERENCES,
    LANGUAGES,
    PAGE_LABELS,
    REVEALS,
    Message,
    Shown,
    Translated,
    component_label,
    from_data,
    localized,
    number_text,
    points_text,
    render,
    score_text,
    to_data,
    written,
)
from .mistakes import Mistake as KnownMistake
from .notebook import InvalidNotebook, read_notebook

SETTINGS_FILE = "feedback.yaml"
DEFAULT_REVEAL = {"graded": "values", "check": "hints"}
"""``graded``: the feedback of a graded submission (its hidden inputs are drawn anew for
each grading, so expected values copied from it are worth nothing on the next one).
``check``: what ``dlgrade check`` shows before the deadline."""


class FeedbackSettingsError(DlgradeError, ValueError):
    """An assignment's feedback.yaml that cannot be used; the message names the file."""


# --- per-assignment settings ------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackSettings:
    """What ``assignments/<name>/feedback.yaml`` says (everything is optional):

    ``reveal: {graded: values, check: hints}``, the assignment's ``title`` and the
    question ``titles`` in the languages the master is not written in
    (``titles: {q3_passe_avant: {en: "3 a. Forward pass"}}``).
    """

    reveal: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_REVEAL))
    title: Mapping[str, str] = field(default_factory=dict)
    titles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def settings_path(master: Path) -> Path:
    return master.parent / SETTINGS_FILE


def load_settings(master: Path) -> FeedbackSettings:
    """The feedback settings beside a master notebook (defaults when there is no file)."""
    path = settings_path(master)
    if not path.is_file():
        return FeedbackSettings()
    return _settings(path, path.stat().st_mtime_ns)


@cache
def _settings(path: Path, _mtime: int) -> FeedbackSettings:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise FeedbackSettingsError(f"{path}: unreadable ({error})") from None
    if not isinstance(data, dict):
        raise FeedbackSettingsError(f"{path}: expected a mapping")
    if not isinstance(data.get("reveal") or {}, dict):
        raise FeedbackSettingsError(f"{path}: 'reveal' maps contexts to levels")
    reveal = {**DEFAULT_REVEAL, **(data.get("reveal") or {})}
    for context, level in reveal.items():
        if context not in DEFAULT_REVEAL or level not in REVEALS:
            raise FeedbackSettingsError(
                f"{path}: reveal.{context}: {level!r} (contexts: {', '.join(DEFAULT_REVEAL)}; "
                f"levels: {', '.join(REVEALS)})"
            )
    title = data.get("title") or {}
    titles = data.get("titles") or {}
    if not isinstance(title, dict) or not isinstance(titles, dict):
        raise FeedbackSettingsError(f"{path}: 'title' and 'titles' map languages to texts")
    if not all(isinstance(t, dict) for t in titles.values()):
        raise FeedbackSettingsError(f"{path}: each of 'titles' maps languages to a title")
    return FeedbackSettings(
        reveal,
        {str(k): str(v) for k, v in title.items()},
        {str(q): {str(k): str(v) for k, v in t.items()} for q, t in titles.items()},
    )


def reveal_for(master: Path | None, context: str = "graded") -> str:
    """The reveal level of an assignment (by its master notebook) in ``context``:
    ``graded`` (grading and its pages) or ``check`` (``dlgrade check``)."""
    if master is None:
        return DEFAULT_REVEAL[context]
    return load_settings(master).reveal[context]


# --- titles from the master notebook ----------------------------------------------------

_BOLD_LEAD = re.compile(r"^\s*\*\*(?P<title>[^*\n]+?)\*\*")
_HEADING = re.compile(r"^\s*#\s+(?P<title>.+)$", re.M)


def question_title(question: Any, lang: str, settings: FeedbackSettings | None = None) -> str:
    """A question's title: the one ``feedback.yaml`` gives in ``lang``, else the bold lead
    of its prompt in the master (``**3 a. Passe avant.**`` gives ``3 a. Passe avant``)."""
    translated = (settings.titles.get(question.name) or {}).get(lang) if settings else None
    if translated:
        return translated
    match = _BOLD_LEAD.match(question.prompt or "")
    if match:
        return match["title"].strip().rstrip(".:").strip()
    first = next(
        (line.strip() for line in (question.prompt or "").splitlines() if line.strip()), ""
    )
    return first[:80] or question.name


def assignment_title(master: Path, lang: str, settings: FeedbackSettings | None = None) -> str:
    """The assignment's title: ``feedback.yaml``'s in ``lang``, else the master's first heading."""
    if settings and settings.title.get(lang):
        return settings.title[lang]
    return _master_heading(master) or master.stem


@cache
def _master_heading(master: Path) -> str:
    try:
        cells = read_notebook(master.read_bytes())["cells"]
    except (OSError, InvalidNotebook):  # a title is a nicety: an unreadable master gives none
        return ""
    for cell in cells:
        if cell["cell_type"] == "markdown":
            match = _HEADING.search(cell["source"])
            if match:
                return match["title"].strip()
    return ""


# --- one finding --------------------------------------------------------------------------


def finding(verdict: Verdict) -> tuple[dict[str, Any], ...]:
    """A verdict's messages as stored data (the misconception id is stored beside them)."""
    return tuple(to_data(message) for message in verdict.messages)


def feedback_text(
    assignment: str, verdict: Verdict, lang: str = "fr", reveal: str = "values"
) -> str:
    """The findings of one check as plain text, then the explanation of the known mistake
    if one matched (for the engines' reports: otter's, Gradescope's)."""
    lines = [finding_parts(verdict.messages, lang, reveal).plain(lang)]
    known = _known_mistake(assignment, verdict.misconception) if verdict.misconception else None
    if known:
        explanation = known.explain(lang)
        lines.append(
            render(
                Message("misconception", {"id": verdict.misconception, "explanation": explanation}),
                lang,
            )
        )
    return "\n".join(line for line in lines if line)


@dataclass
class Finding:
    """What one failed check says: what is wrong, the entries that differ, a note (the
    factor every entry is off by), and the input it was found on."""

    text: str
    points: float = 0.0  # the points it costs
    details: list[str] = field(default_factory=list)
    note: str = ""
    input: str = ""
    input_in_words: bool = False  # else ``input`` is the call, shown as code

    def lost(self, lang: str) -> str:
        return PAGE_LABELS[lang]["lost"].format(points=points_text(self.points, lang))

    def plain(self, lang: str, with_input: bool = True) -> str:
        """The finding on one line (LMS comment fields, otter's report)."""
        separator = " ; " if lang == "fr" else "; "
        details = f" {separator.join(self.details)}." if self.details else ""
        where = ""
        if self.input and with_input:
            where = " " + render(Message("on_input", {"input": self.input}), lang)
        return f"{self.text}{details}{' ' + self.note if self.note else ''}{where}".strip()


def _sentence(text: str) -> str:
    """A finding's part as a sentence, so that the next one does not read as its sequel
    (an error message ends with ``(ligne 4)``, not with a full stop)."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?…:;" else text + "."


def finding_parts(
    messages: Sequence[Message], lang: str, reveal: str = "values", said: set[str] | None = None
) -> Finding:
    """One failed check, said for a student: what is wrong, on which input, by how much.
    A long array is shown by the entries that differ; a long call is shortened. A remark
    in ``said`` (what the same page already told, under the same question) is not
    repeated after what is wrong; the remarks made here are added to it."""
    found = Finding("")
    texts = []
    for message in messages:
        if message.key == "misconception":
            continue  # the page names the mistake once, above the question's lines
        message = written(message)
        if message.key == "on_input":
            described = message.params.get("input")
            if isinstance(described, Translated):
                found.input, found.input_in_words = described.text(lang), True
            elif isinstance(described, str):
                found.input = localized(short_call(described), lang)
            continue
        if message.key == "raised" and isinstance(message.params.get("call"), str):
            message = Message(
                "raised", {**message.params, "call": short_call(message.params["call"])}
            )
        if message.key == "wrong_value" and reveal == "values":
            try:
                parts = differences(message, lang)
            except (ValueError, TypeError, IndexError, ArithmeticError):
                parts = None  # values it cannot compare: the message says it all itself
            if parts:
                head, found.details, found.note = parts
                texts.append(head)
                continue
        texts.append(render(message, lang, reveal))
    if said is not None:
        remarks = texts[1:]
        texts = texts[:1] + [text for text in remarks if text not in said]
        said.update(remarks)
    found.text = " ".join(_sentence(text) for text in texts)
    return found


def finding_text(messages: Sequence[Message], lang: str, reveal: str = "values") -> str:
    """``finding_parts`` on one line."""
    return finding_parts(messages, lang, reveal).plain(lang)


SHORT_CALL = 160
_OPENERS = {"(": ")", "[": "]", "{": "}"}


def short_call(text: str, limit: int = SHORT_CALL) -> str:
    """A call's text cut to about ``limit`` characters: the longest bracketed arguments are
    shortened first, dictionaries keeping their keys (``{Wh: …, bh: …}``)."""
    text = str(text)
    first = text.find("(")
    while len(text) > limit:
        spans = [(o, c) for o, c in _bracket_spans(text) if o > first and c - o - 1 > 8]
        spans = [(o, c) for o, c in spans if text[o + 1 : c] not in ("…",)]
        if not spans:
            break
        opening, closing = max(spans, key=lambda span: span[1] - span[0])
        inner = text[opening + 1 : closing]
        shorter = _keys_only(inner) if text[opening] == "{" else "…"
        if shorter == inner or len(shorter) >= len(inner):
            shorter = "…"
        text = text[: opening + 1] + shorter + text[closing:]
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "…"


def _bracket_spans(text: str) -> list[tuple[int, int]]:
    spans, stack = [], []
    for index, char in enumerate(text):
        if char in _OPENERS:
            stack.append((char, index))
        elif stack and char == _OPENERS[stack[-1][0]]:
            spans.append((stack.pop()[1], index))
    return spans


def _keys_only(inner: str) -> str:
    """``Wh: [..], bh: [..]`` as ``Wh: …, bh: …`` (only at the top level of the braces)."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(inner):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(inner[start:index])
            start = index + 1
    items.append(inner[start:])
    keys = [item.split(":", 1)[0].strip() for item in items if ":" in item]
    return ", ".join(f"{key}: …" for key in keys) if len(keys) == len(items) else "…"


MAX_SHOWN_DIFFERENCES = 3


def differences(message: Message, lang: str) -> tuple[str, list[str], str] | None:
    """A ``wrong_value`` on arrays, said by what differs: the sentence (how many entries,
    the largest gap), the largest differences with their index, and a note when every
    entry is off by the same factor. None when the message holds no arrays to compare
    (it is then rendered as it is)."""
    expected, obtained = (message.params.get(k) for k in ("expected", "obtained"))
    if not (isinstance(expected, Shown) and isinstance(obtained, Shown)):
        return None
    wanted, got = expected.value, obtained.value
    if not (isinstance(wanted, np.ndarray) and isinstance(got, np.ndarray)):
        return None
    if wanted.shape != got.shape or wanted.size < 2:
        return None
    component = localized(component_label(str(message.params.get("component", ""))), lang)
    factor = _common_factor(wanted, got)
    note = ""
    square = wanted.ndim == 2 and wanted.shape[0] == wanted.shape[1]
    if square and np.allclose(got.T, wanted, rtol=1e-6, atol=1e-9):
        note = PAGE_LABELS[lang]["all_values_transposed"]
    elif factor == -1:
        note = PAGE_LABELS[lang]["all_values_opposite"]
    elif factor is not None:
        note = PAGE_LABELS[lang]["all_values_times"].format(factor=number_text(factor, lang))
    if wanted.size <= 6:
        return render(message, lang), [], note
    with np.errstate(invalid="ignore"):
        wrong = ~np.isclose(got, wanted, rtol=1e-6, atol=1e-9, equal_nan=True)
    count = int(wrong.sum())
    if count == 0:
        return None
    with np.errstate(invalid="ignore"):
        gaps = np.nan_to_num(np.abs(got - wanted), nan=np.inf, posinf=np.inf).ravel()
    differing = np.flatnonzero(wrong.ravel())
    order = np.argsort(-gaps[differing], kind="stable")
    largest = sorted(differing[order][:MAX_SHOWN_DIFFERENCES])
    entries = _sampled_entries(message, wanted.size)
    shown = []
    for flat in largest:
        index = np.unravel_index(flat, wanted.shape)
        named = entries[flat] if entries else index
        where = f"{component}[{', '.join(str(int(i)) for i in named)}]"
        shown.append(
            DIFFERENCES["differ_at"][lang].format(
                where=where, expected=_number(wanted[index]), obtained=_number(got[index])
            )
        )
    if count > len(shown):
        shown.append(DIFFERENCES["differ_more"][lang].format(count=count - len(shown)))
    key = ("differ_one" if count == 1 else "differ_many") + ("_sampled" if entries else "")
    head = DIFFERENCES[key][lang].format(
        component=component, count=count, size=wanted.size, gap=message.params.get("gap", "?")
    )
    return head, shown, note


def _sampled_entries(message: Message, size: int) -> list[tuple[int, ...]] | None:
    """The indices, in the whole array, of a sampled answer's values (``checks.matches_sample``
    says which entries and of what shape); None for a whole answer."""
    shape, positions = message.params.get("sampled_from"), message.params.get("sampled_at")
    if not (isinstance(shape, str) and isinstance(positions, str)):
        return None
    dims = tuple(int(n) for n in shape.split("×"))
    flat = [int(p) for p in positions.split()]
    if len(flat) != size or any(not 0 <= p < math.prod(dims) for p in flat):
        return None
    return [tuple(int(i) for i in np.unravel_index(p, dims)) for p in flat]


def _number(value: float) -> str:
    return f"{float(value):.6g}"


def _common_factor(wanted: np.ndarray, got: np.ndarray) -> float | None:
    """k when every obtained entry is k times the expected one (k ≠ 1), else None: a
    missing 1/n or a flipped sign shows at once."""
    if not (np.all(np.isfinite(wanted)) and np.all(np.isfinite(got))):
        return None
    scale = np.max(np.abs(wanted))
    nonzero = np.abs(wanted) > 1e-9 * max(scale, 1e-300)
    if nonzero.sum() < 2:
        return None
    ratios = got[nonzero] / wanted[nonzero]
    factor = float(np.median(ratios))
    if not np.allclose(ratios, factor, rtol=1e-6) or np.isclose(factor, 1.0, rtol=1e-6):
        return None
    if not np.allclose(got[~nonzero], 0.0, atol=1e-9 * max(scale, 1e-300)):
        return None
    return float(f"{factor:.6g}")


# --- a whole result, question by question ----------------------------------------------


@dataclass
class NamedMistake:
    id: str
    title: str
    explanation: str
    counted_once: str = ""  # what it costs the question, when counted once (mistakes.counted_once)


@dataclass
class QuestionFeedback:
    """One question of the notebook, as its feedback shows it."""

    name: str
    title: str
    manual: bool
    score: float | None  # None: graded by hand, not graded yet
    max_score: float
    mistakes: list[NamedMistake] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    comment: str = ""
    functions: list[str] = field(default_factory=list)  # the notebook's functions it grades
    tests_score: float | None = None  # the checks' points, when the instructor gave others

    @property
    def state(self) -> str:
        if self.score is None:
            return "pending"
        return "ok" if self.score >= self.max_score else "ko"

    @property
    def passed_by_tests(self) -> bool:
        """Every hidden test of the question passed: points given on appeal aside."""
        tests = self.score if self.tests_score is None else self.tests_score
        return tests is not None and tests >= self.max_score

    @property
    def by_input(self) -> list[tuple[str, list[Finding]]]:
        """The findings grouped by the input they were found on (in the order of the
        first finding of each): the input is said once, above its findings."""
        groups: dict[str, list[Finding]] = {}
        for found in self.findings:
            groups.setdefault(found.input, []).append(found)
        return list(groups.items())


@dataclass(frozen=True)
class HandGrade:
    points: float
    max_points: float
    comment: str = ""


def mistake(misconception: str, assignment: str, lang: str) -> NamedMistake:
    """A named mistake's title and explanation in ``lang``, from the assignment's current
    ``mistakes.py``; one since removed (or an assignment since removed) is named, not
    explained."""
    known = _known_mistake(assignment, misconception)
    if known is None:
        return NamedMistake(misconception, PAGE_LABELS[lang]["known_mistake"], "")
    return NamedMistake(misconception, known.name(lang), known.explain(lang))


def _known_mistake(assignment: str, misconception: str) -> KnownMistake | None:
    from .judging import mistake as known_mistake

    try:
        return known_mistake(assignment, misconception)
    except AssignmentError:
        return None


def check_finding(
    test: Mapping[str, Any], lang: str, reveal: str, said: set[str] | None = None
) -> Finding:
    """A stored check's finding in ``lang`` (``said``: as ``finding_parts``); a result
    stored before findings were data gives its rendered ``feedback`` (without the
    mistake, which the page names above)."""
    try:
        messages = [from_data(data) for data in test.get("messages") or []]
        if messages:
            return finding_parts(messages, lang, reveal, said)
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    lines = str(test.get("feedback") or "").splitlines()
    kept = [line for line in lines if not line.startswith(("Erreur reconnue (", "Known mistake ("))]
    return Finding(" ".join(kept))


def status_text(result: Mapping[str, Any], lang: str) -> str:
    """The result's status line in ``lang`` (the stored text for an older result)."""
    try:
        if result.get("status_message"):
            return render(from_data(result["status_message"]), lang)
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    return str(result.get("message") or "")


def needs_attention(result: Mapping[str, Any]) -> bool:
    """Whether an instructor should look at a result: not graded to the end, or graded
    with an incident (a check the grader could not judge, whose traceback it keeps)."""
    return result.get("status") != "graded" or bool(result.get("incident"))


def attention_text(result: Mapping[str, Any], lang: str) -> str:
    """A result's line in an incidents list: its status, then the checks the grader could
    not judge, if any (a graded result's status alone would not say what is wrong)."""
    unjudged = [
        str(test.get("name"))
        for test in result.get("tests") or []
        if any(m.get("key") == "check_internal_error" for m in test.get("messages") or [])
    ]
    text = status_text(result, lang)
    if unjudged:
        text += " " + PAGE_LABELS[lang]["unjudged"].format(checks=", ".join(unjudged))
    return text


def questions_feedback(
    result: Mapping[str, Any],
    assignment: Any | None,
    lang: str = "fr",
    reveal: str = "values",
    hand_grades: Mapping[str, HandGrade] | None = None,
    overrides: Mapping[str, tuple[float, str]] | None = None,
) -> list[QuestionFeedback]:
    """Every question of a normalized result, in the master's order, with its findings.

    ``assignment`` is the ``assignment.Assignment`` (None if its master is gone: the
    stored question names serve as titles). ``hand_grades`` holds this student's points
    and comments by question; a question graded by hand without this student's points is
    not graded yet, for them as for grades.csv and the exports, even when classmates
    have theirs: the page must not tell a 0 that nobody gave. ``overrides`` holds the
    points and comment the instructor gave an autograded question on appeal: the question
    shows them, with the checks' own points and findings.
    """
    if lang not in LANGUAGES or reveal not in REVEALS:
        raise ValueError(f"unknown language {lang!r} or reveal level {reveal!r}")
    hand_grades = hand_grades or {}
    settings = load_settings(assignment.master) if assignment is not None else None
    by_question: dict[str, list[Mapping[str, Any]]] = {}
    for test in result.get("tests") or []:
        by_question.setdefault(test["question"], []).append(test)
    stored = result.get("questions") or {}
    questions = list(assignment.questions) if assignment is not None else []
    known = {q.name for q in questions}
    views = []
    for question in questions:
        title = question_title(question, lang, settings)
        if question.manual:
            grade = hand_grades.get(question.name)
            views.append(
                QuestionFeedback(
                    question.name,
                    title,
                    True,
                    grade.points if grade else None,
                    grade.max_points if grade else question.points,
                    comment=grade.comment if grade else "",
                )
            )
        else:
            view = _autograded(question.name, title, by_question, stored, result, lang, reveal)
            view.functions = question_functions(assignment.name, question)
            if question.name in (overrides or {}):
                view.tests_score = view.score
                view.score, view.comment = overrides[question.name]
            views.append(view)
    for name in stored:
        if name not in known:  # a question since removed from the master
            views.append(_autograded(name, name, by_question, stored, result, lang, reveal))
    return views


def _autograded(
    name: str,
    title: str,
    by_question: Mapping[str, list[Mapping[str, Any]]],
    stored: Mapping[str, Any],
    result: Mapping[str, Any],
    lang: str,
    reveal: str,
) -> QuestionFeedback:
    tests = by_question.get(name, [])
    points = stored.get(name) or {}
    score = points.get("score", sum(t["score"] for t in tests))
    max_score = points.get("max_score", sum(t["max_score"] for t in tests))
    view = QuestionFeedback(name, title, False, score, max_score)
    failed = [test for test in tests if not test["passed"]]
    # partly kept points: the question's one known mistake was counted once
    once = any(0 < test["score"] < test["max_score"] for test in failed)
    seen_mistakes, said = set(), set()
    for test in failed:
        if test.get("misconception") and test["misconception"] not in seen_mistakes:
            seen_mistakes.add(test["misconception"])
            named = mistake(test["misconception"], result["assignment"], lang)
            if once:
                cost = sum(t["max_score"] - t["score"] for t in failed)
                named.counted_once = PAGE_LABELS[lang]["counted_once"].format(
                    points=points_text(round(cost, 6), lang)
                )
            view.mistakes.append(named)
        if _not_run(test):
            continue  # the status at the top of the page says why nothing was graded
        found = check_finding(test, lang, reveal, said)
        found.points = test["max_score"] - test["score"]
        same = next((f for f in view.findings if f.plain(lang) == found.plain(lang)), None)
        if same:
            same.points += found.points
        elif found.text:
            view.findings.append(found)
    return view


_NUMBERED = re.compile(r"^Question (\d+)$")


def joined_titles(titles: Sequence[str], lang: str) -> str:
    """Titles in a sentence, runs of numbered ones as a range: ``Questions 1 à 13, Question 15``."""
    runs: list[list[Any]] = []
    for title in titles:
        match = _NUMBERED.match(title)
        number = int(match[1]) if match else None
        if number is not None and runs and runs[-1][0] is not None and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number, title])
    parts = []
    for first, last, title in runs:
        if first is None or first == last:
            parts.append(title)
        elif last == first + 1:
            parts += [f"Question {first}", f"Question {last}"]
        else:
            parts.append(PAGE_LABELS[lang]["question_range"].format(first=first, last=last))
    return ", ".join(parts)


def question_functions(assignment: str, question: Any) -> list[str]:
    """The notebook functions a question asks for: those its checks call that its prompt
    names as a call (``backward(...)``, not the ``forward`` a gradient check also uses)."""
    from .judging import checks_for

    try:
        checks = checks_for(assignment)
        calls = [call for scored in question.checks for call in checks[scored.id].calls]
    except (KeyError, AssignmentError):
        return []
    functions = list(dict.fromkeys(call.function for call in calls))
    asked = [f for f in functions if f"`{f}(" in (question.prompt or "")]
    return asked or functions[:1]


def _not_run(test: Mapping[str, Any]) -> bool:
    messages = test.get("messages") or []
    if messages:
        return isinstance(messages[0], dict) and messages[0].get("key") == "not_run"
    return str(test.get("feedback") or "").startswith(("Non évalué", "Not evaluated"))


def summary_text(questions: Sequence[QuestionFeedback], lang: str) -> str:
    """The questions that lost points, on one line, with their named mistakes: for the
    LMS comment fields next to the score (``Passe arrière : 0 / 6 points (Gradients non
    divisés par n)``)."""
    colon = " : " if lang == "fr" else ": "
    parts = []
    for question in questions:
        if question.state != "ko":
            continue
        score = (
            f"{score_text(question.score or 0.0, lang)} / {points_text(question.max_score, lang)}"
        )
        named = ", ".join(m.title for m in question.mistakes)
        parts.append(f"{question.title}{colon}{score}{f' ({named})' if named else ''}")
    return ". ".join(parts) + ("." if parts else "")


def check_outputs(
    result: Mapping[str, Any], assignment: Any | None, lang: str, reveal: str
) -> list[tuple[str, str]]:
    """(name, text) of each stored check, for the engines' per-test outputs (Gradescope):
    named after its question's title (``Passe arrière (2/5)``), its text the named
    mistake, then the finding; empty for a check that passed."""
    settings = load_settings(assignment.master) if assignment is not None else None
    titles = {
        q.name: question_title(q, lang, settings)
        for q in (assignment.questions if assignment else ())
    }
    tests = [t for t in result.get("tests") or [] if isinstance(t, Mapping)]
    totals: dict[str, int] = {}
    for test in tests:
        totals[str(test.get("question"))] = totals.get(str(test.get("question")), 0) + 1
    seen: dict[str, int] = {}
    outputs = []
    for test in tests:
        question = str(test.get("question"))
        seen[question] = seen.get(question, 0) + 1
        title = titles.get(question, question)
        name = f"{title} ({seen[question]}/{totals[question]})" if totals[question] > 1 else title
        if test.get("passed") is True:
            outputs.append((name, ""))
            continue
        lines = []
        if isinstance(test.get("misconception"), str):
            named = mistake(test["misconception"], str(result.get("assignment")), lang)
            lines.append(f"{named.title}. {named.explanation}".strip())
        lines.append(check_finding(test, lang, reveal).plain(lang))
        outputs.append((name, "\n".join(line for line in lines if line)))
    return outputs
