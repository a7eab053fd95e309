"""Round trips through each LMS's own files: the gradebook export, Grade Center download or
grading worksheet the instructor downloads goes in as the roster; the file written back
updates the same item, on its scale, with each student's feedback, and never clears a
grade it has nothing to say about.

The files below are shaped as the LMSs write them (Canvas's export has the "Points
Possible" row and read-only total columns; Blackboard's download ends each item's header
in ``|column id``; Moodle's worksheet comes in the teacher's language, "Participant N").
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from autograder.class_run import grade_class
from autograder.cli import main
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.lms_export import RosterError, export
from autograder.manual import import_scores
from autograder.moodle_worksheet import read_worksheet
from autograder.sample_class import write_sample_class

from .conftest import FAST_LIMITS, correct_notebook
from .lms_layouts import canvas_name

ASSIGNMENT = "sgd_batch_size"
COMMENT = "Bonne intuition sur le bruit du gradient"

CANVAS_EXPORT = """\
Student,ID,SIS User ID,SIS Login ID,Section,TP1 Rétropropagation (4812),TP2 Taille de batch (4813),Assignments Current Score,Assignments Final Score,Current Score,Final Score
    Points Possible,,,,,20.00,20.00,(read only),(read only),(read only),(read only)
"Dupont, Jean",101,E2026001,jdupont,Groupe A,15.00,,75.00,37.50,75.00,37.50
"Martin, Léa",102,E2026002,lmartin,Groupe A,12.50,,62.50,31.25,62.50,31.25
"Petit, Zoé",103,E2026003,zpetit,Groupe B,18.00,,90.00,45.00,90.00,45.00
"Nguyen, An",104,E2026004,anguyen,Groupe B,9.00,12.00,52.50,52.50,52.50,52.50
"Roux, Paul",105,E2026005,proux,Groupe B,,,,,,
"Student, Test",999,,a1b2c3d4e5,Groupe A,,,,,,
"""

BLACKBOARD_DOWNLOAD = [
    ["Last Name", "First Name", "Username", "Student ID", "Last Access", "Availability",
     "Weighted Total [Total Pts: up to 0 Percentage] |1202",
     "Total [Total Pts: up to 40 Score] |1201",
     "TP1 Rétropropagation [Total Pts: 20 Score] |1343",
     "TP2 Taille de batch [Total Pts: 20 Score] |1344"],
    ["Dupont", "Jean", "jdupont", "E2026001", "2026-12-02 10:14:03", "Available", "", "15", "15", ""],
    ["Martin", "Léa", "lmartin", "E2026002", "2026-12-02 09:01:44", "Available", "", "", "", ""],
    ["Petit", "Zoé", "zpetit", "E2026003", "2026-12-01 22:40:17", "Available", "", "", "", ""],
    ["Nguyen", "An", "anguyen", "E2026004", "2026-11-30 18:12:09", "Available", "", "12", "", "12"],
]  # fmt: skip

WORKSHEET = {
    "en": """\
Identifier,"Full name","Email address",Status,Grade,"Maximum grade","Grade can be changed","Last modified (submission)","Last modified (grade)","Feedback comments"
"Participant 1201","Jean Dupont",jean.dupont@example.org,"Submitted for grading - Not graded",,20.00,Yes,"Monday, 1 December 2026, 10:12 PM",-,
"Participant 1202","Léa Martin",lea.martin@example.org,"Submitted for grading - Not graded",,20.00,Yes,"Monday, 1 December 2026, 9:40 PM",-,
"Participant 1203","Zoé Petit",zoe.petit@example.org,"Submitted for grading - Not graded",,20.00,Yes,"Tuesday, 2 December 2026, 8:03 AM",-,
"Participant 1204","An Nguyen",an.nguyen@example.org,"No submission - Graded",12.00,20.00,Yes,-,"Friday, 5 December 2026, 2:10 PM","Rendu sur papier"
""",
    "fr": """\
Identifiant,"Nom complet","Adresse de courriel",Statut,Note,"Note maximale","La note peut être modifiée","Dernière modification (travail remis)","Dernière modification (note)","Commentaires de feedback"
"Participant 1201","Jean Dupont",jean.dupont@example.org,"Remis pour évaluation - Pas évalué",,"20,00",Oui,"lundi 1 décembre 2026, 22:12",-,
"Participant 1202","Léa Martin",lea.martin@example.org,"Remis pour évaluation - Pas évalué",,"20,00",Oui,"lundi 1 décembre 2026, 21:40",-,
"Participant 1203","Zoé Petit",zoe.petit@example.org,"Remis pour évaluation - Pas évalué",,"20,00",Oui,"mardi 2 décembre 2026, 08:03",-,
"Participant 1204","An Nguyen",an.nguyen@example.org,"Aucun travail remis - Évalué","12,00","20,00",Oui,-,"vendredi 5 décembre 2026, 14:10","Rendu sur papier"
""",
}


@pytest.fixture(scope="module")
def graded_results(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("roundtrip")
    write_sample_class(folder / "class", ASSIGNMENT, project, size=3)
    run = grade_class(ASSIGNMENT, [folder / "class"], folder / "graded",
                      Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    return sorted(run.graded, key=lambda r: r.student_id)


def graded_as(folder: Path, graded_results, ids: list[str],
              members: dict[str, tuple[str, ...]] | None = None,
              lms: str | None = None) -> dict[str, float]:  # fmt: skip
    """The class graded under the LMS's ids (the first with a hand grade of 3 and a
    comment, the others 0: hand grading finished), named by ``lms``'s download if given;
    returns each id's final grade out of 11."""
    gradebook = Gradebook.in_folder(folder)
    run = gradebook.start_run(ASSIGNMENT, "hash", {})
    renamed = [replace(r, student_id=i, members=(members or {}).get(i, (i,)), lms=lms)
               for r, i in zip(graded_results, ids, strict=True)]  # fmt: skip
    gradebook.record(run, *renamed)
    others = "".join(f"{i},0,\n" for i in ids[1:])
    (folder / "hand.csv").write_text(f"student_id,points,comment\n{ids[0]},3,{COMMENT}\n{others}",
                                     "utf-8")  # fmt: skip
    import_scores(ASSIGNMENT, "q4_conclusion", folder / "hand.csv", gradebook)
    gradebook.close()
    return {r.student_id: r.score + (3 if r.student_id == ids[0] else 0) for r in renamed}


def on_20(points: float) -> float:
    return round(points * 20 / 11, 2)


def rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("excel", [False, True], ids=["as-downloaded", "french-excel"])
def test_canvas_gradebook_export_is_the_roster_and_its_column_is_reused(
    graded_results, tmp_path, excel
):
    grades = graded_as(tmp_path / "graded", graded_results, ["101", "102", "103"])
    roster = tmp_path / "canvas_export.csv"
    if excel:  # re-saved by French Excel: semicolons, BOM
        text = io.StringIO()
        csv.writer(text, delimiter=";").writerows(csv.reader(io.StringIO(CANVAS_EXPORT)))
        roster.write_text(text.getvalue(), encoding="utf-8-sig")
    else:
        roster.write_text(CANVAS_EXPORT, encoding="utf-8")
    export("canvas", tmp_path / "graded", roster, tmp_path / "lms", lms_id="4813")
    table = rows(tmp_path / "lms" / "canvas_import.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                        "TP2 Taille de batch (4813)"]  # fmt: skip
    assert table[1] == ["    Points Possible", "", "", "", "", "20"]
    assert {row[1]: float(row[5]) for row in table[2:]} == {s: on_20(g) for s, g in grades.items()}
    assert table[2][:5] == ["Dupont, Jean", "101", "E2026001", "jdupont", "Groupe A"]
    # An's 12 and the test student are not in the file: Canvas keeps what it has
    report = (tmp_path / "lms" / "canvas_roster_report.txt").read_text(encoding="utf-8")
    assert "grades scaled from /11 to /20" in report
    assert "no submission (left out: its grade in the LMS is kept): 104" in report


CANVAS_COLLIDING_IDS = """\
Student,ID,SIS User ID,SIS Login ID,Section,TP2 Taille de batch (4813)
    Points Possible,,,,,20.00
"Dupont, Jean",101,E2026001,jdupont,Groupe A,
"Petit, Luc",1040,1013,lpetit,Groupe B,8.00
"""


@pytest.mark.parametrize("sofia_has_a_row", [False, True])
def test_a_canvas_user_id_never_lands_on_another_student_s_sis_id(
    graded_results, tmp_path, sofia_has_a_row
):
    """Sofia's Canvas user id 1013 (from her Canvas file name) is Luc's SIS User ID: her
    grade goes to her own row, or nowhere (reported), never to Luc's."""
    grades = graded_as(tmp_path / "graded", graded_results, ["101", "1013", "1040"], lms="canvas")
    sofia = '"Rossi, Sofia",1013,E2026013,srossi,Groupe B,\n' if sofia_has_a_row else ""
    roster = tmp_path / "canvas_export.csv"
    roster.write_text(CANVAS_COLLIDING_IDS + sofia, encoding="utf-8")
    report = export("canvas", tmp_path / "graded", roster, tmp_path / "lms", lms_id="4813")
    table = {row[1]: row for row in rows(tmp_path / "lms" / "canvas_import.csv")[2:]}
    assert float(table["1040"][5]) == on_20(grades["1040"])  # Luc: his own grade
    if sofia_has_a_row:
        assert float(table["1013"][5]) == on_20(grades["1013"]) and report.ambiguous == []
    else:
        assert "1013" not in table and report.not_in_roster == ["1013"]


def test_canvas_item_is_chosen_by_name_or_refused_when_unclear(graded_results, tmp_path):
    graded_as(tmp_path / "graded", graded_results, ["101", "102", "103"])
    roster = tmp_path / "canvas_export.csv"
    roster.write_text(CANVAS_EXPORT, encoding="utf-8")
    export("canvas", tmp_path / "graded", roster, tmp_path / "lms", item="TP2 Taille de batch")
    assert rows(tmp_path / "lms" / "canvas_import.csv")[0][5] == "TP2 Taille de batch (4813)"
    with pytest.raises(
        RosterError,
        match=r"canvas_export\.csv: 2 item columns "
        r"\(TP1 Rétropropagation \(4812\), TP2 Taille de batch \(4813\)\); choose one with",
    ) as unclear:
        export("canvas", tmp_path / "graded", roster, tmp_path / "lms")  # fmt: skip
    assert unclear.value.reason == "lms_item_choose"  # the web says it with its form's words


def test_blank_only_when_asked(graded_results, tmp_path):
    graded_as(tmp_path / "graded", graded_results, ["101", "102", "103"])
    roster = tmp_path / "canvas_export.csv"
    roster.write_text(CANVAS_EXPORT, encoding="utf-8")
    assert main(["export", "--lms", "canvas", "--graded", str(tmp_path / "graded"),
                 "--roster", str(roster), "--out", str(tmp_path / "lms"), "--lms-id", "4813",
                 "--blank-missing"]) == 0  # fmt: skip
    cells = {row[1]: row[5] for row in rows(tmp_path / "lms" / "canvas_import.csv")[2:]}
    assert cells["105"] == "" and "999" not in cells  # Canvas's test student: left alone
    assert "104" not in cells  # 12.00 given in Canvas: never erased


@pytest.mark.parametrize("missing", ["zero", "blank"])
@pytest.mark.parametrize(("lms", "held"), [("canvas", "EX"), ("canvas", "9.50"),
                                           ("moodle", "14,00")])  # fmt: skip
def test_an_excusal_or_a_grade_already_in_the_lms_is_never_overwritten(
    graded_results, tmp_path, lms, held, missing
):
    """A student without a submission whom the LMS holds as excused, or graded by hand
    there, keeps that: the import file leaves the row alone and the report says why."""
    if lms == "canvas":
        graded_as(tmp_path / "graded", graded_results, ["101", "102", "103"])
        roster = tmp_path / "canvas_export.csv"
        roster.write_text(CANVAS_EXPORT.replace("9.00,12.00,", f"9.00,{held},"), "utf-8")
        report = export(lms, tmp_path / "graded", roster, tmp_path / "lms", lms_id="4813",
                        missing=missing, partial=True)  # fmt: skip
        cells = {row[1]: row[5] for row in rows(tmp_path / "lms" / "canvas_import.csv")[2:]}
        assert "104" not in cells and cells["105"] == ("0" if missing == "zero" else "")
        student = "104"
    else:
        graded_as(tmp_path / "graded", graded_results, ["1201", "1203", "9999"])
        roster = tmp_path / "worksheet.csv"
        roster.write_text(WORKSHEET["fr"].replace('"12,00"', f'"{held}"'), encoding="utf-8")
        report = export(lms, tmp_path / "graded", roster, tmp_path / "lms", missing=missing,
                        partial=True)  # fmt: skip
        sent = rows(tmp_path / "lms" / "moodle_worksheet.csv")
        assert sent[4] == rows(roster)[4]  # An's row exactly as Moodle gave it
        assert sent[2][4] == ("0" if missing == "zero" else "")  # Léa: nothing anywhere
        student = "1204"
    lines = report.lines()
    assert (f"in the roster, no submission, and the LMS already holds this (left as it is): "
            f"{student} ({held})") in lines  # fmt: skip
    assert not any(line.endswith(f": {student}") for line in lines)


@pytest.mark.parametrize("saved", ["csv", "xls"])
def test_blackboard_grade_center_download_gives_the_column_id(graded_results, tmp_path, saved):
    grades = graded_as(tmp_path / "graded", graded_results, ["jdupont", "lmartin", "zpetit"])
    roster = tmp_path / f"gc_download.{saved}"
    if saved == "csv":  # "Comma" delimiter: every field quoted
        text = io.StringIO()
        csv.writer(text, quoting=csv.QUOTE_ALL).writerows(BLACKBOARD_DOWNLOAD)
        roster.write_text(text.getvalue(), encoding="utf-8")
    else:  # the default download: tab-delimited UTF-16 named .xls
        roster.write_text("\n".join("\t".join(r) for r in BLACKBOARD_DOWNLOAD), encoding="utf-16")
    export("blackboard", tmp_path / "graded", roster, tmp_path / "lms", item="TP2 Taille de batch")
    text = (tmp_path / "lms" / "blackboard_import.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == (
        '"Last Name","First Name","Username","TP2 Taille de batch [Total Pts: 20 Score] |1344"'
    )
    table = rows(tmp_path / "lms" / "blackboard_import.csv")
    assert {row[2]: float(row[3]) for row in table[1:]} == {s: on_20(g) for s, g in grades.items()}


@pytest.mark.parametrize("lms", ["canvas", "blackboard"])
def test_no_item_id_no_file(graded_results, tmp_path, capsys, lms):
    """Without the LMS's id, the import would create a duplicate item: refused in one line."""
    graded_as(tmp_path / "graded", graded_results, ["sgd001", "sgd002", "sgd003"])
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,username\nsgd001,jdupont\n", encoding="utf-8")
    assert main(["export", "--lms", lms, "--graded", str(tmp_path / "graded"), "--roster",
                 str(roster), "--out", str(tmp_path / "lms")]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "give --lms-id" in err and "would create a new" in err
    assert not (tmp_path / "lms").exists()


def test_another_lms_s_file_as_roster_is_named_for_what_it_is(graded_results, tmp_path, capsys):
    """Blackboard's Grade Center download given to a Canvas export: the one line says
    which LMS the file comes from, not only that an id is missing."""
    graded_as(tmp_path / "graded", graded_results, ["jdupont", "lmartin", "zpetit"])
    roster = tmp_path / "gc_download.xls"
    roster.write_text("\n".join("\t".join(r) for r in BLACKBOARD_DOWNLOAD), encoding="utf-16")
    assert main(["export", "--lms", "canvas", "--graded", str(tmp_path / "graded"), "--roster",
                 str(roster), "--out", str(tmp_path / "lms")]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err == (
        f"dlgrade: {roster}: this is Blackboard's Grade Center download, not Canvas's; export "
        "with --lms blackboard, or give Canvas's own export of the grades as --roster"
    )
    assert not (tmp_path / "lms").exists()


@pytest.mark.parametrize(("language", "by"), [("en", "email"), ("fr", "participant")])
def test_moodle_grading_worksheet_goes_back_in_its_own_language(graded_results, tmp_path,
                                                                language, by):  # fmt: skip
    """The intake names Moodle students by email once it has the worksheet, by participant
    id without it: both find their row."""
    ids = (["jean.dupont@example.org", "lea.martin@example.org", "zoe.petit@example.org"]
           if by == "email" else ["1201", "1202", "1203"])  # fmt: skip
    grades = graded_as(tmp_path / "graded", graded_results, ids)
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(WORKSHEET[language], encoding="utf-8")
    export("moodle", tmp_path / "graded", worksheet, tmp_path / "lms", lang=language)
    written = tmp_path / "lms" / "moodle_worksheet.csv"
    downloaded, table = rows(worksheet), rows(written)
    assert table[0] == downloaded[0]  # same headers, same language
    assert [row[0] for row in table] == [row[0] for row in downloaded]
    for row, student in zip(table[1:4], ids, strict=True):
        grade = f"{on_20(grades[student]):g}"
        assert row[4] == (grade.replace(".", ",") if language == "fr" else grade)
        assert (
            "Notebook exécuté et corrigé" not in row[9] and "Notebook run and graded" not in row[9]
        )
        assert row[8] == "-"  # Moodle compares it to detect grades changed since download
    assert COMMENT in table[1][9] and "<strong>" in table[1][9]
    assert "/ 20" in table[1][9]  # the page's grade is the one sent, on Moodle's scale
    assert table[4] == downloaded[4]  # no submission: An's grade and comment untouched
    back = read_worksheet(written)  # what Moodle reads when the file is uploaded
    assert back["1201"].feedback == table[1][9] and back["1204"].grade == downloaded[4][4]


def test_moodle_refuses_a_student_it_cannot_identify(graded_results, tmp_path, capsys):
    graded_as(tmp_path / "graded", graded_results, ["sgd001", "sgd002", "sgd003"])
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_id,email,username\nsgd001,jean@example.org,\nsgd002,,\nsgd003,,\n", "utf-8"
    )
    assert main(["export", "--lms", "moodle", "--graded", str(tmp_path / "graded"), "--roster",
                 str(roster), "--out", str(tmp_path / "lms")]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err == (  # every such student, not the first only
        f"dlgrade: {roster}: row 3 (student sgd002), row 4 (student sgd003) have no email, "
        "username or ID number, so the LMS cannot tell who they are; add it to the roster"
    )
    assert not (tmp_path / "lms").exists()


def test_a_group_grade_and_feedback_reach_every_member(graded_results, tmp_path):
    """A group submission (``group:<name>``, as the intake names it) reaches its members."""
    ids = ["group:Groupe A", "sgd002", "sgd003"]
    grades = graded_as(tmp_path / "graded", graded_results, ids,
                       members={"group:Groupe A": ("sgd011", "sgd012")})  # fmt: skip
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id;email\n" + "".join(
        f"{s};{s}@example.org\n" for s in ["sgd002", "sgd003", "sgd011", "sgd012", "sgd013"]
    ), "utf-8-sig")  # fmt: skip
    report = export("moodle", tmp_path / "graded", roster, tmp_path / "lms", item="TP2")
    table = {row[0].split("@")[0]: row for row in rows(tmp_path / "lms" / "moodle_import.csv")}
    for member in ("sgd011", "sgd012"):
        assert table[member][3] == f"{grades['group:Groupe A']:g}"
        assert COMMENT in table[member][4]
    assert COMMENT not in table["sgd002"][4] and "sgd013" not in table
    assert report.not_in_roster == [] and report.no_submission == ["sgd013"]
    export("gradescope", tmp_path / "graded", None, tmp_path / "gs")
    with (tmp_path / "gs" / "gradescope_folders.csv").open(encoding="utf-8") as file:
        folder = {row["student_id"]: row["folder"] for row in csv.DictReader(file)}
    group = tmp_path / "gs" / "gradescope" / folder["group:Groupe A"] / "results.json"
    result = json.loads(group.read_text(encoding="utf-8"))
    assert result["score"] == grades["group:Groupe A"] and COMMENT in result["output"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not graded", "not-graded: no gradebook.sqlite here; grade a class into this folder"),
        ("no roster file", "absent.csv: unreadable (No such file or directory); check the path"),
        ("not a roster", "notes.csv: not a roster: give a CSV with a 'student_id' column"),
        ("scale disagrees", "--scale-to 10, but"),
        ("unknown column id", "--lms-id 9999 matches 0 of its columns"),
    ],
)
def test_export_mistakes_are_one_line_and_write_nothing(graded_results, tmp_path, capsys, case,
                                                        message):  # fmt: skip
    graded_as(tmp_path / "graded", graded_results, ["101", "102", "103"])
    roster = tmp_path / "canvas_export.csv"
    roster.write_text(CANVAS_EXPORT, encoding="utf-8")
    (tmp_path / "notes.csv").write_text("nom;note\nJean;12\n", encoding="utf-8")
    graded, options = tmp_path / "graded", ["--lms-id", "4813"]
    if case == "not graded":
        graded = tmp_path / "not-graded"
    elif case == "no roster file":
        roster = tmp_path / "absent.csv"
    elif case == "not a roster":
        roster = tmp_path / "notes.csv"
    elif case == "scale disagrees":
        options += ["--scale-to", "10"]
    else:
        options = ["--lms-id", "9999"]
    assert main(["export", "--lms", "canvas", "--graded", str(graded), "--roster", str(roster),
                 "--out", str(tmp_path / "lms"), *options]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err
    assert not (tmp_path / "lms").exists() and not (tmp_path / "not-graded").exists()


def test_a_roster_that_names_none_of_the_graded_students_is_refused(
    graded_results, tmp_path, capsys
):
    """Graded under ids the LMS does not know (a Blackboard attempt's whole file name), an
    export would write a file of headers only, and report success."""
    graded_as(tmp_path / "graded", graded_results,
              ["TP2_jdupont_attempt_1", "TP2_lmartin_attempt_1", "TP2_zpetit_attempt_1"])  # fmt: skip
    roster = tmp_path / "gc_download.csv"
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL).writerows(BLACKBOARD_DOWNLOAD)
    roster.write_text(text.getvalue(), encoding="utf-8")
    assert main(["export", "--lms", "blackboard", "--graded", str(tmp_path / "graded"),
                 "--roster", str(roster), "--out", str(tmp_path / "lms"),
                 "--lms-id", "1344"]) == 2  # fmt: skip
    assert capsys.readouterr().err.strip() == (
        f"dlgrade: {roster}: not one of the 3 graded students is in it (graded: "
        "TP2_jdupont_attempt_1, TP2_lmartin_attempt_1, TP2_zpetit_attempt_1…; the roster's: "
        "jdupont, lmartin, zpetit…): give the roster of this course, or grade again with the "
        "LMS's ids (--id-pattern, docs/intake.md)"
    )
    assert not (tmp_path / "lms").exists()


@pytest.mark.parametrize("identical", [False, True], ids=["distinct", "identical"])
def test_the_whole_moodle_cycle_through_the_command_line(project, tmp_path, capsys, identical):
    """Download → grade (with the worksheet's people and times) → hand-grade → late
    policy → the worksheet filled in, as an instructor runs it; also when the students
    hand in the same notebook (the template untouched, a copy)."""
    samples = write_sample_class(tmp_path / "samples", ASSIGNMENT, project, size=8)
    samples = list({s.path.read_bytes(): s for s in samples}.values())[:3]  # distinct notebooks
    if identical:
        samples = samples[:1] * 3
    download = tmp_path / "download"
    for participant, name, sample in zip(("1201", "1202", "1203"),
                                         ("Jean Dupont", "Léa Martin", "Zoé Petit"), samples,
                                         strict=True):  # fmt: skip
        folder = download / f"{name}_{participant}_assignsubmission_file_"
        folder.mkdir(parents=True)
        (folder / "tp_sgd.ipynb").write_bytes(sample.path.read_bytes())
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(WORKSHEET["fr"], encoding="utf-8")
    out = tmp_path / "out"
    assert main(["grade", ASSIGNMENT, str(download), "--out", str(out), "--workers", "2",
                 "--moodle-worksheet", str(worksheet)]) == 0  # fmt: skip
    assert main(["manual", "export", ASSIGNMENT, "q4_conclusion", str(download),
                 "--out", str(tmp_path / "hand"), "--graded", str(out)]) == 0  # fmt: skip
    filled = tmp_path / "hand" / f"{ASSIGNMENT}-q4_conclusion.csv"
    with filled.open(encoding="utf-8") as file:
        hand = list(csv.DictReader(file))
    assert {row["student_id"] for row in hand} == {
        "jean.dupont@example.org", "lea.martin@example.org", "zoe.petit@example.org"}  # fmt: skip
    for row in hand:
        row["points"], row["comment"] = "3", COMMENT
    with filled.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(hand[0]))
        writer.writeheader()
        writer.writerows(hand)
    assert main(["manual", "import", ASSIGNMENT, "q4_conclusion", str(filled),
                 "--graded", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["late-policy", "--graded", str(out), "--deadline", "1 décembre 2026 23h59",
                 "--percent-per-day", "10"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "zoe.petit@example.org: submitted 2026-12-02T08:03:00" in printed
    assert "1 late submission(s) of 3" in printed
    extensions = tmp_path / "extensions.csv"  # Zoé's, a typo, and a Moodle participant number
    extensions.write_text("student_id,deadline\nzoe.petit@example.org,2026-12-03T12:00\n"
                          "zoe.petti@example.org,2026-12-03T12:00\n4567,2026-12-03T12:00\n",
                          "utf-8")  # fmt: skip
    assert main(["late-policy", "--graded", str(out), "--deadline", "1 décembre 2026 23h59",
                 "--percent-per-day", "10", "--extensions", str(extensions)]) == 0  # fmt: skip
    printed = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"zoe\.petit@example\.org: submitted 2026-12-02T08:03:00\S*, after the "
                        r"deadline, on time by the extension until 2026-12-03T12:00:00\S*",
                        printed[2]), printed  # fmt: skip
    assert printed[3].startswith("0 late submission(s) of 3")
    assert printed[-1] == (
        "extensions for no graded student or group member: 4567, zoe.petti@example.org (no "
        "notebook yet, or an id that is not the one grades.csv uses: check them)"
    )
    assert main(["late-policy", "--graded", str(out), "--deadline", "1 décembre 2026 23h59",
                 "--percent-per-day", "10"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["export", "--lms", "moodle", "--graded", str(out), "--roster", str(worksheet),
                 "--out", str(tmp_path / "lms")]) == 0  # fmt: skip
    with (out / "grades.csv").open(encoding="utf-8") as file:
        final = {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}
    table = rows(tmp_path / "lms" / "moodle_worksheet.csv")
    assert table[0] == rows(worksheet)[0]
    sent = {row[2]: row for row in table[1:4]}
    for email, grade in final.items():
        assert sent[email][4] == f"{on_20(grade):g}".replace(".", ",")
        assert COMMENT in sent[email][9]
    assert "pénalité de 10 %" in sent["zoe.petit@example.org"][9]
    # the penalty's grades on the item's scale, as the grade above them: "→ 12,27", not "→ 6,75"
    assert f"→ {sent['zoe.petit@example.org'][4]}." in sent["zoe.petit@example.org"][9]
    assert "pénalité" not in sent["jean.dupont@example.org"][9]


def test_a_student_who_sent_only_a_pdf_is_not_told_as_sending_nothing(project, tmp_path):
    """Canvas shows An's files, none of them a notebook: the export says so apart from
    the students who sent nothing, since the instructor has a file to look at."""
    download = tmp_path / "submissions"
    download.mkdir()
    nbformat.write(correct_notebook(project, ASSIGNMENT),
                   download / canvas_name("Dupont, Jean", 101, 5001, "tp2.ipynb"))  # fmt: skip
    (download / canvas_name("Nguyen, An", 104, 5002, "rapport.pdf")).write_bytes(b"%PDF-1.4")
    graded = tmp_path / "graded"
    run = grade_class(ASSIGNMENT, [download], graded, Settings(limits=FAST_LIMITS))
    assert [p.message for p in run.problems] == [
        "student 104 submitted no notebook (.ipynb), only nguyenan_104_5002_rapport.pdf: not graded"
    ]
    roster = tmp_path / "canvas_export.csv"
    roster.write_text(CANVAS_EXPORT.replace("9.00,12.00,", "9.00,,"), encoding="utf-8")
    report = export(
        "canvas", graded, roster, tmp_path / "lms", lms_id="4813", missing="zero", partial=True
    )
    lines = report.lines()
    assert "in the roster, sent no notebook (exported as 0; look at what they sent): 104 " \
           "(nguyenan_104_5002_rapport.pdf)" in lines  # fmt: skip
    assert "in the roster, no submission (exported as 0): 105" in lines
    assert not any(line.endswith(": 104") for line in lines)
    # once An sends a notebook, the next run forgets the PDF
    nbformat.write(correct_notebook(project, ASSIGNMENT),
                   download / canvas_name("Nguyen, An", 104, 5003, "tp2.ipynb"))  # fmt: skip
    grade_class(ASSIGNMENT, [download], graded, Settings(limits=FAST_LIMITS))
    lines = export("canvas", graded, roster, tmp_path / "lms", lms_id="4813", partial=True).lines()
    assert not any("104" in line for line in lines)


def test_a_zip_in_the_lms_download_or_a_pdf_named_by_id_pattern_counts_as_sent(project, tmp_path):
    """Files the LMS attributes to a student but that hold no notebook put that student
    among those who sent something, however they were named: a zip inside Canvas's zip,
    a PDF in a Blackboard download read with --id-pattern."""
    import zipfile

    from autograder.submissions import Intake

    download = tmp_path / "canvas.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr(canvas_name("Dupont, Jean", 101, 5001, "tp2.ipynb"),
                         nbformat.writes(correct_notebook(project, ASSIGNMENT)))  # fmt: skip
        archive.writestr(canvas_name("Nguyen, An", 104, 5002, "tp2.zip"), b"PK\x05\x06" + bytes(18))
    run = grade_class(ASSIGNMENT, [download], tmp_path / "canvas", Settings(limits=FAST_LIMITS))
    assert [p.message for p in run.problems] == [
        "student 104 submitted no notebook (.ipynb), only nguyenan_104_5002_tp2.zip: not graded"
    ]

    blackboard = tmp_path / "blackboard"
    blackboard.mkdir()
    stamp = "attempt_2026-12-01-10-00-00"
    nbformat.write(correct_notebook(project, ASSIGNMENT),
                   blackboard / f"TP2_jdupont_{stamp}_tp2.ipynb")  # fmt: skip
    (blackboard / f"TP2_epetit_{stamp}_tp2.pdf").write_bytes(b"%PDF-1.4")
    (blackboard / f"TP2_epetit_{stamp}.txt").write_text("Name: Emma Petit (epetit)\n", "utf-8")
    intake = Intake.read(id_pattern=r"^TP2_(?P<student>[^_]+)_attempt_")
    run = grade_class(ASSIGNMENT, [blackboard], tmp_path / "bb", Settings(limits=FAST_LIMITS),
                      intake=intake)  # fmt: skip
    assert [p.message for p in run.problems] == [
        f"student epetit submitted no notebook (.ipynb), only TP2_epetit_{stamp}.txt, "
        f"TP2_epetit_{stamp}_tp2.pdf: not graded"
    ]
    assert [r.student_id for r in run.graded] == ["jdupont"]
