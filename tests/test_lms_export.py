"""LMS import files: the documented columns, the roster join report, no formula injection."""

from __future__ import annotations

import csv
import io
import json

import pytest

from autograder.class_run import grade_class
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.lms_export import RosterError, export
from autograder.sample_class import write_sample_class
from autograder.spreadsheet import safe

from .conftest import FAST_LIMITS

ROSTER = """student_id,last_name,first_name,email,username,sis_user_id,sis_login_id,section
sgd001,Dupont,Jean,jean.dupont@example.org,jdupont,S001,jdupont,G1
sgd002,=HYPERLINK("x"),Léa,lea@example.org,lmartin,S002,lmartin,G1
sgd002,Doublon,Léa,lea2@example.org,lmartin2,S002b,lmartin2,G2
ghost,Fantome,Paul,paul@example.org,pfantome,S099,pfantome,G2
r1,Un,Ana,a@example.org,sgd004,S100,a1,G3
r2,Deux,Bob,b@example.org,b2,sgd004,b2,G3
"""


@pytest.fixture(scope="module")
def graded(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    write_sample_class(folder / "class", "sgd_batch_size", project, size=4)
    run = grade_class("sgd_batch_size", [folder / "class"], folder / "graded",
                      Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    gradebook = Gradebook.of_graded(folder / "graded")  # hand grading finished: 1 of 3 each
    graded_ids = sorted(r.student_id for r in run.graded)
    gradebook.record_manual("sgd_batch_size", "q4_conclusion", 3, [(s, 1, "") for s in graded_ids])
    gradebook.close()
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return folder


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_canvas_import(graded, tmp_path):
    report = export("canvas", graded / "graded", graded / "roster.csv", tmp_path,
                    item="TP SGD", lms_id="4242")  # fmt: skip
    table = rows((tmp_path / "canvas_import.csv").read_text(encoding="utf-8"))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "TP SGD (4242)"]
    assert table[1] == ["    Points Possible", "", "", "", "", "11"]  # 8 autograded, 3 by hand
    students = {row[1]: row for row in table[2:]}
    assert students["sgd001"][0] == "Dupont, Jean" and float(students["sgd001"][5]) >= 0
    assert "ghost" not in students  # no submission: left out, its Canvas grade kept
    assert students["sgd002"][0].startswith("'=")  # no formula
    assert report.not_in_roster == ["sgd003"]
    assert report.ambiguous == ["sgd004"]  # a username of one row, a SIS id of another
    assert report.no_submission == ["ghost"] and report.duplicated == ["sgd002"]
    assert (tmp_path / "canvas_roster_report.txt").read_text().count("\n") == 4


@pytest.mark.parametrize(("missing", "cell"), [("zero", "0"), ("blank", "")])
def test_missing_as_zero_or_blank_when_asked(graded, tmp_path, missing, cell):
    export("canvas", graded / "graded", graded / "roster.csv", tmp_path, item="TP",
           lms_id="1", missing=missing)  # fmt: skip
    table = rows((tmp_path / "canvas_import.csv").read_text(encoding="utf-8"))
    cells = {row[1]: row[5] for row in table[2:]}
    assert cells["ghost"] == cell
    assert "r1" not in cells and "r2" not in cells  # rows of an ambiguous id: left alone
    assert [row[1] for row in table[2:]].count("sgd002") == 1  # the repeated row too


CANVAS_GRADEBOOK = """Student,ID,SIS User ID,SIS Login ID,Section,TP SGD (4242)
    Points Possible,,,,,11
"Dupont, Jean",sgd001,S001,jdupont,G1,
"Fantome, Paul",ghost,S099,pfantome,G2,
"Student, Test",99001,,c1a2b3,G1,
"""


@pytest.mark.parametrize("missing", ["zero", "blank", "keep"])
def test_canvas_s_test_student_is_never_given_a_missing_grade(graded, tmp_path, missing):
    """The student view's account in a Canvas gradebook export gets no 0 (or blank) for a
    missing submission, and is not listed as a student without one, by default either
    (cycle 14, #16)."""
    (tmp_path / "gradebook.csv").write_text(CANVAS_GRADEBOOK, encoding="utf-8")
    report = export("canvas", graded / "graded", tmp_path / "gradebook.csv", tmp_path / "out",
                    missing=missing)  # fmt: skip
    table = rows((tmp_path / "out" / "canvas_import.csv").read_text(encoding="utf-8"))
    cells = {row[1]: row[5] for row in table[2:]}
    assert "99001" not in cells and "sgd001" in cells
    assert ("ghost" in cells) == (missing != "keep")  # left out by default
    assert report.no_submission == ["ghost"]
    assert "Canvas's test student, no submission (left out): 99001" in report.lines()


def test_moodle_import_has_identifiers_grade_and_feedback(graded, tmp_path):
    export("moodle", graded / "graded", graded / "roster.csv", tmp_path, item="TP SGD")
    table = rows((tmp_path / "moodle_import.csv").read_text(encoding="utf-8"))
    assert table[0] == ["Email address", "Username", "ID number", "TP SGD", "TP SGD (feedback)"]
    first = table[1]
    assert first[0] == "jean.dupont@example.org" and first[4]


def test_blackboard_upload_is_fully_quoted_with_column_id(graded, tmp_path):
    export("blackboard", graded / "graded", graded / "roster.csv", tmp_path, item="TP SGD",
           lms_id="_123_1")  # fmt: skip
    text = (tmp_path / "blackboard_import.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == (
        '"Last Name","First Name","Username","TP SGD [Total Pts: 11 Score] |_123_1"'
    )
    assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines())


def test_gradescope_results_per_submission(graded, tmp_path):
    export("gradescope", graded / "graded", None, tmp_path, item="TP SGD")
    result = json.loads((tmp_path / "gradescope" / "sgd001" / "results.json").read_text())
    assert set(result) == {
        "score",
        "output",
        "output_format",
        "test_output_format",
        "visibility",
        "tests",
    }
    assert (result["output_format"], result["test_output_format"]) == ("html", "text")
    assert "<strong>" in result["output"] and "\\" not in result["output"]  # rendered
    assert {"name", "score", "max_score", "output", "visibility"} <= set(result["tests"][0])
    assert sum(t["score"] for t in result["tests"]) + 1 == result["score"]  # 1 by hand


def test_a_roster_without_student_id_is_refused(graded, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nJean,j@x\n", encoding="utf-8")
    with pytest.raises(
        RosterError, match=r"bad\.csv: not a roster: give a CSV with a 'student_id'"
    ):
        export("canvas", graded / "graded", bad, tmp_path, item="TP")


def test_a_binary_file_given_as_roster_is_one_line(graded, tmp_path):
    bad = tmp_path / "photo.csv"
    bad.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(RosterError, match=r"photo\.csv: not a (CSV table|roster)"):
        export("canvas", graded / "graded", bad, tmp_path, item="TP")


@pytest.mark.parametrize("cell", ["=1+1", "+A1", "-2+3", "@SUM(A1)"])
def test_formulas_are_neutralised(cell):
    assert safe(cell) == "'" + cell and safe("Dupont") == "Dupont"


# --- what the export must not do in silence ------------------------------------------------


@pytest.fixture
def moodle_class(tmp_path):
    """A Moodle download with a person, a group's folder and an unreadable notebook, and
    its grading worksheet (a group assignment: the Groupe column)."""
    from .lms_layouts import moodle_folder, notebook_bytes, write_worksheet, write_zip

    archive = write_zip(tmp_path / "moodle.zip", {
        f"{moodle_folder('Jean Dupont', 4321)}/tp.ipynb": notebook_bytes(),
        f"{moodle_folder('Groupe A', 17)}/tp.ipynb": notebook_bytes("y = 2"),
        f"{moodle_folder('Paul Roux', 4324)}/tp.ipynb": b'{"cells": [',
    })  # fmt: skip
    worksheet = write_worksheet(tmp_path / "worksheet.csv", [
        (4321, "Jean Dupont", "jean@example.edu", None),
        (4322, "Léa Bernard", "lea@example.edu", None),
        (4323, "Hugo Petit", "hugo@example.edu", None),
        (4324, "Paul Roux", "paul@example.edu", None),
    ], language="fr", groups={4322: "Groupe A", 4323: "Groupe A"})  # fmt: skip
    return archive, worksheet


def _grade_moodle(archive, out, worksheet=None):
    from autograder.submissions import Intake

    intake = Intake.read(moodle_worksheet=worksheet) if worksheet else Intake()
    settings = Settings(workers=1, limits=FAST_LIMITS)
    grade_class("sgd_batch_size", [archive], out, settings, intake=intake)


def test_a_moodle_group_graded_without_the_worksheet_is_refused_at_export(moodle_class, tmp_path):
    """Graded without the worksheet, the group's folder is a student "17": its members
    would silently get nothing. The export has the worksheet, so it knows the group."""
    archive, worksheet = moodle_class
    _grade_moodle(archive, tmp_path / "out")
    with pytest.raises(RosterError) as error:  # before the hand-grading check: not "grade 17"
        export("moodle", tmp_path / "out", worksheet, tmp_path / "lms")
    assert str(error.value).startswith(
        f"{worksheet}: 17 is the Moodle group 'Groupe A' (Léa Bernard, Hugo Petit), graded as "
        "one student because the class was graded without --moodle-worksheet"
    )
    assert not (tmp_path / "lms").exists()

    _grade_moodle(archive, tmp_path / "again", worksheet)  # as the line says
    report = export("moodle", tmp_path / "again", worksheet, tmp_path / "lms", partial=True)
    sheet = rows((tmp_path / "lms" / "moodle_worksheet.csv").read_text(encoding="utf-8"))
    grade = {row[0]: row[sheet[0].index("Note")] for row in sheet[1:]}
    assert grade["Participant 4322"] == grade["Participant 4323"] == grade["Participant 4321"]
    assert grade["Participant 4321"] not in ("", "100,00")
    # the unreadable notebook's 0 is said, with the reason, not sent in silence
    [note] = [line for line in report.lines() if "not graded" in line]
    assert note.startswith("exported as 0, its notebook not graded (invalid: ")
    assert note.endswith("): paul@example.edu") and "JSON" in note


def test_a_roster_row_two_graded_ids_match_is_left_alone(moodle_class, tmp_path):
    """Graded once by participant number and once by email (the worksheet given to the
    second run only), Jean has two grades in the folder: the export writes neither and
    says so, rather than the one that happens to come last."""
    _, worksheet = moodle_class
    from .lms_layouts import moodle_folder, notebook_bytes, write_zip

    archive = write_zip(tmp_path / "jean.zip", {
        f"{moodle_folder('Jean Dupont', 4321)}/tp.ipynb": notebook_bytes(),
    })  # fmt: skip
    out = tmp_path / "out"
    _grade_moodle(archive, out)
    (out / "graded.json").unlink()  # as a folder graded before intake was recorded
    _grade_moodle(archive, out, worksheet)
    report = export("moodle", out, worksheet, tmp_path / "lms", partial=True)
    assert (
        "one roster row, several graded students (not exported): 4321 "
        "(4321, jean@example.edu)" in report.lines()
    )
    sheet = rows((tmp_path / "lms" / "moodle_worksheet.csv").read_text(encoding="utf-8"))
    grade = {row[0]: row[sheet[0].index("Note")] for row in sheet[1:]}
    assert grade["Participant 4321"] == ""  # as it was
