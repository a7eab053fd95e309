"""Every intake layout gives one submission per student (or group), under the id the LMS
gave, whatever the students called their files; when one has several, the newest by the
LMS is graded and the others are reported; groups reach every member."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import datetime

import pandas as pd
import pytest

from autograder import results
from autograder.gradebook import Gradebook
from autograder.submissions import (
    Intake,
    IntakeError,
    collect,
    compile_id_pattern,
    read_groups,
)

from .conftest import current_hash
from .lms_layouts import (
    canvas_name,
    gradescope_export,
    moodle_flat_name,
    moodle_folder,
    notebook_bytes,
    write_download,
    write_tree,
    write_unflagged_zip,
    write_worksheet,
    write_zip,
)


def by_student(found) -> dict[str, object]:
    return {s.student_id: s for s in found}


# --- Canvas ------------------------------------------------------------------------------


def test_canvas_names_keep_their_ids_late_anonymous_and_with_underscores(tmp_path):
    members = {
        canvas_name("Dupont, Jean", 1001, 501, "tp.ipynb"): notebook_bytes(),
        canvas_name("Martin, Zoé", 1002, 502, "tp.ipynb", late=True): notebook_bytes(),
        canvas_name("Old, Canvas", 1003, 503, "tp.ipynb", late=True, late_marker="late"):
            notebook_bytes(),
        canvas_name("de_la_Cruz, Ana_Maria", 1004, 504, "tp.ipynb"): notebook_bytes(),
        canvas_name("Nguyen2, Li", 1005, 505, "tp_12_34_final.ipynb"): notebook_bytes(),
        canvas_name(None, None, 506, "tp.ipynb", anonymous_id="Ab3xY"): notebook_bytes(),
        canvas_name(None, None, 507, "12_3_tp.ipynb", anonymous_id="k9Pq2", late=True):
            notebook_bytes(),
    }  # fmt: skip
    assert "de_la_cruzana_maria_1004_504_tp.ipynb" in members  # Canvas keeps underscores
    assert "LATE_anon_k9Pq2_507_12_3_tp.ipynb" in members
    found, problems = collect([write_zip(tmp_path / "canvas.zip", members)])
    students = by_student(found)
    assert sorted(students) == ["1001", "1002", "1003", "1004", "1005", "anon_Ab3xY", "anon_k9Pq2"]
    assert problems == []
    assert students["1004"].student_name == "de_la_cruzana_maria"
    assert {s for s, sub in students.items() if sub.late_flag} == {"1002", "1003", "anon_k9Pq2"}
    for submission in found:
        ambiguous = submission.student_id == "1005"  # also reads as user 12: named more weakly
        assert submission.lms == "canvas"
        assert submission.named_by == ("ambiguous lms" if ambiguous else "lms"), submission
        assert submission.members == (submission.student_id,)


def test_canvas_several_attachments_keep_the_newest_attachment_not_the_first_name(tmp_path):
    members = {
        canvas_name("Dupont, Jean", 1001, 900, "a_first_name.ipynb"): notebook_bytes("new"),
        canvas_name("Dupont, Jean", 1001, 100, "z_last_name.ipynb"): notebook_bytes("old"),
        canvas_name("Martin, Zoe", 1002, 300, "tp.ipynb"): notebook_bytes(),
    }
    archive = write_zip(tmp_path / "canvas.zip", members)
    found, problems = collect([archive])
    assert by_student(found)["1001"].origin.endswith("dupontjean_1001_900_a_first_name.ipynb")
    reported = sorted(p.origin.split("!")[1] for p in problems)
    assert reported == [
        "dupontjean_1001_100_z_last_name.ipynb",
        "dupontjean_1001_900_a_first_name.ipynb",
    ]
    assert all("1001" in p.message for p in problems)


# --- Moodle ------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["moodle-4", "moodle-3"])
@pytest.mark.parametrize("extracted", [False, True], ids=["zip", "extracted"])
def test_moodle_folders_name_their_participant(tmp_path, legacy, extracted):
    files = {
        f"{moodle_folder('Jean Dupont', 4321, legacy=legacy)}/tp.ipynb": notebook_bytes(),
        f"{moodle_folder('Zoé_Martin', 4322, legacy=legacy)}/tp.ipynb": notebook_bytes(),
        f"{moodle_folder('Participant', 4323, legacy=legacy)}/TP final.ipynb": notebook_bytes(),
        f"{moodle_folder('Ana Cruz', 4324, legacy=legacy)}/.ipynb_checkpoints/tp-checkpoint.ipynb":
            notebook_bytes(),
        f"{moodle_folder('Ana Cruz', 4324, legacy=legacy)}/tp.ipynb": notebook_bytes(),
    }  # fmt: skip
    source = write_download(tmp_path, "Cours-TP1-42", files, extracted)
    found, problems = collect([source])
    students = by_student(found)
    assert sorted(students) == ["4321", "4322", "4323", "4324"] and problems == []
    assert students["4322"].student_name == "Zoé Martin"  # Moodle writes "_" as a space
    assert students["4324"].origin.endswith("/tp.ipynb")  # the checkpoint is ignored
    assert {s.lms for s in found} == {"moodle"}


@pytest.mark.parametrize("encoding", ["utf-8", "cp437"])
def test_accented_names_of_a_zip_without_the_utf8_flag_are_read_right(tmp_path, encoding):
    """macOS, Info-ZIP and some LMS write UTF-8 names without the flag, old Windows tools
    cp437: "Zoé" must not become "ZoÃ©", in names nor in ids read from them."""
    files = {
        "Élodie Durand/tp.ipynb": notebook_bytes(),
        "Anaïs Roy/tp.ipynb": notebook_bytes(),
    }
    found, problems = collect([write_unflagged_zip(tmp_path / "tp.zip", files, encoding)])
    assert problems == []
    assert sorted(s.student_id for s in found) == ["Anaïs Roy", "Élodie Durand"]
    assert any(s.origin.endswith("!Élodie Durand/tp.ipynb") for s in found)
    moodle = {f"{moodle_folder('Zoé Martin', 4322)}/tp.ipynb": notebook_bytes()}
    found, _ = collect([write_unflagged_zip(tmp_path / "moodle.zip", moodle, encoding)])
    assert [(s.student_id, s.student_name) for s in found] == [("4322", "Zoé Martin")]


@pytest.mark.parametrize("extracted", [False, True], ids=["zip", "extracted"])
def test_a_student_the_lms_shows_without_a_notebook_is_one_line(tmp_path, extracted):
    """A Moodle participant who uploaded tp.py and a PDF, a Canvas student who sent a .txt:
    named with what they sent; students with a notebook and a README of the export are not."""
    files = {
        f"{moodle_folder('Jean Dupont', 4321)}/tp.ipynb": notebook_bytes(),
        f"{moodle_folder('Jean Dupont', 4321)}/notes.txt": b"brouillon",
        f"{moodle_folder('Zoe Martin', 4322)}/tp.py": b"import numpy",
        f"{moodle_folder('Zoe Martin', 4322)}/rapport.pdf": b"%PDF-1.4",
        canvas_name("smithjohn", 12345, 67890, "answers.txt"): b"w = 2",
        "README.txt": b"export",
    }
    source = write_download(tmp_path, "export", files, extracted)
    found, problems = collect([source])
    assert [s.student_id for s in found] == ["4321"]
    assert [p.message for p in problems] == [
        "student 12345 submitted no notebook (.ipynb), only smithjohn_12345_67890_answers.txt: "
        "not graded",
        "student 4322 submitted no notebook (.ipynb), only rapport.pdf, tp.py: not graded",
    ]
    assert problems[1].origin.endswith(("rapport.pdf", "tp.py"))


def test_moodle_flattened_names_and_the_newest_file_of_a_participant(tmp_path):
    members = {
        moodle_flat_name("Jean Dupont", 4321, "a.ipynb"): (notebook_bytes(), (2026, 1, 2, 9, 0, 0)),
        moodle_flat_name("Jean Dupont", 4321, "b.ipynb"): (notebook_bytes(), (2026, 1, 1, 9, 0, 0)),
        moodle_flat_name("Zoé Martin", 4322, "tp.ipynb"): (notebook_bytes(), (2026, 1, 1, 9, 0, 0)),
    }  # fmt: skip
    found, problems = collect([write_zip(tmp_path / "moodle.zip", members)])
    students = by_student(found)
    assert sorted(students) == ["4321", "4322"]
    assert students["4321"].origin.endswith("_a.ipynb")  # uploaded last, although first by name
    assert len(problems) == 2


# --- folders per student -----------------------------------------------------------------


def test_nbgrader_submitted_folders_give_one_student_each(tmp_path):
    course = write_tree(tmp_path / "course", {
        "submitted/alice/ps1/ps1.ipynb": notebook_bytes(),
        "submitted/alice/ps1/timestamp.txt": b"2026-01-10 10:00:00.000000 UTC",
        "submitted/alice/ps1/.ipynb_checkpoints/ps1-checkpoint.ipynb": notebook_bytes(),
        "submitted/bob/ps1/ps1.ipynb": notebook_bytes(),
        "submitted/bob_smith/ps1/ps1.ipynb": notebook_bytes(),
    })  # fmt: skip
    for given in (course, course / "submitted"):
        found, problems = collect([given])
        assert sorted(by_student(found)) == ["alice", "bob", "bob_smith"] and problems == []
        assert {s.lms for s in found} == {"nbgrader"}


@pytest.mark.parametrize(
    "layout",
    [
        {"alice/tp.ipynb", "bob/tp.ipynb", "carol/TP.ipynb"},
        {"groupe_A/alice/tp.ipynb", "groupe_A/bob/tp.ipynb", "groupe_B/carol/tp.ipynb"},
        {"alice/rendu/tp.ipynb", "bob/rendu/tp.ipynb", "carol/tp.ipynb"},
    ],
    ids=["flat", "by-section", "nested"],
)
def test_a_folder_per_student_with_one_file_name_is_one_student_per_folder(tmp_path, layout):
    folder = write_tree(tmp_path / "class", dict.fromkeys(layout, notebook_bytes()))
    zipped = write_zip(tmp_path / "class.zip", dict.fromkeys(layout, notebook_bytes()))
    for source in (folder, zipped):
        found, problems = collect([source])
        assert sorted(s.student_id for s in found) == ["alice", "bob", "carol"]
        assert {s.named_by for s in found} == {"folder"} and problems == []


def test_a_student_folder_with_two_copies_of_the_shared_name_is_reported(tmp_path):
    folder = write_tree(tmp_path / "class", {
        "alice/tp.ipynb": notebook_bytes(), "alice/old/tp.ipynb": notebook_bytes(),
        "bob/tp.ipynb": notebook_bytes()})  # fmt: skip
    found, problems = collect([folder])
    assert sorted(s.student_id for s in found) == ["alice", "bob"]
    assert len(problems) == 2 and all("alice" in p.message for p in problems)


def test_distinct_file_names_in_one_folder_still_name_their_students(tmp_path):
    folder = write_tree(tmp_path / "course", {
        "downloads/alice.ipynb": notebook_bytes(), "downloads/bob.ipynb": notebook_bytes()})  # fmt: skip
    found, _ = collect([folder])
    assert sorted(s.student_id for s in found) == ["alice", "bob"]


# --- Gradescope --------------------------------------------------------------------------


def gradescope_class() -> dict[str, bytes]:
    return gradescope_export({
        409194023: ([("Jean Dupont", "21001234", "jean@example.edu")],
                    "2026-04-26 17:34:00.861687000 Z", {"tp.ipynb": notebook_bytes()}),
        409194024: ([("Zoé Martin", "21005678", "zoe@example.edu"),
                     ("Ana Cruz", "21009999", "ana@example.edu")],
                    "2026-04-27 09:00:12.000000000 -07:00", {"tp.ipynb": notebook_bytes()}),
    })  # fmt: skip


@pytest.mark.parametrize("extracted", [False, True], ids=["zip", "extracted"])
def test_gradescope_export_is_named_by_its_metadata_with_group_members(tmp_path, extracted):
    files = gradescope_class()
    source = write_download(tmp_path, "export", files, extracted)
    found, problems = collect([source])
    students = by_student(found)
    assert sorted(students) == ["21001234", "21005678"] and problems == []
    assert students["21001234"].student_name == "Jean Dupont"
    assert students["21005678"].members == ("21005678", "21009999")
    assert {s.lms for s in found} == {"gradescope"}


@pytest.mark.parametrize("extracted", [False, True], ids=["zip", "extracted"])
def test_metadata_uploaded_by_a_student_names_nobody(tmp_path, extracted):
    """A student's own submission_metadata.yml, claiming a classmate's id, is content."""
    files = gradescope_class()
    files["assignment_9100_export/submission_409194024/submission_metadata.yml"] = (
        b"submission_409194024:\n  :submitters:\n  - :name: Jean Dupont\n"
        b"    :sid: '21001234'\n  :created_at: 2026-04-28 09:00:00.000000000 Z\n"
    )
    source = write_download(tmp_path, "export", files, extracted)
    found, problems = collect([source])
    students = by_student(found)
    assert sorted(students) == ["21001234", "21005678"]
    assert students["21001234"].origin.endswith("submission_409194023/tp.ipynb")
    assert [p.message for p in problems] == [
        "Gradescope metadata inside a student's submission folder: ignored (only the "
        "export's is read)"
    ]


@pytest.mark.parametrize("extracted", [False, True], ids=["zip", "extracted"])
def test_a_gradescope_submission_without_a_notebook_is_reported(tmp_path, extracted):
    """A student who uploaded only the .py export is told of, not left out silently."""
    files = gradescope_export({
        409194023: ([("Jean Dupont", "21001234", "jean@example.edu")],
                    "2026-04-26 17:34:00.861687000 Z", {"tp.ipynb": notebook_bytes()}),
        409194025: ([("Paul Roux", "21004444", "paul@example.edu")],
                    "2026-04-26 18:00:00.000000000 Z", {"tp.py": b"x = 1\n"}),
    })  # fmt: skip
    found, problems = collect([write_download(tmp_path, "export", files, extracted)])
    assert sorted(by_student(found)) == ["21001234"]
    assert [p.message for p in problems] == [
        "submission_409194025 (21004444) holds no notebook (.ipynb): not graded"
    ]


@pytest.mark.parametrize("extracted", [False, True], ids=["zip", "extracted"])
def test_a_gradescope_submission_the_metadata_does_not_name_is_reported(tmp_path, extracted):
    files = gradescope_class()
    metadata = "assignment_9100_export/submission_metadata.yml"
    files[metadata] = b"submission_409194023:\n  :submitters: []\nsubmission_1: {}\n"
    found, problems = collect([write_download(tmp_path, "export", files, extracted)])
    assert sorted(by_student(found)) == ["submission_409194023", "submission_409194024"]
    assert sorted(p.message for p in problems) == [
        f"submission_{number} has no submitter in {tmp_path / 'export'}{'' if extracted else '.zip!'}"
        f"{'/' if extracted else ''}{metadata}: named from its file or folder name; check whose it is"
        for number in (409194023, 409194024)
    ]


def test_a_file_named_exactly_by_the_id_wins_over_one_that_becomes_it(tmp_path):
    names = ("alice.ipynb", "alice .ipynb", "alice\u00a0.ipynb", " alice.ipynb", "alice.IPYNB",
             "alice.Ipynb")  # fmt: skip
    for name in names:
        (tmp_path / name).write_bytes(notebook_bytes())
    found, problems = collect([tmp_path])
    assert [s.origin for s in found] == [str(tmp_path / "alice.ipynb")]
    assert problems and all("student alice" in p.message for p in problems)


def test_unreadable_gradescope_metadata_is_a_problem_and_folders_still_name(tmp_path):
    files = gradescope_class()
    files["assignment_9100_export/submission_metadata.yml"] = b"submission_1: [unclosed"
    found, problems = collect([write_zip(tmp_path / "export.zip", files)])
    assert sorted(s.student_id for s in found) == ["submission_409194023", "submission_409194024"]
    assert [p.message for p in problems] == ["unreadable Gradescope metadata (ParserError)"]


@pytest.mark.parametrize(
    "metadata",
    [b"- a\n- b\n", b"submission_409194023: 5\n", b"[" * 100_000, b"? [a]\n: b\n",
     b"submission_409194023:\n  :submitters: 7\n  :created_at: never\n",
     b"submission_409194023:\n  :submitters:\n  - :sid: [1]\n    :name: {a: 1}\n",
     b"submission_409194023:\n  :submitters:\n  - :sid: '\\x1b[2J../x'\n"],
)  # fmt: skip
def test_hostile_gradescope_metadata_never_stops_the_intake(tmp_path, metadata):
    files = gradescope_class()
    files["assignment_9100_export/submission_metadata.yml"] = metadata
    found, problems = collect([write_zip(tmp_path / "export.zip", files)])
    assert len(found) == 2
    assert all(s.student_id.isprintable() and "/" not in s.student_id for s in found)
    assert all(p.message.isprintable() for p in problems)
    assert all(s.submitted_at is None for s in found)


# --- --id-pattern ------------------------------------------------------------------------


def test_id_pattern_names_any_other_layout(tmp_path):
    folder = write_tree(tmp_path / "rendus", {
        "TP1 - 21001234 - final.ipynb": notebook_bytes(),
        "TP1 - 21005678 - v2.ipynb": notebook_bytes(),
        "notes.ipynb": notebook_bytes()})  # fmt: skip
    intake = Intake(id_pattern=compile_id_pattern(r"- (?P<student>\d{8}) -"))
    found, problems = collect([folder], intake)
    assert sorted(s.student_id for s in found) == ["21001234", "21005678", "notes"]
    assert {s.student_id: s.named_by for s in found}["21001234"] == "pattern"
    assert [p.origin for p in problems] == [str(folder / "notes.ipynb")]
    assert "does not match --id-pattern" in problems[0].message


def test_notebooks_the_id_pattern_does_not_name_are_told_in_one_line(tmp_path):
    """A pattern kept from an appeal's run meets a whole Canvas download: one line, not one
    per student, so the run's other problems stay visible."""
    folder = write_tree(tmp_path / "canvas", {
        f"nom{n}_{1000 + n}_{7000 + n}_tp2.ipynb": notebook_bytes() for n in range(5)})  # fmt: skip
    intake = Intake(id_pattern=compile_id_pattern(r"^(?P<student>\d+)\.ipynb$"))
    found, problems = collect([folder], intake)
    assert sorted(s.student_id for s in found) == [str(1000 + n) for n in range(5)]
    assert [(p.origin, p.message) for p in problems] == [(
        str(folder),
        "5 notebooks do not match --id-pattern, named by the usual rules: "
        "nom0_1000_7000_tp2.ipynb → 1000, nom1_1001_7001_tp2.ipynb → 1001, "
        "nom2_1002_7002_tp2.ipynb → 1002 and 2 more",
    )]  # fmt: skip


def test_id_pattern_reads_the_path_inside_the_archive(tmp_path):
    archive = write_zip(tmp_path / "tp.zip", {
        "L3/21001234/tp.ipynb": notebook_bytes(), "L3/21005678/tp.ipynb": notebook_bytes()})  # fmt: skip
    intake = Intake(id_pattern=compile_id_pattern(r"^L3/(?P<student>\d+)/"))
    found, problems = collect([archive], intake)
    assert sorted(s.student_id for s in found) == ["21001234", "21005678"] and problems == []


@pytest.mark.parametrize("pattern", [r"(\d+)", r"(?P<id>\d+)", "(unclosed"])
def test_a_pattern_without_the_student_group_is_one_clear_line(tmp_path, pattern):
    with pytest.raises(IntakeError) as error:
        compile_id_pattern(pattern)
    assert str(error.value).startswith(f"--id-pattern {pattern!r}: ")
    assert "\n" not in str(error.value)
    command = [sys.executable, "-m", "autograder", "grade", "sgd_batch_size", str(tmp_path),
               "--out", str(tmp_path / "out"), "--id-pattern", pattern]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [f"dlgrade: {error.value}"]
    assert not (tmp_path / "out").exists()


# --- groups ------------------------------------------------------------------------------


def test_groups_csv_makes_a_member_s_canvas_submission_the_group_s(tmp_path):
    groups = tmp_path / "groups.csv"
    groups.write_text("group,student_id\nÉquipe 1,1001\nÉquipe 1,1002\nÉquipe 2,1003\n")
    members = {
        canvas_name("Dupont, Jean", 1001, 700, "tp.ipynb"): notebook_bytes("newer"),
        canvas_name("Martin, Zoe", 1002, 600, "tp.ipynb"): notebook_bytes("older"),
        # a Canvas group assignment names the file after the group and one member's id
        canvas_name("Équipe 2", 1003, 650, "tp.ipynb"): notebook_bytes(),
        canvas_name("Seul, Sam", 1004, 640, "tp.ipynb"): notebook_bytes(),
    }
    found, problems = collect(
        [write_zip(tmp_path / "canvas.zip", members)], Intake(groups=read_groups(groups))
    )
    students = by_student(found)
    assert sorted(students) == ["1004", "group:Équipe 1", "group:Équipe 2"]
    assert students["group:Équipe 1"].members == ("1001", "1002")
    assert students["group:Équipe 1"].origin.endswith("_1001_700_tp.ipynb")  # newest attachment
    assert students["1004"].members == ("1004",)
    assert len(problems) == 2  # both members' notebooks reported


def test_a_notebook_or_folder_named_after_a_group_is_the_group_s(tmp_path):
    """'g1.ipynb' is group g1's submission when no member sent one of their own, and one
    line says so: nothing tells it from the notebook of a student called g1."""
    listed = tmp_path / "groups.csv"
    listed.write_text("group,student_id\ng1,alice\ng1,bob\n")
    groups = read_groups(listed)
    alone = write_tree(tmp_path / "alone", {"g1.ipynb": notebook_bytes()})
    found, problems = collect([alone], Intake(groups=groups))
    assert [(s.student_id, s.members) for s in found] == [("group:g1", ("alice", "bob"))]
    assert [(p.origin, p.message) for p in problems] == [(
        str(alone / "g1.ipynb"),
        "named like group g1: graded as the group's, for alice, bob, none of whom sent a "
        f"notebook of their own; if g1 is a student, rename the group in {listed}",
    )]  # fmt: skip
    folder = write_tree(tmp_path / "folders", {"G1/tp.ipynb": notebook_bytes(),
                                               "carol/tp.ipynb": notebook_bytes()})  # fmt: skip
    found, _ = collect([folder], Intake(groups=groups))
    assert sorted(s.student_id for s in found) == ["carol", "group:g1"]


@pytest.mark.parametrize(
    ("files", "bob"),
    [(["alice.ipynb", "bob.ipynb", "carol.ipynb"], "bob"),
     (["alice/tp.ipynb", "Bob/tp.ipynb"], "Bob"),
     (["bob.ipynb", "carol.ipynb"], "bob")],
    ids=["files", "folders", "one member"],
)  # fmt: skip
def test_a_group_named_like_a_student_of_no_group_is_refused_naming_the_row(tmp_path, files, bob):
    """Group bob is alice and carol; bob, in no group, sent a notebook. Taken as the
    group's (its members' notebook winning), it would leave bob without a grade; kept as
    bob's, a team's second copy named after its group would be a phantom student. Only the
    instructor knows: the groups file is refused, naming its row, before anything is graded."""
    listed = tmp_path / "groups.csv"
    listed.write_text("group,student_id\ng0,dan\nbob,alice\nbob,carol\n")
    tree = write_tree(tmp_path / "class", {name: notebook_bytes(name) for name in files})
    bobs = next(name for name in files if name.startswith(bob))
    with pytest.raises(IntakeError) as error:
        collect([tree], Intake.read(groups=listed))
    assert str(error.value) == (
        f"{listed}: row 3: group bob is named like student {bob} ({tree / bobs}), who is in "
        "no group, while its members sent notebooks of their own: rename the group (or "
        "remove that notebook, if it is the group's)"
    )
    listed.write_text("group,student_id\ng0,dan\nteam bob,alice\nteam bob,carol\n")
    found, _ = collect([tree], Intake.read(groups=listed))
    assert {s.origin: s.student_id for s in found}[str(tree / bobs)] == bob


def test_a_member_spelled_otherwise_than_a_notebook_of_no_group_is_one_line(tmp_path):
    """The groups file says Alice, the class has alice.ipynb: Alice would get the group's
    grade and alice her own, silently. Zoe and zoe may be two students, so both are kept
    as written, and one line names the row and the notebook."""
    listed = tmp_path / "groups.csv"
    listed.write_text(
        "group,student_id\ng1,Alice\ng1,bob\ng2,ｃａｒｏｌ\ng2,dan\ng3,Erin\ng3,erin\n"
    )
    tree = write_tree(tmp_path / "class", {f"{s}.ipynb": notebook_bytes()
                                           for s in ("alice", "bob", "carol", "dan", "ERIN")})  # fmt: skip
    found, problems = collect([tree], Intake.read(groups=listed))
    assert sorted((s.student_id, s.members) for s in found) == [
        ("ERIN", ("ERIN",)), ("alice", ("alice",)), ("carol", ("carol",)),
        ("group:g1", ("Alice", "bob")), ("group:g2", ("ｃａｒｏｌ", "dan"))]  # fmt: skip
    assert [(p.origin, p.message) for p in problems] == [
        (str(listed), f"row 2: member Alice of group g1 sent no notebook, but alice, in no "
         f"group, did ({tree / 'alice.ipynb'}): if they are one student, write alice in the "
         "groups file; as it is, Alice gets the group's grade and alice their own"),
        (str(listed), f"row 4: member ｃａｒｏｌ of group g2 sent no notebook, but carol, in no "
         f"group, did ({tree / 'carol.ipynb'}): if they are one student, write carol in the "
         "groups file; as it is, ｃａｒｏｌ gets the group's grade and carol their own"),
        (str(listed), f"row 6: member Erin of group g3 sent no notebook, but ERIN, in no "
         f"group, did ({tree / 'ERIN.ipynb'}): if they are one student, write ERIN in the "
         "groups file; as it is, Erin gets the group's grade and ERIN their own"),
        (str(listed), f"row 7: member erin of group g3 sent no notebook, but ERIN, in no "
         f"group, did ({tree / 'ERIN.ipynb'}): if they are one student, write ERIN in the "
         "groups file; as it is, erin gets the group's grade and ERIN their own"),
    ]  # fmt: skip
    listed.write_text("group,student_id\ng1,Alice\ng1,bob\ng2,alice\n")  # alice is in g2
    _, problems = collect([tree], Intake.read(groups=listed))
    assert problems == []


def test_grade_refuses_a_group_named_like_a_student_in_one_line_before_grading(tmp_path):
    listed = tmp_path / "groups.csv"
    listed.write_text("group,student_id\nbob,alice\nbob,carol\n")
    tree = write_tree(
        tmp_path / "class", {f"{s}.ipynb": notebook_bytes() for s in ("alice", "bob")}
    )
    command = [sys.executable, "-m", "autograder", "grade", "sgd_batch_size", str(tree),
               "--out", str(tmp_path / "out"), "--groups", str(listed)]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 2
    [line] = finished.stderr.strip().splitlines()
    assert line.startswith(f"dlgrade: {listed}: row 2: group bob is named like student bob (")
    assert not (tmp_path / "out").exists()


def test_moodle_group_folders_reach_the_members_listed_in_the_worksheet(tmp_path):
    files = {
        f"{moodle_folder('Groupe A', 17)}/tp.ipynb": notebook_bytes(),
        f"{moodle_folder('Groupe_B', 18)}/tp.ipynb": notebook_bytes(),
    }
    worksheet = write_worksheet(tmp_path / "notes.csv", [
        (17, "Jean Dupont", "jean@example.edu", datetime(2026, 1, 5, 23, 10)),
        (18, "Zoé Martin", "zoe@example.edu", datetime(2026, 1, 5, 23, 10)),
        (19, "Ana Cruz", "ana@example.edu", datetime(2026, 1, 6, 8, 0)),
    ], language="fr", groups={17: "Groupe A", 18: "Groupe A", 19: "Groupe_B"})  # fmt: skip
    intake = Intake.read(moodle_worksheet=worksheet)
    found, problems = collect([write_zip(tmp_path / "moodle.zip", files)], intake)
    students = by_student(found)
    assert sorted(students) == ["group:Groupe A", "group:Groupe_B"] and problems == []
    assert students["group:Groupe A"].members == ("jean@example.edu", "zoe@example.edu")
    assert students["group:Groupe_B"].members == ("ana@example.edu",)
    assert students["group:Groupe_B"].submitted_at == datetime(2026, 1, 6, 8, 0)


def test_a_student_whose_name_reads_as_a_group_s_never_replaces_its_notebook(tmp_path):
    """Mallory, in no group, names herself "Groupe A" and submits after Bob, a member:
    Bob's notebook stays the group's, in Canvas, Moodle with a groups CSV, and Moodle with
    its worksheet (which says Mallory is in no group)."""
    listed = tmp_path / "groups.csv"
    early, late = (2026, 11, 30, 10, 0, 0), (2026, 11, 30, 11, 0, 0)
    canvas = write_zip(tmp_path / "canvas.zip", {
        canvas_name("Martin, Bob", 1001, 501, "tp.ipynb"): notebook_bytes("bob"),
        canvas_name("Groupe A", 1002, 99999, "tp.ipynb"): notebook_bytes("mallory"),
    })  # fmt: skip
    listed.write_text("group,student_id\nGroupe A,1001\nGroupe A,1003\n")
    found, _ = collect([canvas], Intake(groups=read_groups(listed)))
    students = by_student(found)
    assert sorted(students) == ["1002", "group:Groupe A"]
    assert students["group:Groupe A"].origin.endswith("_1001_501_tp.ipynb")
    moodle = write_zip(tmp_path / "moodle.zip", {
        f"{moodle_folder('Bob Martin', 4321)}/tp.ipynb": (notebook_bytes("bob"), early),
        f"{moodle_folder('Groupe A', 4322)}/tp.ipynb": (notebook_bytes("mallory"), late),
    })  # fmt: skip
    listed.write_text("group,student_id\nGroupe A,4321\nGroupe A,4323\n")
    found, problems = collect([moodle], Intake(groups=read_groups(listed)))
    kept = by_student(found)["group:Groupe A"]
    assert "Bob Martin_4321" in kept.origin and any("Groupe A_4322" in p.message for p in problems)
    worksheet = write_worksheet(tmp_path / "notes.csv", [
        (4321, "Bob Martin", "bob@example.edu", None),
        (4323, "Carol Petit", "carol@example.edu", None),
        (4322, "Groupe A", "mallory@example.edu", None),
    ], groups={4321: "Groupe A", 4323: "Groupe A"})  # fmt: skip
    team = write_zip(tmp_path / "team.zip", {
        f"{moodle_folder('Groupe A', 17)}/tp.ipynb": (notebook_bytes("bob"), early),
        f"{moodle_folder('Groupe A', 4322)}/tp.ipynb": (notebook_bytes("mallory"), late),
    })  # fmt: skip
    found, _ = collect([team], Intake.read(moodle_worksheet=worksheet))
    students = by_student(found)
    assert sorted(students) == ["group:Groupe A", "mallory@example.edu"]
    assert "Groupe A_17" in students["group:Groupe A"].origin
    assert students["group:Groupe A"].members == ("bob@example.edu", "carol@example.edu")


def test_two_moodle_participants_of_one_name_and_no_email_stay_two_students(tmp_path):
    """Without email or ID number, a full name names a student only if it is unique in
    the worksheet: the two Thomas Petit are their participant numbers, both graded."""
    files = {
        f"{moodle_folder('Thomas Petit', 6001)}/tp.ipynb": notebook_bytes("x = 1"),
        f"{moodle_folder('Thomas Petit', 6002)}/tp.ipynb": notebook_bytes("x = 2"),
        f"{moodle_folder('Ana Cruz', 6003)}/tp.ipynb": notebook_bytes(),
    }
    worksheet = write_worksheet(tmp_path / "notes.csv", [
        (6001, "Thomas Petit", "", datetime(2026, 1, 5, 23, 10)),
        (6002, "Thomas Petit", "", datetime(2026, 1, 5, 23, 20)),
        (6003, "Ana Cruz", "", datetime(2026, 1, 5, 23, 30)),
    ])  # fmt: skip
    found, problems = collect(
        [write_zip(tmp_path / "moodle.zip", files)], Intake.read(moodle_worksheet=worksheet)
    )
    assert sorted(by_student(found)) == ["6001", "6002", "Ana Cruz"] and problems == []
    assert {s.student_name for s in found} == {"Thomas Petit", "Ana Cruz"}


@pytest.mark.parametrize(
    ("text", "message"),
    [("team,student\nA,1\n", "needs the columns group, student_id"),
     ("group,student_id\nA,1\nB,1\n", "row 3: student 1 is in two groups (A and B)"),
     ("group,student_id\n,1\n", "row 2: empty group name"),
     ("group,student_id\nbob,alice\nbob,carol\ng2,Bob\n",
      "row 2: group bob is named like student Bob, a member of group g2: rename the group")],
)  # fmt: skip
def test_a_bad_groups_file_is_one_line_naming_it(tmp_path, text, message):
    path = tmp_path / "groups.csv"
    path.write_text(text)
    with pytest.raises(IntakeError, match=f"^{re.escape(str(path))}: .*{re.escape(message)}"):
        read_groups(path)


def test_a_group_named_after_one_of_its_own_members_is_a_group(tmp_path):
    """A student working alone may be listed as a group of one named after them: no clash."""
    listed = tmp_path / "groups.csv"
    listed.write_text("group,student_id\nAlice,alice\ng1,bob\ng1,carol\n")
    tree = write_tree(tmp_path / "class", {"alice.ipynb": notebook_bytes(),
                                           "bob.ipynb": notebook_bytes()})  # fmt: skip
    found, problems = collect([tree], Intake.read(groups=listed))
    assert [(s.student_id, s.members) for s in found] == [
        ("group:Alice", ("alice",)), ("group:g1", ("bob", "carol"))]  # fmt: skip
    assert problems == []


# --- the gradebook keeps members, and old gradebooks still open ---------------------------


def result(student: str, members: tuple[str, ...] = (), **times) -> results.SubmissionResult:
    return results.SubmissionResult(
        student, "sgd_batch_size", "graded", "", 1.0, 2.0, f"sha-{student}", current_hash("sgd_batch_size"),
        f"{student}.ipynb", "bwrap", members=members, **times)  # fmt: skip


def test_the_gradebook_stores_members_and_serves_them_per_submission(tmp_path):
    gradebook = Gradebook.in_folder(tmp_path)
    run = gradebook.start_run("sgd_batch_size", "hash", {})
    gradebook.record(run, result("group:A", ("1001", "1002")), result("1003"))
    assert gradebook.members("sgd_batch_size") == {
        "group:A": ("1001", "1002"), "1003": ("1003",)}  # fmt: skip
    gradebook.close()


def test_an_old_gradebook_gets_the_new_columns_and_keeps_its_rows(tmp_path):
    path = tmp_path / "gradebook.sqlite"
    with sqlite3.connect(path) as connection:  # the submissions table before this change
        connection.executescript("""
            CREATE TABLE grading_runs (id INTEGER PRIMARY KEY, assignment VARCHAR NOT NULL,
                autograder_hash VARCHAR NOT NULL, started_at DATETIME NOT NULL,
                finished_at DATETIME, settings JSON);
            CREATE TABLE submissions (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL
                REFERENCES grading_runs (id), assignment VARCHAR NOT NULL, student_id VARCHAR
                NOT NULL, student_name VARCHAR, submission_hash VARCHAR NOT NULL,
                autograder_hash VARCHAR NOT NULL, origin TEXT NOT NULL, status VARCHAR NOT NULL,
                message TEXT NOT NULL, score FLOAT NOT NULL, max_score FLOAT NOT NULL,
                isolation VARCHAR NOT NULL, submitted_at VARCHAR, graded_at DATETIME NOT NULL,
                result JSON NOT NULL, UNIQUE (assignment, student_id, submission_hash,
                autograder_hash));
            INSERT INTO grading_runs VALUES (1, 'sgd_batch_size', 'hash', '2026-01-01', NULL, '{}');
            INSERT INTO submissions VALUES (1, 1, 'sgd_batch_size', 'old', NULL, 'sha', 'hash',
                'old.ipynb', 'graded', '', 1.0, 2.0, 'bwrap', NULL, '2026-01-01',
                '{"student_id": "old", "status": "graded", "score": 1.0, "max_score": 2.0}');
        """)  # fmt: skip
    gradebook = Gradebook(f"sqlite:///{path}")
    run = gradebook.start_run("sgd_batch_size", "hash", {})
    gradebook.record(run, result("new", time_source="csv", submitted_at="2026-01-02T10:00:00"))
    assert gradebook.members("sgd_batch_size") == {"old": ("old",), "new": ("new",)}
    rows = gradebook.submissions("sgd_batch_size").set_index("student_id")
    assert rows.loc["new", "time_source"] == "csv" and pd.isna(rows.loc["old", "time_source"])
    assert [r["student_id"] for r in gradebook.latest_results("sgd_batch_size")] == ["new", "old"]
    gradebook.close()
    Gradebook(f"sqlite:///{path}").close()  # opening it again changes nothing


def test_a_fifo_given_as_a_notebook_is_a_problem_not_a_hang(tmp_path):
    import os

    fifo = tmp_path / "student.ipynb"
    os.mkfifo(fifo)
    found, problems = collect([fifo, tmp_path / "missing.zip"])
    assert found == [] and problems[0].message == "not a regular file: not read"
