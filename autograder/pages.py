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

from .gradebook import Gradebook
from .late import adjusted, load_policy

LABELS = {
    "fr": {
        "feedback_title": "Retour de correction", "student": "Étudiant·e", "score": "Note",
        "by_question": "Points par question", "question": "Question", "points": "Points",
        "points_lower": "points", "to_fix": "Ce qui ne va pas encore", "cell": "cellule",
        "all_passed": "Tous les tests cachés sont réussis.", "cell_errors": "Erreurs dans les cellules",
        "report_title": "Rapport de classe", "students": "Étudiant·es", "mean": "Moyenne",
        "median": "Médiane", "max_points": "Barème", "distribution": "Distribution des notes",
        "success_by_question": "Réussite par question", "full_marks_share": "Points complets",
        "mistakes": "Erreurs reconnues les plus fréquentes", "mistake": "Erreur",
        "incidents": "Copies en erreur, hors délai de calcul ou invalides", "status": "Statut",
        "message": "Message", "none": "Aucune.", "late": "Rendus en retard",
    },
    "en": {
        "feedback_title": "Grading feedback", "student": "Student", "score": "Score",
        "by_question": "Points per question", "question": "Question", "points": "Points",
        "points_lower": "points", "to_fix": "What is not right yet", "cell": "cell",
        "all_passed": "Every hidden test passes.", "cell_errors": "Errors in cells",
        "report_title": "Class report", "students": "Students", "mean": "Mean",
        "median": "Median", "max_points": "Maximum", "distribution": "Score distribution",
        "success_by_question": "Success per question", "full_marks_share": "Full marks",
        "mistakes": "Most frequent named mistakes", "mistake": "Mistake",
        "incidents": "Submissions that errored, timed out or were invalid", "status": "Status",
        "message": "Message", "none": "None.", "late": "Late submissions",
    },
}  # fmt: skip

_environment = Environment(
    loader=PackageLoader("autograder", "templates"),
    autoescape=select_autoescape(["html", "html.j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|<>&~])")


def markdown_text(value: object) -> str:
    """A value shown as literal text in Markdown: no link, image, HTML or table break."""
    text = str(value).replace("\n", " ")
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text) if isinstance(value, str) else text


_markdown = Environment(
    loader=PackageLoader("autograder", "templates"), autoescape=False, finalize=markdown_text
)


def _latest_results(graded: Path) -> tuple[str, list[dict]]:
    gradebook = Gradebook.of_graded(graded)
    try:
        assignment = gradebook.assignment()
        return assignment, gradebook.latest_results(assignment)
    finally:
        gradebook.close()


def write_feedback(graded: Path, lang: str = "fr") -> list[Path]:
    """feedback/<student>.html and .md for every student of a graded folder."""
    from .class_run import result_path

    _, results = _latest_results(graded)
    policy = load_policy(graded)
    folder = graded / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        stem = result_path(folder, result["student_id"]).stem
        final, late_note = adjusted(result, policy, lang)
        context = {"result": result, "t": LABELS[lang], "lang": lang, "final": final,
                   "late_note": late_note,
                   "title": f"{result['assignment']} — {result['student_id']}"}  # fmt: skip
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
    questions = []
    for name in names:
        earned = [r["questions"][name]["score"] for r in results]
        top = results[0]["questions"][name]["max_score"]
        questions.append({
            "name": name,
            "mean": statistics.fmean(earned),
            "max": top,
            "full_share": sum(e == top for e in earned) / len(earned),
        })  # fmt: skip
    mistakes = Counter(
        m
        for r in results
        for m in {t_["misconception"] for t_ in r["tests"] if t_["misconception"]}
    ).most_common(10)
    incidents = [r for r in results if r["status"] != "graded"]
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
        "distribution_png": _histogram(scores, max_score, t["distribution"]),
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


def _histogram(scores: list[float], max_score: float, title: str) -> str:
    figure, axes = plt.subplots(figsize=(6, 3))
    axes.hist(scores, bins=min(20, max(int(max_score), 1)), range=(0, max_score), color="#3b6ea8")
    axes.set_title(title)
    axes.set_xlabel("score")
    return _png(figure)


def _bars(names: list[str], percents: list[float], title: str) -> str:
    figure, axes = plt.subplots(figsize=(6, 0.4 * len(names) + 1))
    axes.barh(names[::-1], percents[::-1], color="#3b6ea8")
    axes.set_xlim(0, 100)
    axes.set_title(title + " (%)")
    return _png(figure)
