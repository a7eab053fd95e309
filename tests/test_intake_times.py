"""Submission times are only what the LMS or the instructor says, and each says where it
came from: a download's or a copy's dates never become submission times unless asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from autograder.gradebook import Gradebook
from autograder.moodle_worksheet import WorksheetError, parse_moodle_date, read_worksheet
from autograder.submissions import Intake, IntakeError, collect, read_times

from .lms_layouts import (
    canvas_name,
    gradescope_export,
    moodle_date,
    moodle_folder,
    notebook_bytes,
    write_tree,
    write_worksheet,
    write_zip,
)

BUILT = (2026, 3, 1, 8, 0, 0)  # when the LMS built the zip: long after the deadline


def canvas_zip(tmp_path):
    return write_zip(tmp_path / "canvas.zip", {
        canvas_name("Dupont, Jean", 1001, 501, "tp.ipynb"): (notebook_bytes(), BUILT),
        canvas_name("Martin, Zoe", 1002, 502, "tp.ipynb", late=True): (notebook_bytes(), BUILT),
    })  # fmt: skip


# --- Canvas ------------------------------------------------------------------------------


def test_a_canvas_zip_gives_the_late_flag_and_no_time(tmp_path):
    found, _ = collect([canvas_zip(tmp_path)])
    times = {s.student_id: (s.submitted_at, s.time_source, s.late_flag) for s in found}
    assert times == {"1001": (None, None, False), "1002": (None, "canvas-flag", True)}


def test_zip_dates_are_used_only_when_the_instructor_says_so(tmp_path):
    found, _ = collect([canvas_zip(tmp_path)], Intake(times_from_files=True))
    times = {s.student_id: (s.submitted_at, s.time_source) for s in found}
    # the LMS's own marker is kept over a date the zip's builder wrote
    assert times == {"1001": (datetime(*BUILT), "file-dates"), "1002": (None, "canvas-flag")}


def test_loose_files_have_no_time_unless_the_instructor_vouches_for_their_dates(tmp_path):
    folder = write_tree(tmp_path / "class", {"alice.ipynb": notebook_bytes()})
    os.utime(folder / "alice.ipynb", (1_780_000_000, 1_780_000_000))
    [plain], _ = collect([folder])
    [vouched], _ = collect([folder], Intake(times_from_files=True))
    assert (plain.submitted_at, plain.time_source) == (None, None)
    assert vouched.submitted_at == datetime.fromtimestamp(1_780_000_000)
    assert vouched.time_source == "file-dates"


# --- Gradescope --------------------------------------------------------------------------


def test_gradescope_times_come_from_created_at_with_their_offset(tmp_path):
    files = gradescope_export({
        1: ([("Jean Dupont", "21001234", "jean@example.edu")], "2026-04-26 17:34:00.861687000 Z",
            {"tp.ipynb": (notebook_bytes())}),
        2: ([("Zoé Martin", "21005678", "zoe@example.edu")], "2026-04-27 09:00:12.000000000 -07:00",
            {"tp.ipynb": notebook_bytes()}),
    })  # fmt: skip
    found, _ = collect([write_zip(tmp_path / "export.zip", files)])
    times = {s.student_id: (s.submitted_at, s.time_source) for s in found}
    assert times == {
        "21001234": (datetime(2026, 4, 26, 17, 34, 0, 861687, tzinfo=UTC), "gradescope"),
        "21005678": (datetime(2026, 4, 27, 9, 0, 12, tzinfo=timezone(timedelta(hours=-7))),
                     "gradescope"),
    }  # fmt: skip


# --- Moodle's worksheet ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment"),
    [("Monday, 1 December 2025, 11:59 PM", datetime(2025, 12, 1, 23, 59)),
     ("Tuesday, 2 December 2025, 12:05 AM", datetime(2025, 12, 2, 0, 5)),
     ("Friday, 12 December 2025, 9:30 AM", datetime(2025, 12, 12, 9, 30)),
     ("lundi 1 décembre 2025, 23:59", datetime(2025, 12, 1, 23, 59)),
     ("jeudi 14 août 2025, 08:15", datetime(2025, 8, 14, 8, 15)),
     ("Monday, December 1, 2025, 11:59 PM", datetime(2025, 12, 1, 23, 59)),  # en_us
     ("-", None), ("", None)],
)  # fmt: skip
def test_moodle_dates_in_both_languages(text, moment):
    assert parse_moodle_date(text) == moment


@pytest.mark.parametrize("text", ["yesterday", "31 February 2025, 10:00", "1 Foo 2025, 10:00"])
def test_a_date_moodle_never_writes_is_refused(text):
    with pytest.raises(ValueError):
        parse_moodle_date(text)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_worksheet_reads_in_both_languages(tmp_path, language):
    submitted = datetime(2026, 1, 5, 23, 10)
    path = write_worksheet(tmp_path / "notes.csv", [
        (4321, "Jean Dupont", "jean@example.edu", submitted),
        (4322, "Zoé Martin", "", None),
    ], language=language)  # fmt: skip
    worksheet = read_worksheet(path)
    assert worksheet.language == language and worksheet.columns[0] in ("Identifier", "Identifiant")
    assert sorted(worksheet) == ["4321", "4322"]
    jean, zoe = worksheet["4321"], worksheet["4322"]
    assert (jean.identifier, jean.full_name, jean.email) == (
        "Participant 4321", "Jean Dupont", "jean@example.edu")  # fmt: skip
    assert jean.last_modified_submission == submitted and jean.max_grade == "100,00"
    assert tuple(map(worksheet.student_id, (jean, zoe))) == ("jean@example.edu", "Zoé Martin")
    assert zoe.last_modified_submission is None and zoe.participant_id == "4322"


def test_a_worksheet_re_saved_by_french_excel_is_read(tmp_path):
    path = tmp_path / "notes.csv"
    header = "Identifiant;Nom complet;Adresse de courriel;Numéro d’identification;Statut;Note;"
    header += "Dernière modification (travail remis);Commentaires de feedback"
    row = "Participant 7;Jean Dupont;;E2026-17;Remis;;lundi 5 janvier 2026, 23:10;Bien"
    path.write_bytes(f"{header}\r\n{row}\r\n".encode("cp1252"))
    worksheet = read_worksheet(path)
    [(participant, jean)] = worksheet.items()
    assert (participant, worksheet.student_id(jean), jean.feedback) == ("7", "E2026-17", "Bien")
    assert jean.last_modified_submission == datetime(2026, 1, 5, 23, 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [("Name,Grade\nx,1\n", "not a Moodle grading worksheet"),
     ("Identifier,Full name\nStudent 1x,A\n", "row 2: identifier 'Student 1x' is not"),
     ("Identifier,Last modified (submission)\nParticipant 1,someday\n",
      "row 2: 'someday' is not a Moodle date"),
     ("Identifier\nParticipant 1\nParticipant 1\n", "row 3: Participant 1 appears twice"),
     ("Identifier,Feedback comments\nParticipant 1," + "x" * 200_000 + "\n",
      "not a readable CSV file")],
)  # fmt: skip
def test_a_bad_worksheet_is_one_line_naming_file_and_row(tmp_path, text, message):
    path = tmp_path / "notes.csv"
    path.write_text(text)
    with pytest.raises(WorksheetError) as error:
        read_worksheet(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_moodle_zip_with_its_worksheet_gets_people_and_true_times(tmp_path):
    files = {
        f"{moodle_folder('Jean Dupont', 4321)}/tp.ipynb": (notebook_bytes(), BUILT),
        f"{moodle_folder('Participant', 4322)}/tp.ipynb": (notebook_bytes(), BUILT),
        f"{moodle_folder('Ghost', 4399)}/tp.ipynb": (notebook_bytes(), BUILT),
    }
    archive = write_zip(tmp_path / "moodle.zip", files)
    worksheet = write_worksheet(tmp_path / "notes.csv", [
        (4321, "Jean Dupont", "jean@example.edu", datetime(2026, 1, 5, 23, 10)),
        (4322, "Zoé Martin", "zoe@example.edu", datetime(2026, 1, 7, 9, 0)),
    ], language="fr")  # fmt: skip
    found, problems = collect([archive], Intake.read(moodle_worksheet=worksheet))
    times = {s.student_id: (s.student_name, s.submitted_at, s.time_source) for s in found}
    assert times == {
        "jean@example.edu": ("Jean Dupont", datetime(2026, 1, 5, 23, 10), "moodle-worksheet"),
        "zoe@example.edu": ("Zoé Martin", datetime(2026, 1, 7, 9, 0), "moodle-worksheet"),
        "4399": ("Ghost", None, None),  # not in the worksheet: its number, and no time
    }
    assert [p.message for p in problems] == [
        "Moodle participant 4399 is not in the grading worksheet: graded under that number"
    ]


# --- the instructor's CSV ----------------------------------------------------------------


def test_a_times_csv_wins_and_keeps_the_canvas_flag(tmp_path):
    times = tmp_path / "times.csv"
    times.write_text(
        "student_id;submitted_at\n1002;2026-01-05T23:10:00+01:00\n1001;2026-01-04 18:00\n"
    )
    found, _ = collect([canvas_zip(tmp_path)], Intake(times=read_times(times)))
    result = {s.student_id: (s.submitted_at, s.time_source, s.late_flag) for s in found}
    assert result == {
        "1001": (datetime(2026, 1, 4, 18, 0), "csv", False),
        "1002": (datetime(2026, 1, 5, 23, 10, tzinfo=timezone(timedelta(hours=1))), "csv", True),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [("student,when\n1,2026-01-01\n", "needs the columns student_id, submitted_at"),
     ("student_id,submitted_at\n1,01/12/2026\n", "row 2: '01/12/2026' is not an ISO date"),
     ("student_id,submitted_at\n,2026-01-01\n", "row 2: empty student_id"),
     ("student_id,submitted_at\n1," + "9" * 200_000 + "\n", "not a readable CSV file"),
     # a year no time zone can move without leaving the calendar
     ("student_id,submitted_at\n1,0001-01-01T00:00\n", "row 2: '0001-01-01T00:00' is not a plausible"),
     ("student_id,submitted_at\n1,9999-12-31T23:59-05:00\n", "is not a plausible submission time")],
)  # fmt: skip
def test_a_bad_times_file_is_one_line_naming_file_and_row(tmp_path, text, message):
    path = tmp_path / "times.csv"
    path.write_text(text)
    with pytest.raises(IntakeError) as error:
        read_times(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [("--times", "student_id,submitted_at\n1,demain\n", "row 2: 'demain' is not an ISO date"),
     ("--moodle-worksheet", "Nom,Note\n", "not a Moodle grading worksheet"),
     ("--groups", b"\xff\xfe", "needs the columns group, student_id (found: none)"),
     ("--times", "student_id,submitted_at,Submitted_At\n1,2026-01-01T10:00,2026-01-02T10:00\n",
      "row 1: the column 'Submitted_At' is there twice (columns 2 and 3); keep one")],
)  # fmt: skip
def test_grade_with_a_bad_intake_file_exits_2_with_one_line(tmp_path, option, content, message):
    path = tmp_path / "option.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "class").mkdir()
    command = [sys.executable, "-m", "autograder", "grade", "sgd_batch_size",
               str(tmp_path / "class"), "--out", str(tmp_path / "out"), option, str(path)]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 2
    [line] = finished.stderr.strip().splitlines()
    assert line.startswith(f"dlgrade: {path}: ") and message in line
    assert not (tmp_path / "out").exists()


# --- through a class run: results and gradebook carry the times -------------------------


def test_times_and_members_reach_the_results_and_the_gradebook(tmp_path, project):
    from autograder.class_run import grade_class
    from autograder.grader import Settings

    from .conftest import FAST_LIMITS

    blank = nbformat.writes(nbformat.read(project.template("sgd_batch_size"), 4)).encode()
    archive = write_zip(tmp_path / "canvas.zip", {
        canvas_name("Dupont, Jean", 1001, 501, "tp.ipynb"): (blank, BUILT),
        canvas_name("Martin, Zoe", 1002, 502, "tp.ipynb", late=True): (blank + b" ", BUILT),
    })  # fmt: skip
    groups = tmp_path / "groups.csv"
    groups.write_text("group,student_id\nA,1002\nA,1003\n")
    times = tmp_path / "times.csv"
    times.write_text("student_id,submitted_at\n1001,2026-01-04T18:00:00\n")
    intake = Intake.read(times=times, groups=groups)
    settings = Settings(workers=1, limits=FAST_LIMITS)
    run = grade_class("sgd_batch_size", [archive], tmp_path / "out", settings, intake=intake)
    stored = {r.student_id: r for r in run.graded}
    assert stored["1001"].submitted_at == "2026-01-04T18:00:00"
    assert (stored["1001"].time_source, stored["1001"].late_flag) == ("csv", False)
    assert (stored["group:A"].submitted_at, stored["group:A"].time_source) == (None, "canvas-flag")
    assert stored["group:A"].late_flag is True
    gradebook = Gradebook.of_graded(tmp_path / "out")
    latest = {r["student_id"]: r for r in gradebook.latest_results("sgd_batch_size")}
    assert latest["group:A"]["members"] == ["1002", "1003"] and latest["group:A"]["late_flag"]
    assert latest["1001"]["time_source"] == "csv"
    assert gradebook.members("sgd_batch_size") == {"1001": ("1001",), "group:A": ("1002", "1003")}
    rows = gradebook.submissions("sgd_batch_size").set_index("student_id")
    assert rows.loc["1001", "submitted_at"] == "2026-01-04T18:00:00"
    assert bool(rows.loc["group:A", "late_flag"]) and rows.loc["1001", "time_source"] == "csv"
    gradebook.close()
    grades = pd.read_csv(tmp_path / "out" / "grades.csv", dtype=str, keep_default_na=False)
    assert grades[["student_id", "graded_as"]].values.tolist() == [
        ["1001", ""], ["1002", "group:A"], ["1003", "group:A"], ["group:A", ""]
    ]  # one row per student: the group's grade reaches both members  # fmt: skip
    assert len(set(grades.loc[grades["student_id"] != "1001", "score"])) == 1

    # the same notebooks again, with corrected times: nothing is graded again, and the
    # gradebook and results/ now hold the new time
    times.write_text("student_id,submitted_at\n1001,2026-01-03T09:30:00\n")
    intake = Intake.read(times=times, groups=groups)
    again = grade_class("sgd_batch_size", [archive], tmp_path / "out", settings, intake=intake)
    assert (again.graded, again.skipped) == ([], 2)
    gradebook = Gradebook.of_graded(tmp_path / "out")
    latest = {r["student_id"]: r for r in gradebook.latest_results("sgd_batch_size")}
    assert latest["1001"]["submitted_at"] == "2026-01-03T09:30:00"
    assert latest["1001"]["score"] == stored["1001"].score
    written = json.loads((tmp_path / "out" / "results" / "1001.json").read_text())
    assert written["submitted_at"] == "2026-01-03T09:30:00" and written["time_source"] == "csv"
    gradebook.close()

    # and again without --times: the time given stays (a forgotten option erases nothing)
    forgot = grade_class("sgd_batch_size", [archive], tmp_path / "out", settings,
                         intake=Intake.read(groups=groups))  # fmt: skip
    assert (forgot.graded, forgot.skipped) == ([], 2)
    gradebook = Gradebook.of_graded(tmp_path / "out")
    latest = {r["student_id"]: r for r in gradebook.latest_results("sgd_batch_size")}
    assert (latest["1001"]["submitted_at"], latest["1001"]["time_source"]) == (
        "2026-01-03T09:30:00",
        "csv",
    )
    written = json.loads((tmp_path / "out" / "results" / "1001.json").read_text())
    assert written["submitted_at"] == "2026-01-03T09:30:00"
    gradebook.close()

    # graded again from scratch (--regrade) without --times: the same notebooks keep
    # the times they were given, Canvas's late flag included
    regrade = Settings(workers=1, limits=FAST_LIMITS, regrade=True)
    redone = grade_class("sgd_batch_size", [archive], tmp_path / "out", regrade,
                         intake=Intake.read(groups=groups))  # fmt: skip
    assert len(redone.graded) == 2
    kept = {r.student_id: r for r in redone.graded}
    assert (kept["1001"].submitted_at, kept["1001"].time_source) == ("2026-01-03T09:30:00", "csv")
    assert kept["group:A"].late_flag is True


def test_moodle_date_fixture_writes_what_the_parser_reads():
    moment = datetime(2026, 2, 3, 0, 7)
    assert moodle_date(moment, "en") == "Tuesday, 3 February 2026, 12:07 AM"
    assert moodle_date(moment, "fr") == "mardi 3 février 2026, 00:07"
    assert parse_moodle_date(moodle_date(moment, "en")) == parse_moodle_date(
        moodle_date(moment, "fr")) == moment  # fmt: skip


def test_a_times_file_saved_by_a_french_spreadsheet_is_read(tmp_path):
    """Semicolons and Windows-1252, as Excel saves a CSV in French."""
    path = tmp_path / "heures.csv"
    path.write_bytes(
        "student_id;submitted_at;remarque\nélève1;2026-11-20T10:00;à l'heure\n".encode("cp1252")
    )
    assert read_times(path) == {"élève1": datetime(2026, 11, 20, 10, 0)}


def test_a_times_file_with_two_times_for_one_student_is_refused(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text(
        "student_id,submitted_at\nalice,2026-12-01T10:00\nbob,2026-12-01T11:00\n"
        "alice,2026-12-01T10:00\nalice,2026-12-02T09:00\n"
    )
    with pytest.raises(IntakeError) as error:
        read_times(path)
    assert str(error.value) == (
        f"{path}: row 5: student alice already has another time (row 2); keep one row per student"
    )


@pytest.mark.parametrize("rows", ["G1,alice\nG1,bob\n", "G1,bob\nG1,alice\n"])
def test_a_group_s_notebook_and_time_are_its_sender_s_whatever_the_rows_order(tmp_path, rows):
    """Two members sent a notebook, each with a time in --times: the newer one is kept, with
    its own time, in either order of the groups file (cycle19 #2: alice's on-time notebook
    was kept and given bob's late time when bob's row came first)."""
    folder = write_tree(tmp_path / "class", {
        "alice.ipynb": notebook_bytes(), "bob.ipynb": notebook_bytes() + b" "})  # fmt: skip
    times = tmp_path / "times.csv"
    times.write_text(
        "student_id,submitted_at\nalice,2026-10-24T20:00:00+02:00\nbob,2026-10-26T10:00:00+01:00\n"
    )
    groups = tmp_path / "groups.csv"
    groups.write_text("group,student_id\n" + rows)
    [kept], problems = collect([folder], Intake.read(times=times, groups=groups))
    assert kept.origin.endswith("bob.ipynb")
    assert kept.submitted_at == datetime.fromisoformat("2026-10-26T10:00:00+01:00")
    assert any("kept: submitted later" in p.message for p in problems)


def test_times_for_students_without_a_notebook_are_reported(tmp_path):
    """A mistyped id in --times would leave the real student without a time: say so."""
    folder = write_tree(tmp_path / "class", {"alice.ipynb": notebook_bytes()})
    times = tmp_path / "times.csv"
    times.write_text("student_id,submitted_at\nalice,2026-12-01T10:00\nalcie,2026-12-01T10:05\n")
    [alice], problems = collect([folder], Intake.read(times=times))
    assert alice.submitted_at == datetime(2026, 12, 1, 10, 0) and alice.time_source == "csv"
    assert [(p.origin, p.message) for p in problems] == [
        (str(times), "times for students without a notebook: alcie")
    ]


def test_a_run_whose_times_the_saved_policy_cannot_use_stores_nothing(tmp_path, capsys):
    """A late notebook without a time, brought into a folder with a late policy, is
    refused before anything is graded: the folder stays as it was and every command
    still reads it (before, the results were stored first and the folder then refused
    every command)."""
    from autograder.cli import main

    out, grade, class_zip = _timed_class_with_a_policy(tmp_path)
    capsys.readouterr()
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    newcomer = write_zip(tmp_path / "late.zip", {
        canvas_name("Petit, Leo", 1003, 503, "tp.ipynb", late=True): (notebook_bytes("y=2"), BUILT),
    })  # fmt: skip
    assert main([*grade, str(class_zip), str(newcomer)]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith(f"dlgrade: {out} has a late policy (late_policy.json), and Canvas ")
    assert "marks 1003 late but gives no time" in line and line.endswith("; nothing was graded")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert main(["feedback", "--graded", str(out)]) == 0


def test_a_newcomer_without_a_time_is_graded_and_named_under_a_saved_policy(tmp_path, capsys):
    """A notebook without a time, in a class that has times and a late policy, is graded:
    its penalty waits for its time, as late-policy leaves it, and the run names it with
    the one file to give (before, the whole run was refused; cycle 14, #9)."""
    from autograder.cli import main

    out, grade, class_zip = _timed_class_with_a_policy(tmp_path)
    capsys.readouterr()
    newcomer = write_zip(tmp_path / "new.zip", {
        canvas_name("Petit, Leo", 1003, 503, "tp.ipynb"): (notebook_bytes("y=2"), BUILT),
    })  # fmt: skip
    assert main([*grade, str(class_zip), str(newcomer)]) == 0
    captured = capsys.readouterr()
    printed = " ".join((captured.out + captured.err).split())
    assert "no submission time for 1003, while other students have one" in printed
    assert "holding just their rows" in printed
    grades = pd.read_csv(out / "grades.csv", dtype={"student_id": str}).set_index("student_id")
    assert pd.isna(grades.loc["1003", "late_penalty"])  # unknown, not 0
    assert not pd.isna(grades.loc["1002", "late_penalty"])


def _timed_class_with_a_policy(tmp_path: Path) -> tuple[Path, list[str], Path]:
    """A Canvas class graded with its times, then a late policy saved: its folder, the
    grade command to run into it again, and the class's archive."""
    from autograder.cli import main

    from .conftest import FAST_LIMITS

    times = tmp_path / "times.csv"
    times.write_text("student_id,submitted_at\n1001,2026-12-01T20:00\n1002,2026-12-02T10:00\n")
    out = tmp_path / "out"
    grade = ["grade", "sgd_batch_size", "--out", str(out), "--workers", "1",
             "--timeout", str(FAST_LIMITS.wall_seconds)]  # fmt: skip
    class_zip = canvas_zip(tmp_path)
    assert main([*grade, str(class_zip), "--times", str(times)]) == 0
    late = ["late-policy", "--graded", str(out), "--deadline", "2026-12-01T23:59",
            "--percent-per-day", "10"]  # fmt: skip
    assert main(late) == 0
    return out, grade, class_zip
