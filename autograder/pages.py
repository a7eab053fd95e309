"""The pages people read: one feedback page per student (HTML and Markdown), and the class report.

Templates live in ``autograder/templates``. Jinja2 escapes every value in the HTML pages,
so nothing a student wrote (names, outputs, error messages) can run in a reader's
browser. The report's plots are drawn with matplotlib and embedded as PNG data.
"""

from __future__ import annotations

import base64
import io
import re
import statistics
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from .feedback import (
    HandGrade,
    assignment_title,
    joined_titles,
    load_settings,
    mistake,
    question_title,
    questions_feedback,
    reveal_for,
    status_text,
)
from .gradebook import Gradebook
from .late import adjusted, load_policy
from .messages import PAGE_LABELS, localized, number_text, points_text

LABELS = PAGE_LABELS  # every label of the pages, in French and English: messages.PAGE_LABELS

_environment = Environment(
    loader=PackageLoader("autograder", "templates"),
    autoescape=select_autoescape(["html", "html.j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|<>&~])")


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def code_spans(value: object) -> Markup:
    """A message for HTML: escaped first, then its Markdown-style `code` spans shown as
    <code> (what is inside them was escaped with the rest)."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(value))))


_environment.filters.update(
    num=number_text, pts=points_text, localized=localized, code_spans=code_spans
)


def markdown_text(value: object) -> str:
    """A value shown as literal text in Markdown: no link, image, HTML or table break."""
    text = str(value).replace("\n", " ")
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text) if isinstance(value, str) else text


_markdown = Environment(
    loader=PackageLoader("autograder", "templates"),
    autoescape=False,
    finalize=markdown_text,
    trim_blocks=True,
    lstrip_blocks=True,
)
_markdown.filters.update(num=number_text, pts=points_text)
COLON = {"fr": " : ", "en": ": "}


def _latest_results(graded: Path) -> tuple[str, list[dict]]:
    gradebook = Gradebook.of_graded(graded)
    try:
        assignment = gradebook.assignment()
        return assignment, gradebook.latest_results(assignment)
    finally:
        gradebook.close()


def _assignment(name: str):
    """The assignment's master (questions, titles), or None when this project lacks it:
    the pages then use the question names stored with the results."""
    from .assignment import load_assignment

    try:
        return load_assignment(name)
    except Exception:  # a graded folder from another course: pages without titles
        return None


def write_feedback(graded: Path, lang: str = "fr", reveal: str | None = None) -> list[Path]:
    """feedback/<student>.html and .md for every student of a graded folder, in ``lang``.

    ``reveal`` (``hints`` or ``values``) defaults to the assignment's setting for graded
    submissions (``feedback.yaml``). Hand-graded points and comments come from the
    gradebook; the score is the one grades.csv and the exports hold, late penalty applied.
    """
    from .class_run import result_path
    from .manual import hand_grades

    gradebook = Gradebook.of_graded(graded)
    try:
        name = gradebook.assignment()
        results = gradebook.latest_results(name)
        by_hand, graded_by_hand = hand_grades(gradebook, name)
    finally:
        gradebook.close()
    assignment = _assignment(name)
    master = assignment.master if assignment is not None else None
    reveal = reveal or reveal_for(master, "graded")
    title = assignment_title(master, lang, load_settings(master)) if master is not None else name
    policy = load_policy(graded)
    folder = graded / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        stem = result_path(folder, result["student_id"]).stem
        grades = {q: HandGrade(*g) for q, g in by_hand.get(result["student_id"], {}).items()}
        questions = questions_feedback(result, assignment, lang, reveal, grades, graded_by_hand)
        hand = [q for q in questions if q.manual and q.score is not None]
        total = result["score"] + sum(q.score for q in hand)
        max_total = result["max_score"] + sum(q.max_score for q in hand if q.manual)
        final, late_note = adjusted({**result, "score": total}, policy, lang)
        context = {
            "result": result, "t": LABELS[lang], "lang": lang, "colon": COLON[lang],
            "final": final, "max_total": max_total, "late_note": late_note,
            "status": status_text(result, lang), "questions": questions, "reveal": reveal,
            "assignment_title": title,
            "pending": joined_titles([q.title for q in questions if q.state == "pending"], lang),
            "all_passed": result["status"] == "graded"
            and all(q.state == "ok" for q in questions if not q.manual),
            "title": f"{result['assignment']} — {result['student_id']}",
        }  # fmt: skip
        html = folder / f"{stem}.html"
        html.write_text(_environment.get_template("feedback.html.j2").render(context), "utf-8")
        markdown = _markdown.get_template("feedback.md.j2").render(context)
        (folder / f"{stem}.md").write_text(markdown, "utf-8")
        written.append(html)
    return written


def write_report(graded: Path, lang: str = "fr") -> Path:
    """report.html: distribution, success per question, named mistakes, incidents."""
    assignment, results = _latest_results(graded)
    t = LABELS[lang]
    scores = [r["score"] for r in results]
    max_score = max(r["max_score"] for r in results)
    names = list(results[0]["questions"])
    master = _assignment(assignment)
    settings = load_settings(master.master) if master is not None else None
    titles = {
        q.name: question_title(q, lang, settings) for q in (master.questions if master else ())
    }
    questions = []
    for name in names:
        earned = [r["questions"][name]["score"] for r in results]
        top = results[0]["questions"][name]["max_score"]
        questions.append({
            "name": titles.get(name, name),
            "mean": statistics.fmean(earned),
            "max": top,
            "full_share": sum(e == top for e in earned) / len(earned),
        })  # fmt: skip
    mistakes = [
        (mistake(m, assignment, lang).title, m, count)
        for m, count in Counter(
            m
            for r in results
            for m in {t_["misconception"] for t_ in r["tests"] if t_["misconception"]}
        ).most_common(10)
    ]
    incidents = [{**r, "message": status_text(r, lang)} for r in results if r["status"] != "graded"]
    policy = load_policy(graded)
    late = [
        {"student_id": r["student_id"], "note": note}
        for r in results
        for _, note in [adjusted(r, policy, lang)]
        if note
    ]
    context = {
        "lang": lang, "t": t, "title": f"{t['report_title']} — {assignment}",
        "assignment": assignment, "students": len(results), "max_score": max_score,
        "mean": statistics.fmean(scores), "median": statistics.median(scores), "questions": questions,
        "mistakes": mistakes, "incidents": incidents, "late": late,
        "distribution_png": _histogram(scores, max_score, t["distribution"], t["score_axis"]),
        "questions_png": _bars([q["name"] for q in questions],
                               [100 * q["full_share"] for q in questions], t["full_marks_share"]),
    }  # fmt: skip
    path = graded / "report.html"
    path.write_text(_environment.get_template("report.html.j2").render(context), "utf-8")
    return path


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _histogram(scores: list[float], max_score: float, title: str, axis: str) -> str:
    figure, axes = plt.subplots(figsize=(6, 3))
    axes.hist(scores, bins=min(20, max(int(max_score), 1)), range=(0, max_score), color="#3b6ea8")
    axes.set_title(title)
    axes.set_xlabel(axis)
    return _png(figure)


def _bars(names: list[str], percents: list[float], title: str) -> str:
    figure, axes = plt.subplots(figsize=(6, 0.4 * len(names) + 1))
    axes.barh(names[::-1], percents[::-1], color="#3b6ea8")
    axes.set_xlim(0, 100)
    axes.set_title(title + " (%)")
    return _png(figure)
