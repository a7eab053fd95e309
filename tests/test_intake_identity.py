"""Identity cannot be claimed: the LMS's naming wins, a notebook's metadata counts only
when nothing else names the student, ids are cleaned, and duplicates are all reported."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.errors import DlgradeError
from autograder.submissions import (
    MAX_ID_CHARS,
    Intake,
    clean_student_id,
    collect,
    identify,
)


def notebook_bytes(claimed: str | None = None) -> bytes:
    metadata = {"dlgrade": {"student_id": claimed}} if claimed is not None else {}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    notebook.metadata.update(metadata)
    return nbformat.writes(notebook).encode()


def write_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members:
            archive.writestr(member, data)
    return path


def ids(paths: list[Path]) -> dict[str, str]:
    found, _ = collect(paths)
    return {s.origin.split("!")[-1]: s.student_id for s in found}


# --- the LMS's naming wins ----------------------------------------------------------------


def test_a_canvas_named_file_inside_a_moodle_folder_keeps_the_folder_s_student(tmp_path):
    member = "Aaron Martin_1008_assignsubmission_file_/zoevictim_1009_1_tp.ipynb"
    archive = write_zip(tmp_path / "moodle.zip", [(member, notebook_bytes("1009"))])
    [submission], problems = collect([archive])
    assert (submission.student_id, submission.student_name) == ("1008", "Aaron Martin")
    assert submission.named_by == "lms" and problems == []


def test_the_same_holds_in_an_extracted_moodle_folder(tmp_path):
    folder = tmp_path / "download" / "Aaron Martin_1008_assignsubmission_file_" / "sub"
    folder.mkdir(parents=True)
    (folder / "zoevictim_1009_1_tp.ipynb").write_bytes(notebook_bytes())
    assert list(ids([tmp_path / "download"]).values()) == ["1008"]
    # the folder given itself is a Moodle folder: it still decides
    assert list(ids([folder.parent]).values()) == ["1008"]


@pytest.mark.parametrize(
    ("name", "student"),
    [
        # the outermost Moodle folder decides, whatever is nested in it
        ("A_1008_assignsubmission_file_/B_1009_assignsubmission_file_/tp.ipynb", "1008"),
        # in a folder name the LMS writes the id last: a display name cannot add one
        ("Zoe_1009_assignsubmission_file_x_1008_assignsubmission_file_/tp.ipynb", "1008"),
        # in a flattened name the LMS's id comes first, the student's file name after it
        ("Aaron_1008_assignsubmission_file_zoe_1009_assignsubmission_file_tp.ipynb", "1008"),
        # Canvas: the first id is the LMS's, the rest is the student's file name
        ("aaron_1008_77_zoe_1009_1_tp.ipynb", "1008"),
        ("aaron_late_1008_77_zoe_1009_1_tp.ipynb", "1008"),
        ("aaron_1008_77_zoe_1009_assignsubmission_file_tp.ipynb", "1008"),
        ("Aaron_1008_assignsubmission_file_zoe_1009_7_tp.ipynb", "1008"),
        ("aaron_\u0661\u0660\u0660\u0669_1_tp.ipynb", "aaron_\u0661\u0660\u0660\u0669_1_tp"),
        ("../../slip_1111_1_tp.ipynb", "1111"),
    ],
)
def test_the_lms_part_of_the_name_decides(name, student):
    assert identify(name, "origin", notebook_bytes("zoe")).student_id == student


# --- metadata only when nothing else names the student -----------------------------------


@pytest.mark.parametrize(
    ("name", "student", "named_by"),
    [
        ("aaron_1008_5_tp.ipynb", "1008", "lms"),  # the LMS names someone
        ("aaron.ipynb", "aaron", "file name"),  # the file name names someone
        ("sgd_batch_size_aaron.ipynb", "sgd_batch_size_aaron", "file name"),
        ("sgd_batch_size.ipynb", "zoe", "metadata"),  # the template's own name: nobody
        ("mlp_softmax (1).ipynb", "zoe", "metadata"),
        ("folder/Backprop_MiniConv-Copy1.ipynb", "zoe", "metadata"),
    ],
)
def test_metadata_is_read_only_for_the_template_s_own_name(name, student, named_by):
    submission = identify(name, "origin", notebook_bytes("zoe"))
    assert (submission.student_id, submission.named_by) == (student, named_by)


@pytest.mark.parametrize(
    ("claimed", "student"),
    [("..", "sgd_batch_size"), ("", "sgd_batch_size"), ("zz/zoe", "zz_zoe"),
     ("\x1b[2Jzoe\n", "_[2Jzoe"), (1234, "1234"), (True, "sgd_batch_size")],
)  # fmt: skip
def test_a_claimed_id_is_cleaned_or_ignored(claimed, student):
    assert identify("sgd_batch_size.ipynb", "o", notebook_bytes(claimed)).student_id == student


def test_a_blank_notebook_claiming_zoe_does_not_replace_zoe(tmp_path):
    zoe = write_zip(tmp_path / "canvas.zip", [("zoe_1009_7_tp.ipynb", notebook_bytes())])
    attacker = tmp_path / "loose" / "sgd_batch_size.ipynb"
    attacker.parent.mkdir()
    attacker.write_bytes(notebook_bytes("1009"))
    os.utime(attacker, (4_000_000_000, 4_000_000_000))  # newer than anything
    for order in ([zoe, attacker.parent], [attacker.parent, zoe]):
        found, problems = collect(order)
        assert [s.origin for s in found] == [f"{zoe}!zoe_1009_7_tp.ipynb"]
        assert len(problems) == 2
        for problem in problems:  # each names both origins
            assert "zoe_1009_7_tp.ipynb" in f"{problem.origin} {problem.message}"
            assert str(attacker) in f"{problem.origin} {problem.message}"
            assert "1009" in problem.message


def test_two_template_named_notebooks_claiming_one_student_are_both_left_ungraded(tmp_path):
    """``sgd_batch_size (1).ipynb`` claiming bob against bob's ``sgd_batch_size.ipynb``: the
    metadata is each notebook's own word, so neither is trusted; the one claim that is alone
    still names its student."""
    folder = tmp_path / "loose"
    folder.mkdir()
    for name, claimed in (("sgd_batch_size.ipynb", "bob"), ("sgd_batch_size (1).ipynb", "bob"),
                          ("sgd_batch_size-Copy1.ipynb", "zoe")):  # fmt: skip
        (folder / name).write_bytes(notebook_bytes(claimed))
    found, problems = collect([folder])
    assert [(s.student_id, Path(s.origin).name) for s in found] == [
        ("zoe", "sgd_batch_size-Copy1.ipynb")
    ]
    assert len(problems) == 2
    for problem in problems:
        assert problem.message.startswith("not graded: 2 notebooks named like the template")
        assert "bob.ipynb" in problem.message
    (folder / "bob.ipynb").write_bytes(notebook_bytes())  # named by its file: it wins
    found, problems = collect([folder])
    assert sorted((s.student_id, Path(s.origin).name) for s in found) == [
        ("bob", "bob.ipynb"),
        ("zoe", "sgd_batch_size-Copy1.ipynb"),
    ]


def test_a_backslash_in_a_file_name_is_part_of_it_not_a_folder(tmp_path):
    """On Linux, ``\\bob.ipynb`` is a file of its own: it names ``_bob``, not bob."""
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "bob.ipynb").write_bytes(notebook_bytes())
    (folder / "\\bob.ipynb").write_bytes(notebook_bytes())
    (folder / "x\\..\\bob.ipynb").write_bytes(notebook_bytes())
    found, problems = collect([folder])
    assert sorted(s.student_id for s in found) == ["_bob", "bob", "x_.._bob"] and problems == []
    assert next(s.origin for s in found if s.student_id == "bob") == str(folder / "bob.ipynb")


def test_folders_inside_a_student_s_own_folder_name_nobody_else(tmp_path):
    """aaron fills his own folder with folders named after classmates: they stay aaron's
    (reported as his duplicates); bob and carol keep their own grades, and dave
    and erin, who submitted nothing, get none."""
    folder = tmp_path / "class"
    for student in ("alice", "bob", "carol"):
        (folder / student).mkdir(parents=True)
        (folder / student / "tp.ipynb").write_bytes(notebook_bytes())
    for victim in ("bob", "carol", "dave", "erin"):  # as many as the level above has
        (folder / "aaron" / victim).mkdir(parents=True)
        (folder / "aaron" / victim / "tp.ipynb").write_bytes(notebook_bytes())
    found, problems = collect([folder])
    graded = {s.student_id: s.origin for s in found}
    assert sorted(graded) == ["aaron", "alice", "bob", "carol"]
    assert graded["bob"] == str(folder / "bob" / "tp.ipynb")
    assert all("aaron" in p.message for p in problems) and len(problems) == 4
    # sections, then students: the level that tells most apart, as before
    layout = tmp_path / "sections"
    for section, student in (("L3", "zoe"), ("L3", "yann"), ("M1", "xavier")):
        (layout / section / student / "rendu").mkdir(parents=True)
        (layout / section / student / "rendu" / "tp.ipynb").write_bytes(notebook_bytes())
    assert sorted(ids([layout]).values()) == ["xavier", "yann", "zoe"]


def test_sub_folders_in_one_student_s_folder_cannot_rename_the_class(tmp_path):
    """``L3/<student>/rendu/tp.ipynb``: a student who puts more sub-folders with a notebook
    in their own folder than the class has students does not make the sub-folders' level
    the one that names everyone (every classmate would be ``rendu``, all but one dropped)."""
    for source in ("folder", "zip"):
        tree = {f"L3/{s}/rendu/tp.ipynb": notebook_bytes() for s in ("alice", "bob", "carol")}
        tree |= {f"L3/mallory/v{i}/tp.ipynb": notebook_bytes() for i in range(1, 6)}
        given = write_zip(tmp_path / "class.zip", list(tree.items()))
        if source == "folder":
            given = tmp_path / "class"
            for name, content in tree.items():
                (given / name).parent.mkdir(parents=True, exist_ok=True)
                (given / name).write_bytes(content)
        found, problems = collect([given])
        assert sorted(s.student_id for s in found) == ["alice", "bob", "carol", "mallory"]
        assert len(problems) == 5 and all("/mallory/" in p.origin for p in problems)


def test_a_file_that_is_not_regular_is_one_line(tmp_path):
    folder = tmp_path / "loose"
    folder.mkdir()
    os.mkfifo(folder / "alice.ipynb")
    found, problems = collect([folder])
    assert found == [] and [(p.origin, p.message) for p in problems] == [
        (str(folder / "alice.ipynb"), "not a regular file: not read")
    ]


# --- ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("zoe", "zoe"), (" zoe ", "zoe"), ("a/b\\c", "a_b_c"), ("..", None), ("...", None),
     ("", None), ("  ", None), ("\x00", "_"), ("e\u0301", "\u00e9"), ("=HYPERLINK(x)", "=HYPERLINK(x)"),
     ("'bob", "'bob"), ("ab\u200bcd", "ab_cd"), (None, None), (["zoe"], None)],
)  # fmt: skip
def test_ids_are_cleaned(raw, clean):
    assert clean_student_id(raw) == clean


def test_long_ids_are_bounded_and_stay_distinct():
    first, second = clean_student_id("x" * 500 + "1"), clean_student_id("x" * 500 + "2")
    assert len(first) == len(second) == MAX_ID_CHARS and first != second


def test_a_file_name_that_names_nobody_gets_a_stable_id():
    first = identify("../..ipynb", "o", b"").student_id
    assert first.startswith("unnamed~") and first == identify("../..ipynb", "p", b"").student_id


# --- duplicates ---------------------------------------------------------------------------


def test_canvas_duplicates_keep_the_newest_attachment_and_report_both(tmp_path):
    archive = write_zip(tmp_path / "canvas.zip", [
        ("zoe_1009_200_b.ipynb", notebook_bytes()), ("zoe_1009_100_a.ipynb", notebook_bytes())])  # fmt: skip
    found, problems = collect([archive])
    assert [s.origin for s in found] == [f"{archive}!zoe_1009_200_b.ipynb"]
    assert sorted(p.origin for p in problems) == [
        f"{archive}!zoe_1009_100_a.ipynb",
        f"{archive}!zoe_1009_200_b.ipynb",
    ]
    assert all("zoe_1009_100_a" in p.message or "zoe_1009_200_b" in p.message for p in problems)


def test_digits_in_a_canvas_name_part_cannot_take_a_classmate_s_id(tmp_path):
    """'x_1001_99999_mallory_1002_502_tp.ipynb' also reads as user 1001 with a newer
    attachment: that reading clashes with 1001's own file under another name, so the file
    is mallory's (1002), and alice's notebook stays the one graded for alice. Without such
    a clash the first reading holds, as Canvas's own file names are read."""
    forged = "x_1001_99999_mallory_1002_502_tp.ipynb"
    own_name = "jonesbob_1003_600_tp_2024_11_final.ipynb"  # digits in the student's file name
    archive = write_zip(tmp_path / "canvas.zip", [
        ("smithalice_1001_500_tp.ipynb", notebook_bytes()), (forged, notebook_bytes()),
        (own_name, notebook_bytes())])  # fmt: skip
    found, problems = collect([archive])
    assert {s.origin.split("!")[1]: s.student_id for s in found} == {
        "smithalice_1001_500_tp.ipynb": "1001", forged: "1002", own_name: "1003"}  # fmt: skip
    said = {p.origin.split("!")[1]: p.message for p in problems}
    assert said[forged].endswith("whose other files carry another name: graded as 1002")
    assert said.keys() == {forged}
    assert ids([write_zip(tmp_path / "alone.zip", [(forged, notebook_bytes())])]) == {
        forged: "1001"
    }


def test_a_canvas_name_read_two_ways_never_replaces_a_file_read_one_way(tmp_path):
    """Mallory's sortable name copies Bob's ('bob_1001_99999_mallory'): her file also reads
    as Bob's, with a newer attachment id. Bob's own file, which reads one way only, stays
    the one graded for him; hers is reported."""
    forged = "bob_1001_99999_mallory_1002_502_tp.ipynb"
    archive = write_zip(tmp_path / "canvas.zip", [
        ("bob_1001_501_tp.ipynb", notebook_bytes()), (forged, notebook_bytes())])  # fmt: skip
    found, problems = collect([archive])
    assert [(s.student_id, s.origin.split("!")[1]) for s in found] == [
        ("1001", "bob_1001_501_tp.ipynb")
    ]
    assert any(forged in p.message and "second notebook" in p.message for p in problems)


def test_moodle_duplicates_keep_the_newest_member(tmp_path):
    folder = "Zoe_1009_assignsubmission_file_/"
    old = zipfile.ZipInfo(folder + "a_new_name.ipynb", (2026, 1, 1, 10, 0, 0))
    new = zipfile.ZipInfo(folder + "z_old_name.ipynb", (2026, 1, 2, 10, 0, 0))
    archive = write_zip(tmp_path / "moodle.zip", [(old, notebook_bytes()), (new, notebook_bytes())])
    found, problems = collect([archive])
    assert [s.origin.split("!")[1] for s in found] == [folder + "z_old_name.ipynb"]
    assert len(problems) == 2


def test_blackboard_attempts_keep_the_later_one_and_usernames_with_underscores(tmp_path):
    """Blackboard names files Item_username_attempt_date_file; the documented pattern,
    anchored on the item's name, keeps ``a_dupont`` whole, and the later attempt wins
    whatever the zip's entry dates or the names' order."""
    same = (2026, 12, 3, 8, 0, 0)
    members = [
        (zipfile.ZipInfo("TP2_zmartin_attempt_2026-12-02-09-00-00_tp.ipynb", same),
         notebook_bytes()),
        (zipfile.ZipInfo("TP2_zmartin_attempt_2026-12-01-10-00-00_tp2.ipynb", same),
         notebook_bytes()),
        (zipfile.ZipInfo("TP2_a_dupont_attempt_2026-12-01-10-00-00_tp.ipynb", same),
         notebook_bytes()),
        (zipfile.ZipInfo("TP2_dupont_attempt_2026-12-01-11-00-00_tp.ipynb", same),
         notebook_bytes()),
    ]  # fmt: skip
    archive = write_zip(tmp_path / "gradebook_TP2.zip", members)
    intake = Intake.read(id_pattern="^TP2_(?P<student>.+)_attempt_")
    found, problems = collect([archive], intake)
    graded = {s.student_id: s.origin.split("!")[1] for s in found}
    assert graded == {
        "zmartin": "TP2_zmartin_attempt_2026-12-02-09-00-00_tp.ipynb",
        "a_dupont": "TP2_a_dupont_attempt_2026-12-01-10-00-00_tp.ipynb",
        "dupont": "TP2_dupont_attempt_2026-12-01-11-00-00_tp.ipynb",
    }
    assert len(problems) == 2 and all("zmartin" in p.message for p in problems)


def test_a_blackboard_download_without_its_pattern_is_refused_before_grading(tmp_path, capsys):
    """Without --id-pattern, each attempt would be a student named by its whole file name:
    the run is refused, with the pattern to give, the item's name read from the files."""
    from autograder.cli import main

    members = [(f"TP2 (L3)_{who}_attempt_2026-12-0{day}-09-00-00_rendu tp.ipynb", notebook_bytes())
               for who, day in (("a_dupont", 1), ("zmartin", 2))]  # fmt: skip
    archive = write_zip(tmp_path / "gradebook_TP2.zip", members)
    out = tmp_path / "graded"
    assert main(["grade", "sgd_batch_size", str(archive), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"dlgrade: {archive}: a Blackboard download (files named "
        "Item_username_attempt_date_file): give --id-pattern "
        r"'^TP2 \(L3\)_(?P<student>.+)_attempt_', with the column's name as it begins the "
        "file names in place of 'TP2 (L3)' if that is not it"
    )
    assert not (out / "grades.csv").exists()
    suggested = r"^TP2 \(L3\)_(?P<student>.+)_attempt_"
    found, _ = collect([archive], Intake.read(id_pattern=suggested), to_grade=True)
    assert sorted(s.student_id for s in found) == ["a_dupont", "zmartin"]
    found, _ = collect([archive])  # hand grading reads answers, named as graded: no refusal
    assert len(found) == 2


def test_duplicates_without_lms_order_are_reported_and_kept_deterministically(tmp_path):
    for folder, stamp in (("a", 2_000_000_000), ("b", 1_000_000_000)):
        path = tmp_path / folder / "bob.ipynb"
        path.parent.mkdir()
        path.write_bytes(notebook_bytes())
        os.utime(path, (stamp, stamp))  # a loose file's time is the instructor's disk's
    runs = [collect([tmp_path / "b", tmp_path / "a"]), collect([tmp_path / "a", tmp_path / "b"])]
    for found, problems in runs:
        assert [s.origin for s in found] == [str(tmp_path / "a" / "bob.ipynb")]
        assert len(problems) == 2 and all("second notebook" in p.message for p in problems)
        assert all(p.message.endswith("(kept: the first by path, nothing else told them apart)")
                   for p in problems)  # fmt: skip
    assert runs[0][1] == runs[1][1]


@pytest.mark.parametrize("claim", ["file name", "metadata"])
def test_a_notebook_named_less_surely_never_replaces_an_earlier_grade(tmp_path, project, claim):
    """A later run into the same folder follows the rule of one run: a bare file name, or
    a template-named notebook whose metadata claims a classmate, never replaces the grade
    of a notebook the LMS named; it is left out, with a line saying why."""
    import csv

    from autograder.class_run import grade_class
    from autograder.grader import Settings

    from .conftest import FAST_LIMITS, correct_notebook

    honest = nbformat.writes(correct_notebook(project, "sgd_batch_size")).encode()
    blank = nbformat.read(project.template("sgd_batch_size"), as_version=4)
    canvas = write_zip(tmp_path / "canvas.zip", [("zoe_1009_77_sgd.ipynb", honest)])
    loose = tmp_path / "loose"
    loose.mkdir()
    if claim == "metadata":
        blank.metadata["dlgrade"] = {**blank.metadata.get("dlgrade", {}), "student_id": "1009"}
    target = loose / ("1009.ipynb" if claim == "file name" else "sgd_batch_size.ipynb")
    nbformat.write(blank, target)
    settings = Settings(workers=1, limits=FAST_LIMITS)
    first = grade_class("sgd_batch_size", [canvas], tmp_path / "out", settings)
    assert first.problems == []
    second = grade_class("sgd_batch_size", [loose], tmp_path / "out", settings)
    [said] = [p for p in second.problems if "1009" in p.message]
    assert said.origin == str(target) and said.message.startswith("not graded: student 1009 ")
    assert f"named by {'its file name' if claim == 'file name' else 'its metadata'} only" in (
        said.message
    )
    with (tmp_path / "out" / "grades.csv").open(encoding="utf-8") as file:
        [row] = [r for r in csv.DictReader(file) if r["student_id"] == "1009"]
    assert float(row["q1_gradient"]) == 3.0 and row["status"] == "graded"


def test_jupyter_checkpoints_are_never_graded(tmp_path):
    (tmp_path / "class" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "class" / "ana.ipynb").write_bytes(notebook_bytes())
    (tmp_path / "class" / ".ipynb_checkpoints" / "ana-checkpoint.ipynb").write_bytes(b"{}")
    archive = write_zip(
        tmp_path / "canvas.zip",
        [
            ("bob_12_34_tp.ipynb", notebook_bytes()),
            (".ipynb_checkpoints/bob_12_35_tp-checkpoint.ipynb", b"{}"),
        ],
    )
    found, problems = collect([tmp_path / "class", archive])
    assert sorted(s.student_id for s in found) == ["12", "ana"] and problems == []


def test_two_members_of_one_name_in_a_zip_are_told_apart_in_the_problem_lines(tmp_path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        archive = write_zip(
            tmp_path / "class.zip",
            [("bob.ipynb", notebook_bytes()), ("bob.ipynb", notebook_bytes("bob"))],
        )
    found, problems = collect([archive])
    assert [s.origin for s in found] == [f"{archive}!bob.ipynb"]
    assert sorted(p.origin for p in problems) == [
        f"{archive}!bob.ipynb",
        f"{archive}!bob.ipynb (entry 2 of that name)",
    ]


def test_an_id_mixing_look_alike_alphabets_is_graded_and_reported(tmp_path):
    for name in ("alice", "\u0430lice", "Zoé", "Дмитрий"):  # the second starts with Cyrillic а
        (tmp_path / f"{name}.ipynb").write_bytes(notebook_bytes())
    found, problems = collect([tmp_path])
    assert len(found) == 4
    (problem,) = problems
    assert problem.origin == str(tmp_path / "\u0430lice.ipynb")
    assert "mixes Cyrillic and Latin letters" in problem.message


def test_an_id_in_compatibility_characters_is_graded_and_reported(tmp_path):
    """Fullwidth ``ｂｏｂ`` prints as ``bob``, yet has no Cyrillic or Greek letter: NFKC
    folds it (and ligatures, no-break spaces...) before the alphabets are compared."""
    names = ("bob", "ｂｏｂ", "ﬁona", "ａlic\u0435", "Zoé", "Дмитрий", "ﾀﾛｳ")
    archive = write_zip(tmp_path / "ids.zip", [(f"{n}.ipynb", notebook_bytes()) for n in names])
    found, problems = collect([archive])
    assert len(found) == len(names)
    assert sorted((p.origin, p.message) for p in problems) == sorted([
        (f"{archive}!ｂｏｂ.ipynb", "student id 'ｂｏｂ' reads as 'bob' once written in plain "
         "characters: it may look like another student's id (graded under this exact spelling)"),
        (f"{archive}!ﬁona.ipynb", "student id 'ﬁona' reads as 'fiona' once written in plain "
         "characters: it may look like another student's id (graded under this exact spelling)"),
        (f"{archive}!ａlic\u0435.ipynb", "student id 'ａlic\u0435' reads as 'alic\u0435' once "
         "written in plain characters and mixes Cyrillic and Latin letters: it may look like "
         "another student's id (graded under this exact spelling)"),
        (f"{archive}!ﾀﾛｳ.ipynb", "student id 'ﾀﾛｳ' reads as 'タロウ' once written in plain "
         "characters: it may look like another student's id (graded under this exact spelling)"),
    ])  # fmt: skip


# --- a folder keeps who is who from run to run -------------------------------------------


def _grade(archive: Path, out: Path, **options) -> object:
    from autograder.class_run import grade_class
    from autograder.grader import Settings

    from .conftest import FAST_LIMITS

    settings = Settings(workers=1, limits=FAST_LIMITS)
    return grade_class("sgd_batch_size", [archive], out, settings, intake=Intake.read(**options))


def _graded_ids(out: Path) -> list[str]:
    import pandas as pd

    return sorted(pd.read_csv(out / "grades.csv", dtype=str)["student_id"])


def test_a_re_run_without_the_groups_or_the_worksheet_keeps_the_ids_of_the_first(tmp_path):
    """Forgetting --groups or --moodle-worksheet when a late notebook comes in must not
    split a group or count the class twice under participant numbers: the options given
    to the folder's earlier run are read again, and the run says so."""
    from .lms_layouts import moodle_folder, write_worksheet

    archive = write_zip(tmp_path / "moodle.zip", [
        (f"{moodle_folder('Jean Dupont', 4321)}/tp.ipynb", notebook_bytes()),
        (f"{moodle_folder('Zoé Martin', 4322)}/tp.ipynb", notebook_bytes("zoe")),
    ])  # fmt: skip
    worksheet = write_worksheet(tmp_path / "notes.csv", [
        (4321, "Jean Dupont", "jean@example.edu", None),
        (4322, "Zoé Martin", "zoe@example.edu", None),
    ])  # fmt: skip
    groups = tmp_path / "groups.csv"
    groups.write_text("group,student_id\nA,jean@example.edu\nA,ana@example.edu\n")
    out = tmp_path / "out"
    first = _grade(archive, out, moodle_worksheet=worksheet, groups=groups)
    expected = ["ana@example.edu", "group:A", "jean@example.edu", "zoe@example.edu"]
    assert _graded_ids(out) == expected and first.notes == []

    again = _grade(archive, out)  # both forgotten
    assert _graded_ids(out) == expected
    assert (again.graded_count, again.skipped) == (0, 2)
    assert again.notes == [
        f"--groups not given: {groups}, given to an earlier run, is used again",
        f"--moodle-worksheet not given: {worksheet}, given to an earlier run, is used again",
    ]

    # a file given replaces the one recorded: a group's new member is read from it
    groups.rename(tmp_path / "groups-v1.csv")
    renewed = tmp_path / "groups-v2.csv"
    renewed.write_text("group,student_id\nA,jean@example.edu\nA,leo@example.edu\n")
    _grade(archive, out, groups=renewed)
    assert "leo@example.edu" in _graded_ids(out)

    # the recorded file gone, nothing is graded and the line says what to give
    renewed.unlink()
    with pytest.raises(DlgradeError) as error:
        _grade(archive, out)
    assert str(error.value).startswith(f"--groups {renewed} was given to an earlier run")
    assert "give --groups again, or grade into a new folder" in str(error.value)


def test_a_notebook_graded_before_under_another_id_is_named(tmp_path):
    """Ids changed on purpose (another --id-pattern) leave the earlier ids' grades in the
    gradebook: each notebook graded before under an id this run does not find says so."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "tp-s1.ipynb").write_bytes(notebook_bytes())
    (folder / "tp-s2.ipynb").write_bytes(notebook_bytes("s2"))
    out = tmp_path / "out"
    _grade(folder, out)
    assert _graded_ids(out) == ["tp-s1", "tp-s2"]
    run = _grade(folder, out, id_pattern=r"tp-(?P<student>\w+)")
    messages = sorted((Path(p.origin).name, p.message) for p in run.problems)
    assert [name for name, _ in messages] == ["tp-s1.ipynb", "tp-s2.ipynb"]
    assert messages[0][1].startswith(
        "graded as tp-s1 in an earlier run of this folder, now as s1: both grades are in "
        "grades.csv and would both be exported"
    )
    # said again by every run while both grades are there
    assert len(_grade(folder, out, id_pattern=r"tp-(?P<student>\w+)").problems) == 2


def test_an_appeal_notebook_refused_is_neither_skipped_nor_taken_for_a_renaming(tmp_path):
    """Classmates sent identical notebooks (copied work); an appeal notebook with that
    content, graded alone and named by its file name only, is refused. The run says that,
    and only that: nobody was renamed, and nothing was "already graded"."""
    same = notebook_bytes()
    archive = write_zip(tmp_path / "canvas.zip", [
        (f"nom{n}_{1000 + n}_{7000 + n}_tp2.ipynb", notebook_bytes("own") if n == 2 else same)
        for n in range(1, 4)])  # fmt: skip
    out = tmp_path / "out"
    _grade(archive, out)
    appeal = tmp_path / "appeal" / "1002.ipynb"
    appeal.parent.mkdir()
    appeal.write_bytes(same)
    run = _grade(appeal, out)
    assert [p.message for p in run.problems] == [
        "not graded: student 1002 has a grade from a notebook named by the LMS in an earlier "
        f"run ({archive}!nom2_1002_7002_tp2.ipynb), and this one is named by its file name "
        "only; to grade it anyway, name it with --id-pattern"
    ]
    assert (run.graded_count, run.skipped) == (0, 0)


@pytest.mark.parametrize(
    ("kept", "other", "rule"),
    [  # (member kept, member not graded, the words of the rule that chose)
        ("bob_1001_502_tp.ipynb", "bob_1001_501_tp.ipynb", "kept: the newer Canvas attachment"),
        ("bob_1001_501_tp.ipynb", "1001.ipynb", "kept: named by the LMS, the other by its file name"),
        ("alice.ipynb", "alice .ipynb", "kept: named exactly alice.ipynb"),
    ],
)  # fmt: skip
def test_each_duplicate_line_names_the_rule_that_chose(tmp_path, kept, other, rule):
    """An instructor reading the list must see why a notebook was kept, in a few words,
    on the line of each notebook of the pair."""
    archive = write_zip(
        tmp_path / "class.zip", [(other, notebook_bytes()), (kept, notebook_bytes("y"))]
    )
    found, problems = collect([archive])
    assert [s.origin for s in found] == [f"{archive}!{kept}"]
    assert [p.origin for p in problems] == [f"{archive}!{kept}", f"{archive}!{other}"]
    for problem in problems:
        assert problem.message.endswith(f"({rule})") and "then" not in problem.message
