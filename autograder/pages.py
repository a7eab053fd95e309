"""The pages people read: one feedback page per student (HTML and Markdown), and the class report.

Templates live in ``autograder/templates``. Jinja2 escapes every value in the HTML pages,
so nothing a student wrote (names, outputs, error messages) can run in a reader's
browser. The report's plots are drawn with matplotlib and embedded as PNG data.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from .feedback import (
    HandGrade,
    assignment_title,
    attention_text,
    joined_titles,
    load_settings,
    mistake,
    needs_attention,
    question_title,
    questions_feedback,
    reveal_for,
    status_text,
)
from .final_grade import ClassGrades, final_grade, load_class
from .late import LatePolicy
from .messages import PAGE_LABELS, error_text, points_text, score_text
from .submissions import GROUP_PREFIX

LABELS = PAGE_LABELS  # every label of the pages, in French and English: messages.PAGE_LABELS

_environment = Environment(
    loader=PackageLoader("autograder", "templates"),
    autoescape=select_autoescape(["html", "html.j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_MARKDOWN_SPECIALS = re.compile(r"[\\`*\[\]#+|<>&~]|(?<![^\W_])_+|_+(?![^\W_])")
"""What CommonMark (and GFM's tables and strike-through) could read as markup in a line
of text: ``(`` ``)`` and ``!`` only count after a ``]``, which is escaped, and a run of
``_`` between two letters or digits never opens emphasis, so ``init_params`` stays as it
is (a plain-text comment field shows every backslash)."""


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def code_spans(value: object) -> Markup:
    """A message for HTML: escaped first, then its Markdown-style `code` spans shown as
    <code> (what is inside them was escaped with the rest)."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(value))))


_environment.filters.update(
    num=score_text, pts=points_text, error_text=error_text, code_spans=code_spans
)


def markdown_text(value: object) -> str:
    """A value shown as literal text in Markdown: no link, image, HTML or table break. Its
    `code` spans stay code spans (inert: CommonMark shows their content as it is), as
    ``code_spans`` shows them in HTML."""
    text = str(value).replace("\n", " ")
    if not isinstance(value, str):
        return text
    return "".join(  # split: text, code, text, code, ..., text
        f"`{part}`" if index % 2 else _MARKDOWN_SPECIALS.sub(_escaped, part)
        for index, part in enumerate(_CODE_SPAN.split(text))
    )


def _escaped(found: re.Match[str]) -> str:
    return "".join("\\" + c for c in found[0])


_markdown = Environment(
    loader=PackageLoader("autograder", "templates"),
    autoescape=False,
    finalize=markdown_text,
    trim_blocks=True,
    lstrip_blocks=True,
)
_markdown.filters.update(num=score_text, pts=points_text)
COLON = {"fr": " : ", "en": ": "}


def _assignment(name: str):
    """The assignment's master (questions, titles), or None when this project lacks it:
    the pages then use the question names stored with the results."""
    from .assignment import load_assignment

    try:
        return load_assignment(name)
    except Exception:  # a graded folder from another course: pages without titles
        return None


def outdated_pages(graded: Path) -> str | None:
    """The line to print when a folder's grades change (a new notebook graded, hand points
    imported) and its pages, written before, still show the old ones; None without pages.
    For Canvas and Blackboard, the pages are the students' only feedback."""
    written = [p.name for p in (graded / "feedback", graded / "report.html") if p.exists()]
    if not written:
        return None
    return (
        f"{' and '.join(written)} in {graded} show the grades as they were before: run "
        "dlgrade feedback and dlgrade report again"
    )


def write_feedback(graded: Path, lang: str = "fr", reveal: str | None = None) -> list[Path]:
    """feedback/<student>.html and .md for every student of a graded folder, in ``lang``:
    a group's page is written once under the group's id and once under each member's.
    An id that is not a plain file name (an email, a group) gets a safe name of its own
    (``student_file_name``), so ``feedback/index.csv`` maps every id to its page.

    ``reveal`` (``hints`` or ``values``) defaults to the assignment's setting for graded
    submissions (``feedback.yaml``). Hand-graded points and comments come from the
    gradebook; the score is the one grades.csv and the exports hold, late penalty applied.
    """
    from .class_run import result_path

    graded_class = load_class(graded)
    folder = graded / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    index = []
    for result in graded_class.results:
        submitter = result["student_id"]
        grades = graded_class.hand.get(submitter, {})
        group = graded_class.sharers(submitter)
        context = feedback_context(result, grades, graded_class.started(), graded_class.policy,
                                   lang, reveal, shared_with=group,
                                   overrides=graded_class.overrides.get(submitter),
                                   excused=graded_class.excused.get(submitter),
                                   time_unknown=graded_class.grades[submitter].time_unknown)  # fmt: skip
        # the submission's page, then one per member: an LMS (Canvas, Blackboard) takes a
        # page per student, and a member should not have to know the group's file name
        for reader in (submitter, *group):
            stem = result_path(folder, reader).stem
            page = {**context, "reader": reader, "title": f"{result['assignment']} — {reader}"}
            html = folder / f"{stem}.html"
            html.write_text(_environment.get_template("feedback.html.j2").render(page), "utf-8")
            (folder / f"{stem}.md").write_text(render_markdown(page), "utf-8")
            written.append(html)
            index.append(
                (reader, "" if reader == submitter else submitter, html.name, f"{stem}.md")
            )
    write_index(folder / INDEX, ("student_id", "graded_as", "html", "markdown"), index)
    return written


INDEX = "index.csv"
"""The file, in ``feedback/`` and ``results/``, mapping each student id to its files."""


def write_index(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A CSV mapping student ids to the files named after them, sorted by id; ids that a
    spreadsheet would read as formulas are neutralised, as in grades.csv."""
    from .spreadsheet import safe

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe(row[0]), safe(row[1]), *row[2:]] for row in sorted(rows))
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _group_note(submitter: str, shared_with: Sequence[str], lang: str) -> str:
    """Who shares this grade: a named group (``group:G1``) and its members; a group
    submitted under a member's id (Gradescope's, which has no name) is no group name, and
    that member is one of those who share the grade."""
    if not shared_with:
        return ""
    if submitter.startswith(GROUP_PREFIX):
        group = submitter.removeprefix(GROUP_PREFIX)
        return LABELS[lang]["group_grade"].format(group=group, members=", ".join(shared_with))
    members = ", ".join(sorted({submitter, *shared_with}))
    return LABELS[lang]["group_submission_grade"].format(members=members)


def feedback_context(
    result: dict,
    grades: dict[str, tuple[float, float, str]],
    graded_by_hand: dict[str, float],
    policy: LatePolicy | None,
    lang: str = "fr",
    reveal: str | None = None,
    shared_with: Sequence[str] = (),
    overrides: Mapping[str, tuple[float, str]] | None = None,
    excused: str | None = None,
    time_unknown: bool = False,
) -> dict:
    """What ``feedback.html.j2`` and ``feedback.md.j2`` show of one normalized result:
    one student's page, for ``write_feedback`` and the web application alike. ``grades``
    are this student's hand grades and ``graded_by_hand`` the class's hand-graded questions
    with their maximum (``manual.hand_grades``); ``shared_with``, the group's members
    whose grade this is (``ClassGrades.sharers``); ``overrides``, the points given on
    appeal (``Gradebook.overrides``); ``excused``, the instructor's comment when the
    student is excused (``Gradebook.excused``): the page then says so, and has no grade;
    ``time_unknown``, a late policy applies but this student has no time (said on the page,
    as ``FinalGrade.time_unknown``)."""
    assignment = _assignment(result["assignment"])
    master = assignment.master if assignment is not None else None
    reveal = reveal or reveal_for(master, "graded")
    title = (
        assignment_title(master, lang, load_settings(master))
        if master is not None
        else result["assignment"]
    )
    hand_graded = {q: HandGrade(*g) for q, g in grades.items()}
    questions = questions_feedback(result, assignment, lang, reveal, hand_graded, overrides)
    manual = {q.name: q.points for q in assignment.questions if q.manual} if assignment else {}
    grade = final_grade(result, grades, {**manual, **graded_by_hand}, policy, overrides,
                        excused is not None, time_unknown)  # as class_grades  # fmt: skip
    return {
        "result": result, "t": LABELS[lang], "lang": lang, "colon": COLON[lang],
        "final": grade.score, "max_total": grade.max_score, "late_note": grade.late_note(lang),
        "status": status_text(result, lang), "questions": questions, "reveal": reveal,
        "assignment_title": title, "excused": excused is not None, "excuse_comment": excused or "",
        "pending": "" if excused is not None  # no points will be added to no grade
        else joined_titles([q.title for q in questions if q.state == "pending"], lang),
        "all_passed": result["status"] == "graded"
        and all(q.passed_by_tests for q in questions if not q.manual),
        "title": f"{result['assignment']} — {result['student_id']}",
        "group_note": _group_note(result["student_id"], shared_with, lang),
    }  # fmt: skip


def render_markdown(context: dict) -> str:
    """A feedback page's Markdown (``feedback_context``): the .md page and LMS comments."""
    return _markdown.get_template("feedback.md.j2").render(context)


def write_report(graded: Path, lang: str = "fr") -> Path:
    """report.html: distribution, success per question, named mistakes, incidents."""
    graded_class = load_class(graded)
    assignment, results = graded_class.assignment, graded_class.results
    t = LABELS[lang]
    finals = [graded_class.grades[r["student_id"]] for r in results]
    scores = [g.score for g in finals if g.score is not None]  # an excused student has none
    max_score = max(g.max_score for g in finals)
    names = list(results[0]["questions"])
    master = _assignment(assignment)
    settings = load_settings(master.master) if master is not None else None
    titles = {
        q.name: question_title(q, lang, settings) for q in (master.questions if master else ())
    }
    questions = _question_rows(graded_class, names, titles)
    mistakes = [
        (mistake(m, assignment, lang).title, m, count)
        for m, count in Counter(
            m
            for r in results
            for m in {t_["misconception"] for t_ in r["tests"] if t_["misconception"]}
        ).most_common(10)
    ]
    incidents = [{**r, "message": attention_text(r, lang)} for r in results if needs_attention(r)]
    late = [
        {"student_id": g.student_id, "note": g.late_note(lang)} for g in finals if g.lateness.late
    ]
    context = {
        "lang": lang, "t": t, "title": f"{t['report_title']} — {assignment}",
        # people, not submissions: a group's members each count, its own id does not
        "assignment": assignment, "students": len(graded_class.owners()), "max_score": max_score,
        "mean": statistics.fmean(scores) if scores else math.nan,
        "median": statistics.median(scores) if scores else math.nan, "questions": questions,
        "excused": sorted(graded_class.excused), "reviewed": _reviewed(graded_class.overrides, titles),
        "mistakes": mistakes, "incidents": incidents, "late": late,
        "distribution_png": _histogram(scores, max_score, t["distribution"], t["score_axis"]),
        "questions_png": _bars([q["name"] for q in questions if q["graded"]],
                               [100 * q["full_share"] for q in questions if q["graded"]],
                               t["full_marks_share"]),
    }  # fmt: skip
    path = graded / "report.html"
    path.write_text(_environment.get_template("report.html.j2").render(context), "utf-8")
    return path


def _question_rows(
    graded_class: ClassGrades, autograded: list[str], titles: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Each question's mean and share of full marks, as the grades count them: points given
    on appeal replace the autograded ones, and a question graded by hand counts the
    students graded so far (``graded`` of ``of``). Excused students count nowhere."""
    counted = [r for r in graded_class.results if r["student_id"] not in graded_class.excused]
    rows = []
    for name in autograded:
        top = counted[0]["questions"][name]["max_score"] if counted else 0.0
        earned = [
            graded_class.grades[r["student_id"]].overridden.get(name, r["questions"][name]["score"])
            for r in counted
        ]
        rows.append(_question_row(titles.get(name, name), earned, top, len(counted)))
    for name, top in graded_class.hand_max.items():
        given = [graded_class.grades[r["student_id"]].hand.get(name) for r in counted]
        earned = [points for points in given if points is not None]
        rows.append(_question_row(titles.get(name, name), earned, top, len(counted)))
    return rows


def _question_row(name: str, earned: list[float], top: float, of: int) -> dict[str, Any]:
    return {
        "name": name,
        "mean": statistics.fmean(earned) if earned else math.nan,
        "max": top,
        "full_share": sum(e >= top for e in earned) / len(earned) if earned else math.nan,
        "graded": len(earned),
        "of": of,
    }


def _reviewed(overrides: Mapping[str, Mapping[str, tuple[float, str]]],
              titles: Mapping[str, str]) -> list[tuple[str, str]]:  # fmt: skip
    """(student, the questions whose points the instructor gave on appeal), for the report."""
    return [
        (student, ", ".join(titles.get(q, q) for q in sorted(questions)))
        for student, questions in sorted(overrides.items())
    ]


def _pyplot():
    """matplotlib's pyplot, drawing to PNG: imported only for the report, so that the
    feedback pages and exports do not pay for it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _histogram(scores: list[float], max_score: float, title: str, axis: str) -> str:
    figure, axes = _pyplot().subplots(figsize=(6, 3))
    axes.hist(scores, bins=min(20, max(int(max_score), 1)), range=(0, max_score), color="#3b6ea8")
    axes.set_title(title)
    axes.set_xlabel(axis)
    return _png(figure)


def _bars(names: list[str], percents: list[float], title: str) -> str:
    figure, axes = _pyplot().subplots(figsize=(6, 0.4 * len(names) + 1))
    axes.barh(names[::-1], percents[::-1], color="#3b6ea8")
    axes.set_xlim(0, 100)
    axes.set_title(title + " (%)")
    return _png(figure)
