"""Ids reach file names and CSV cells safely: the Gradescope export cannot escape or share a
folder, and the manual round trip tells ``'bob`` from ``bob``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autograder import results
from autograder.cli import main
from autograder.gradebook import Gradebook
from autograder.lms_export import export
from autograder.manual import ManualImportError, export_question, import_scores
from autograder.spreadsheet import safe, unsafe
from autograder.submissions import student_file_name

from .conftest import current_hash

ASSIGNMENT = "sgd_batch_size"
IDS = ["zoe", "Zoe", "zz/zoe", "..", ".", "../zoe", "zoe~0", "'bob", "bob", "''bob", "=bob",
       "'=bob", "-x", "é", "a" * 300]  # fmt: skip


def graded_folder(folder: Path, students: list[str], autograder: str | None = None) -> Path:
    """A gradebook where student number i scored i points (no sandbox needed), graded by
    the current checks unless ``autograder`` names other ones."""
    gradebook = Gradebook.in_folder(folder)
    run = gradebook.start_run(ASSIGNMENT, "hash", {})
    for score, student in enumerate(students):
        test = results.TestResult("check", "q1", float(score), 1000.0, False, "", None)
        gradebook.record(run, results.SubmissionResult(
            student, ASSIGNMENT, "graded", "", float(score), 1000.0, f"sha-{score}",
            autograder or current_hash(ASSIGNMENT), f"{student}.ipynb", "bwrap", tests=[test]))  # fmt: skip
    gradebook.finish_run(run)
    gradebook.close()
    return folder


def test_student_file_names_are_safe_and_distinct():
    names = [student_file_name(s) for s in IDS]
    assert len(set(names)) == len(IDS)
    assert len({n.lower() for n in names}) == len(IDS)  # case-insensitive file systems too
    for name in names:
        assert name not in ("", ".", "..") and "/" not in name and "\\" not in name
        assert not name.startswith((".", "-")) and len(name.encode()) < 100
    assert student_file_name("sgd001") == "sgd001"


def test_gradescope_export_gives_each_student_its_own_folder_inside(tmp_path):
    graded = graded_folder(tmp_path / "graded", IDS)
    out = tmp_path / "deep" / "lms"
    export("gradescope", graded, None, out, item="TP")
    results = sorted((out / "gradescope").glob("*/results.json"))
    assert len(results) == len(IDS)
    assert {p.name for p in tmp_path.iterdir()} == {"graded", "deep"}
    assert {p.name for p in out.iterdir()} == {"gradescope", "gradescope_folders.csv"}
    with (out / "gradescope_folders.csv").open(encoding="utf-8", newline="") as file:
        folders = {unsafe(row["student_id"]): row["folder"] for row in csv.DictReader(file)}
    assert sorted(folders) == sorted(IDS)
    for score, student in enumerate(IDS):  # nobody's results overwrote anyone's
        result = json.loads((out / "gradescope" / folders[student] / "results.json").read_text())
        assert result["score"] == score
    assert folders["zoe"] == "zoe"


def test_gradescope_export_keeps_the_submission_folders_gradescope_gave(tmp_path):
    """Gradescope's API takes a result back by its submission id: a notebook from its
    export keeps the folder name it came in (``submission_304``); others, their id."""
    gradebook = Gradebook.in_folder(tmp_path / "graded")
    run = gradebook.start_run(ASSIGNMENT, "hash", {})
    origins = {  # a Gradescope download, a folder named like one by chance, a plain file
        "21001011": ("gradescope", "dl.zip/assignment_9_export/submission_304/tp.ipynb"),
        "21001012": ("gradescope", "dl.zip/assignment_9_export/submission_305/tp.ipynb"),
        "submission_999": (None, "class/submission_999/tp.ipynb"),
        "submission_304": (None, "class/submission_304.ipynb"),
        "zoe": (None, "class/zoe.ipynb"),
    }
    for score, (student, (lms, origin)) in enumerate(origins.items()):
        gradebook.record(run, results.SubmissionResult(
            student, ASSIGNMENT, "graded", "", float(score), 10.0, f"sha-{score}", current_hash(ASSIGNMENT),
            origin, "bwrap", lms=lms))  # fmt: skip
    gradebook.finish_run(run)
    gradebook.close()
    export("gradescope", tmp_path / "graded", None, tmp_path / "lms", item="TP")
    with (tmp_path / "lms" / "gradescope_folders.csv").open(encoding="utf-8") as file:
        rows = {
            row["student_id"]: (row["folder"], row["submission"]) for row in csv.DictReader(file)
        }
    assert rows == {
        "21001011": ("submission_304", "submission_304"),
        "21001012": ("submission_305", "submission_305"),
        "submission_999": ("submission_999", ""),
        "zoe": ("zoe", ""),
        "submission_304": (student_file_name("submission_304 "), ""),
    }
    sent = json.loads(
        (tmp_path / "lms" / "gradescope" / "submission_305" / "results.json").read_text()
    )
    assert sent["score"] == 1.0


def manual_csv(path: Path, points: dict[str, str]) -> Path:
    """The CSV a teacher fills: ids written by ``safe``, as ``export_question`` writes them."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student_id", "points", "max_points", "comment"])
        for student, value in points.items():
            writer.writerow([safe(student), value, "3", ""])
    return path


@pytest.mark.parametrize("cell", IDS)
def test_safe_round_trips_exactly(cell):
    assert unsafe(safe(cell)) == cell
    assert not str(safe(cell)).startswith(("=", "+", "-", "@"))


def test_manual_round_trip_keeps_quote_ids_apart(tmp_path):
    points = {"bob": "1", "'bob": "2", "''bob": "0.5", "=bob": "3", "'=bob": "1.5"}
    (tmp_path / "class").mkdir()
    for student in points:  # the ids come from the file names, as in a real class
        (tmp_path / "class" / f"{student}.ipynb").write_text("{}", encoding="utf-8")
    gradebook = Gradebook.in_folder(graded_folder(tmp_path / "graded", list(points)))
    _, table = export_question(ASSIGNMENT, "q4_conclusion", [tmp_path / "class"], tmp_path / "m")
    with table.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert sorted(r["student_id"] for r in rows) == sorted(map(safe, points))
    filled = manual_csv(tmp_path / "filled.csv", points)
    assert import_scores(ASSIGNMENT, "q4_conclusion", filled, gradebook) == 5
    manual = gradebook.manual(ASSIGNMENT).set_index("student_id")["points"]
    gradebook.close()
    assert manual.to_dict() == {s: float(p) for s, p in points.items()}


def test_a_spreadsheet_that_dropped_the_prefix_still_names_the_right_student(tmp_path):
    gradebook = Gradebook.in_folder(graded_folder(tmp_path / "graded", ["bob", "=bob"]))
    filled = tmp_path / "filled.csv"
    filled.write_text("student_id,points\n=bob,2\nbob,1\n", encoding="utf-8")
    assert import_scores(ASSIGNMENT, "q4_conclusion", filled, gradebook) == 2
    manual = gradebook.manual(ASSIGNMENT).set_index("student_id")["points"].to_dict()
    gradebook.close()
    assert manual == {"=bob": 2.0, "bob": 1.0}


def test_a_quoted_id_is_not_taken_for_another_student(tmp_path):
    gradebook = Gradebook.in_folder(graded_folder(tmp_path / "graded", ["bob"]))
    filled = manual_csv(tmp_path / "filled.csv", {"'bob": "1"})  # written as ''bob
    with pytest.raises(ManualImportError, match='unknown student "\'bob"'):
        import_scores(ASSIGNMENT, "q4_conclusion", filled, gradebook)
    gradebook.close()


def test_a_group_member_s_row_in_a_hand_grading_table_names_the_group(tmp_path):
    """grades.csv has a row for each member of a group (``graded_as``): a hand-grading
    table filled from it is told where the points go, not that the student is unknown."""
    gradebook = Gradebook.in_folder(tmp_path / "graded")
    run = gradebook.start_run(ASSIGNMENT, "hash", {})
    gradebook.record(run, results.SubmissionResult(
        "group:A", ASSIGNMENT, "graded", "", 1.0, 8.0, "sha", current_hash(ASSIGNMENT), "a.ipynb", "bwrap",
        members=("1011", "1012")))  # fmt: skip
    gradebook.finish_run(run)
    filled = manual_csv(tmp_path / "filled.csv", {"1012": "2"})
    with pytest.raises(ManualImportError) as error:
        import_scores(ASSIGNMENT, "q4_conclusion", filled, gradebook)
    gradebook.close()
    assert str(error.value) == (
        f"{filled}: row 2: '1012' is graded as group:A (a group's submission): give the "
        "points on group:A's row, which reaches every member"
    )


def test_grades_given_before_the_checks_changed_are_not_exported_unless_asked(tmp_path, capsys):
    """A folder graded before a check was fixed would send old grades to the LMS: the
    export refuses, naming whose and the files to grade again; --earlier-checks sends
    them as they are and the report says so."""
    graded = graded_folder(tmp_path / "graded", [f"s{i}" for i in range(7)], "earlier")
    roster = tmp_path / "roster.csv"
    people = "".join(f"s{i},s{i}@example.edu\n" for i in range(7))
    roster.write_text("student_id,email\n" + people, encoding="utf-8")
    command = ["export", "--lms", "moodle", "--graded", str(graded), "--roster", str(roster),
               "--out", str(tmp_path / "lms"), "--partial"]  # fmt: skip
    assert main(command) != 0
    said = capsys.readouterr().err.strip()
    assert said == (
        "dlgrade: sgd_batch_size: 7 grade(s) were given before its checks, reference or the "
        "grader changed: s0, s1, s2, s3, s4 and 2 more. Grade again the files they came from "
        "(s0.ipynb, s1.ipynb, s2.ipynb, s3.ipynb, s4.ipynb and 2 more) into the same --out, "
        "or export these grades as they are with --earlier-checks"
    )
    assert not (tmp_path / "lms").exists()
    assert main([*command, "--earlier-checks"]) == 0
    assert (
        "exported as they are (--earlier-checks), graded before the checks changed: "
        "s0, s1, s2, s3, s4, s5, s6"
    ) in capsys.readouterr().err
    assert (tmp_path / "lms" / "moodle_import.csv").exists()
