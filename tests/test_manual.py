"""Hand-graded questions: export, fill, import; totals and LMS files follow; bad files change nothing."""

from __future__ import annotations

import csv

import nbformat
import pandas as pd
import pytest

from autograder.assignment import load_assignment
from autograder.class_run import grade_class
from autograder.final_grade import write_grades
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.lms_export import UnfinishedHandGrading, export
from autograder.manual import ManualImportError, export_question, import_scores
from autograder.sample_class import write_sample_class

from .conftest import FAST_LIMITS

ANSWER = "Plus le batch est petit, plus il y a de mises à jour <script>alert(1)</script>"


@pytest.fixture()
def graded(project, tmp_path):
    students = write_sample_class(tmp_path / "class", "sgd_batch_size", project, size=4)
    first = students[0].path
    notebook = nbformat.read(first, as_version=4)
    answer_cell = next(
        c for c in notebook.cells if "otter_answer_cell" in c.metadata.get("tags", [])
    )
    answer_cell.source = ANSWER
    nbformat.write(notebook, first)
    grade_class("sgd_batch_size", [tmp_path / "class"], tmp_path / "graded",
                Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    return tmp_path


def fill(path, points: dict[str, str]) -> None:
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row["points"] = points.get(row["student_id"], "")
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_round_trip_changes_totals_and_exports(graded):
    html, table = export_question(
        "sgd_batch_size", "q4_conclusion", [graded / "class"], graded / "manual"
    )
    page = html.read_text(encoding="utf-8")
    assert "Barème" in page and "Plus le batch est petit" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    before = pd.read_csv(graded / "graded" / "grades.csv", dtype={"student_id": str})
    roster = graded / "roster.csv"
    roster.write_text("student_id,last_name,first_name\nsgd001,Dupont,Jean\n", encoding="utf-8")
    with pytest.raises(
        UnfinishedHandGrading, match=r"q4_conclusion \(4 students: sgd001, sgd002, sgd003, sgd004\)"
    ):
        export("canvas", graded / "graded", roster, graded / "lms", item="TP", lms_id="1")
    # (no hand grading yet: 8 of 11 points for everyone would reach the LMS as final)
    fill(table, {"sgd001": "2.5", "sgd002": "3"})
    gradebook = Gradebook.in_folder(graded / "graded")
    assert import_scores("sgd_batch_size", "q4_conclusion", table, gradebook) == 2
    write_grades(gradebook, load_assignment("sgd_batch_size"), graded / "graded" / "grades.csv")
    after = pd.read_csv(graded / "graded" / "grades.csv", dtype={"student_id": str}).set_index(
        "student_id"
    )
    before = before.set_index("student_id")
    assert after.loc["sgd001", "q4_conclusion"] == 2.5
    assert after.loc["sgd001", "score"] == before.loc["sgd001", "score"] + 2.5
    # the question counts from the start: 3 of the 11 points are to be given by hand
    assert after.loc["sgd001", "max_score"] == before.loc["sgd001", "max_score"] == 8 + 3
    assert pd.isna(after.loc["sgd003", "q4_conclusion"])
    with pytest.raises(
        UnfinishedHandGrading, match=r"q4_conclusion \(2 students: sgd003, sgd004\)"
    ):
        export("canvas", graded / "graded", roster, graded / "lms", item="TP", lms_id="1")
    assert not (graded / "lms").exists()  # sgd003 and sgd004 would get 0 there
    export("canvas", graded / "graded", roster, graded / "lms", item="TP", lms_id="1", partial=True)
    canvas = list(csv.reader((graded / "lms" / "canvas_import.csv").open(encoding="utf-8")))
    assert float(canvas[2][5]) == after.loc["sgd001", "score"]
    assert canvas[1][5] == f"{after['max_score'].max():g}"


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ({"sgd001": "4"}, r"row 2: points 4 outside 0 … 3"),
        ({"sgd002": "deux"}, r"row 3: points 'deux' is not a number"),
        ({"sgd001": "-1"}, r"row 2: points -1 outside"),
    ],
)
def test_bad_values_are_refused_whole(graded, points, message):
    _, table = export_question(
        "sgd_batch_size", "q4_conclusion", [graded / "class"], graded / "manual"
    )
    fill(table, {"sgd003": "1", **points})
    gradebook = Gradebook.in_folder(graded / "graded")
    with pytest.raises(ManualImportError, match=message):
        import_scores("sgd_batch_size", "q4_conclusion", table, gradebook)
    assert gradebook.manual("sgd_batch_size").empty


def test_unknown_student_is_refused(graded):
    table = graded / "filled.csv"
    table.write_text("student_id,points,comment\nsgd001,1,ok\nnobody,2,?\n", encoding="utf-8")
    gradebook = Gradebook.in_folder(graded / "graded")
    with pytest.raises(ManualImportError, match=r"filled\.csv: row 3: unknown student 'nobody'"):
        import_scores("sgd_batch_size", "q4_conclusion", table, gradebook)
    assert gradebook.manual("sgd_batch_size").empty


def test_a_comment_split_by_the_separator_is_refused_not_cut(graded):
    table = graded / "filled.csv"
    table.write_text("student_id;points;comment\nsgd001;2;Bien; mais la conclusion manque\n",
                     encoding="utf-8")  # fmt: skip
    gradebook = Gradebook.in_folder(graded / "graded")
    with pytest.raises(
        ManualImportError,
        match=r"filled\.csv: row 2: more cells than the header "
        r"has columns \(a ';' in a comment\? put the comment in double quotes\)",
    ):
        import_scores("sgd_batch_size", "q4_conclusion", table, gradebook)
    assert gradebook.manual("sgd_batch_size").empty


def test_an_automatic_regrade_keeps_manual_points(graded):
    table = graded / "filled.csv"
    table.write_text("student_id,points,comment\nsgd001,2,bien\n", encoding="utf-8")
    import_scores("sgd_batch_size", "q4_conclusion", table, Gradebook.in_folder(graded / "graded"))
    grade_class("sgd_batch_size", [graded / "class"], graded / "graded",
                Settings(workers=2, limits=FAST_LIMITS, regrade=True))  # fmt: skip
    grades = pd.read_csv(graded / "graded" / "grades.csv", dtype={"student_id": str})
    assert grades.set_index("student_id").loc["sgd001", "q4_conclusion"] == 2


def test_a_new_notebook_keeps_its_hand_grade_and_says_it_was_for_the_earlier_one(graded):
    table = graded / "filled.csv"
    table.write_text("student_id,points,comment\nsgd001,2,bien\nsgd002,3,ok\n", encoding="utf-8")
    import_scores("sgd_batch_size", "q4_conclusion", table, Gradebook.in_folder(graded / "graded"))
    resubmitted = next((graded / "class").glob("sgd001*.ipynb"))
    notebook = nbformat.read(resubmitted, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("J'ai revu ma conclusion."))
    nbformat.write(notebook, resubmitted)
    run = grade_class("sgd_batch_size", [graded / "class"], graded / "graded",
                      Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    assert [r.student_id for r in run.graded] == ["sgd001"]
    (problem,) = run.problems
    assert problem.origin == str(resubmitted)
    assert problem.message.startswith(
        "a new notebook for student sgd001, whose hand-graded points (q4_conclusion) were "
        "given to the earlier one and are kept"
    )
    grades = pd.read_csv(graded / "graded" / "grades.csv", dtype={"student_id": str})
    assert grades.set_index("student_id").loc["sgd001", "q4_conclusion"] == 2


def test_a_table_saved_by_a_french_spreadsheet_imports(graded):
    """Excel in French saves CSV with semicolons, decimal commas and Windows-1252."""
    table = graded / "filled.csv"
    table.write_bytes(
        "student_id;points;comment\nsgd001;2,5;très clair\nsgd002;;\n".encode("cp1252")
    )
    gradebook = Gradebook.in_folder(graded / "graded")
    assert import_scores("sgd_batch_size", "q4_conclusion", table, gradebook) == 1
    manual = gradebook.manual("sgd_batch_size").set_index("student_id")
    assert manual.loc["sgd001", "points"] == 2.5
    assert manual.loc["sgd001", "comment"] == "très clair"


def test_export_with_graded_lists_only_the_notebooks_the_grading_graded(graded):
    """A notebook the grading set aside (an older attempt dropped by --id-pattern, a
    duplicate) gets no row: every row of the CSV imports (LMS review)."""
    older = graded / "older"
    older.mkdir()
    notebook = nbformat.read(graded / "class" / "sgd002.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("# first attempt"))
    nbformat.write(notebook, older / "sgd002_attempt1.ipynb")
    _, table = export_question(
        "sgd_batch_size", "q4_conclusion", [graded / "class", older], graded / "manual",
        graded / "graded",
    )  # fmt: skip
    with table.open(newline="", encoding="utf-8") as file:
        listed = [row["student_id"] for row in csv.DictReader(file)]
    assert listed == ["sgd001", "sgd002", "sgd003", "sgd004"]
    fill(table, dict.fromkeys(listed, "2"))
    gradebook = Gradebook.of_graded(graded / "graded")
    try:
        assert import_scores("sgd_batch_size", "q4_conclusion", table, gradebook) == 4
    finally:
        gradebook.close()


def test_a_second_export_fills_in_the_points_given_but_not_for_a_new_notebook(graded):
    """After an import, the next export shows each student's points and comment, ready to
    import again unchanged; a student who handed in another notebook since gets the old
    points in a note instead, so the new answer is read before points are given again."""
    export_again = (
        "sgd_batch_size", "q4_conclusion", [graded / "class"], graded / "manual", graded / "graded"
    )  # fmt: skip
    _, table = export_question(*export_again)
    with table.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row["points"], row["comment"] = "2", "- justification incomplète"
    with table.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    gradebook = Gradebook.of_graded(graded / "graded")
    try:
        assert import_scores("sgd_batch_size", "q4_conclusion", table, gradebook) == 4
    finally:
        gradebook.close()
    notebook = nbformat.read(graded / "class" / "sgd002.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("# corrected after the deadline"))
    nbformat.write(notebook, graded / "class" / "sgd002.ipynb")
    grade_class("sgd_batch_size", [graded / "class"], graded / "graded",
                Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    html, table = export_question(*export_again)
    with table.open(newline="", encoding="utf-8") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert rows["sgd001"]["points"] == "2" and rows["sgd001"]["note"] == ""
    assert rows["sgd001"]["comment"] == "'- justification incomplète"  # no formula
    assert rows["sgd002"]["points"] == ""
    assert rows["sgd002"]["note"] == "new notebook since your 2 points: read it again"
    page = html.read_text(encoding="utf-8")
    assert "déjà noté : 2 / 3" in page and "nouveau notebook depuis vos 2 points" in page
    gradebook = Gradebook.of_graded(graded / "graded")
    try:
        assert import_scores("sgd_batch_size", "q4_conclusion", table, gradebook) == 3
        comments = set(gradebook.manual("sgd_batch_size")["comment"])
    finally:
        gradebook.close()
    assert comments == {"- justification incomplète"}  # read back as it was written


def test_pages_written_before_new_grades_are_said_to_be_outdated(graded, capsys):
    """feedback/ and report.html show the grades of when they were written: after hand
    points are imported or a new notebook is graded, the commands say so."""
    from autograder.cli import main

    folder = graded / "graded"
    table = graded / "filled.csv"
    table.write_text("student_id,points\nsgd001,1\n", encoding="utf-8")
    command = ["manual", "import", "sgd_batch_size", "q4_conclusion", str(table),
               "--graded", str(folder)]  # fmt: skip
    assert main(command) == 0
    assert "show the grades as they were before" not in capsys.readouterr().out  # no pages yet
    assert main(["feedback", "--graded", str(folder)]) == 0
    assert main(["report", "--graded", str(folder)]) == 0
    capsys.readouterr()
    assert main(command) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"feedback and report.html in {folder} show the grades as they were before: run "
        "dlgrade feedback and dlgrade report again"
    )
    first = sorted((graded / "class").glob("*.ipynb"))[0]
    (graded / "class" / "late.ipynb").write_bytes(first.read_bytes() + b" ")
    run = grade_class("sgd_batch_size", [graded / "class"], folder,
                      Settings(workers=1, limits=FAST_LIMITS))  # fmt: skip
    assert run.graded_count == 1 and run.notes[-1].startswith("feedback and report.html in ")


def test_a_run_says_why_it_grades_again_what_was_graded(graded):
    """Notebooks graded before the checks changed are graded again, and the run says why
    rather than only "graded now: N"."""
    import sqlite3

    with sqlite3.connect(graded / "graded" / "gradebook.sqlite") as connection:
        connection.execute(
            "UPDATE submissions SET autograder_hash = 'before', "
            "result = json_set(result, '$.autograder_hash', 'before')"
        )
    run = grade_class("sgd_batch_size", [graded / "class"], graded / "graded",
                      Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    assert run.skipped == 0 and run.graded_count > 0
    assert run.notes == [
        f"{run.graded_count} notebook(s) graded again: the assignment's checks, reference or "
        "the grader changed since they were graded"
    ]


def test_an_answer_left_as_the_template_wrote_it_is_no_answer(project, graded):
    """The student template invites an answer in the answer cell; a notebook that still
    holds that invitation, whatever the spaces around it, did not answer: the page and
    the CSV say so, where an answer is shown as written."""
    template = nbformat.read(project.template("sgd_batch_size"), as_version=4)
    invitation = next(
        c.source for c in template.cells if "otter_answer_cell" in c.metadata.get("tags", [])
    )
    assert invitation.strip()
    for student, text in (("sgd002", invitation), ("sgd003", f"\n  {invitation}  \n")):
        path = graded / "class" / f"{student}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        cell = next(c for c in notebook.cells if "otter_answer_cell" in c.metadata.get("tags", []))
        cell.source = text
        nbformat.write(notebook, path)
    html, table = export_question(
        "sgd_batch_size", "q4_conclusion", [graded / "class"], graded / "manual"
    )
    page = html.read_text(encoding="utf-8")
    shown = {
        student: page.split(f'id="answer-{student}"')[1].split("</div>")[0]
        for student in ("sgd001", "sgd002", "sgd003")
    }
    assert "Plus le batch est petit" in shown["sgd001"]
    assert all("(pas de réponse)" in shown[student] for student in ("sgd002", "sgd003"))
    assert invitation.strip() not in page
    with table.open(newline="", encoding="utf-8") as file:
        notes = {row["student_id"]: row["note"] for row in csv.DictReader(file)}
    assert (
        notes["sgd001"] == "" and notes["sgd002"] == notes["sgd003"] == "no answer in the notebook"
    )


def test_each_answer_carries_the_name_the_lms_gave_its_file(graded):
    """Canvas names a student by a number: the page and the CSV give the name its file
    name carries beside it, and the CSV, name column included, imports as before."""
    canvas = graded / "canvas"
    canvas.mkdir()
    (canvas / "nguyenan_1001_5002_sgd_batch_size.ipynb").write_bytes(
        (graded / "class" / "sgd001.ipynb").read_bytes()
    )
    html, table = export_question("sgd_batch_size", "q4_conclusion", [canvas], graded / "manual")
    with table.open(newline="", encoding="utf-8") as file:
        [row] = list(csv.DictReader(file))
    assert (row["student_id"], row["name"]) == ("1001", "nguyenan")
    assert "<strong>1001</strong> (nguyenan)" in html.read_text(encoding="utf-8")


def test_blackboard_answers_carry_the_name_of_their_receipt(graded):
    """Blackboard's file names carry only the username; the receipt beside each attempt
    says who it is (``Name: Jean Dupont (jdupont)``): the sheet shows that name, and an
    attempt without a receipt keeps an empty one (cycle 14, #15)."""
    from autograder.submissions import Intake

    from .lms_layouts import write_zip

    notebook = (graded / "class" / "sgd001.ipynb").read_bytes()
    attempt = "TP2_jdupont_attempt_2026-12-01-18-00-00"
    archive = write_zip(graded / "gradebook.zip", {
        f"{attempt}_tp rendu.ipynb": notebook,
        f"{attempt}.txt": "Name: Hélène Lefèvre (jdupont)\nAssignment: TP2\n".encode(),
        "TP2_a_aitali_attempt_2026-12-01-19-00-00_tp.ipynb": (graded / "class" / "sgd002.ipynb").read_bytes(),
    })  # fmt: skip
    out = graded / "bb"
    grade_class("sgd_batch_size", [archive], out, Settings(workers=1, limits=FAST_LIMITS),
                intake=Intake.read(id_pattern="^TP2_(?P<student>.+)_attempt_"))  # fmt: skip
    html, table = export_question(
        "sgd_batch_size", "q4_conclusion", [archive], graded / "manual", graded=out
    )
    with table.open(newline="", encoding="utf-8") as file:
        names = {row["student_id"]: row["name"] for row in csv.DictReader(file)}
    assert names == {"jdupont": "Hélène Lefèvre", "a_aitali": ""}
    assert "<strong>jdupont</strong> (Hélène Lefèvre)" in html.read_text(encoding="utf-8")


def test_names_come_from_the_lms_roster_when_given(graded, capsys):
    """A Canvas file name's slug drops accents and makes homonyms alike; with --roster
    (Canvas's gradebook export) the sheet names each student as Canvas does, and a
    student the roster does not hold keeps the slug (cycle 14, #15)."""
    from autograder.cli import main

    canvas = graded / "canvas"
    canvas.mkdir()
    for name, user, attachment in (
        ("lefvrehlne", 1003, 5003),
        ("petitthomas", 1010, 5010),
        ("petitthomas", 1011, 5011),
        ("rouxnicolas", 1013, 5013),
    ):
        notebook = (graded / "class" / "sgd001.ipynb").read_bytes()
        (canvas / f"{name}_{user}_{attachment}_tp2.ipynb").write_bytes(notebook)
    roster = graded / "gradebook_export.csv"
    roster.write_text(
        "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,TP2 (4813)\n"
        "Points Possible,,,,,11\n"
        '"Lefèvre, Hélène",1003,,,L3,\n"Petit, Thomas",1010,21001010,,L3,\n'
        '"Petit, Thomas",1011,21001011,,L3,\n',
        encoding="utf-8",
    )
    command = ["manual", "export", "sgd_batch_size", "q4_conclusion", str(canvas),
               "--out", str(graded / "manual"), "--roster", str(roster)]  # fmt: skip
    assert main(command) == 0
    with (graded / "manual" / "sgd_batch_size-q4_conclusion.csv").open(encoding="utf-8") as file:
        names = {row["student_id"]: row["name"] for row in csv.DictReader(file)}
    assert names == {"1003": "Lefèvre, Hélène", "1010": "Petit, Thomas",
                     "1011": "Petit, Thomas", "1013": "rouxnicolas"}  # fmt: skip
