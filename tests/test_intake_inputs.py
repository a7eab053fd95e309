"""Intake never raises: any JSON, any zip member, any file name becomes a submission, an
``invalid`` reason or a Problem, and what the instructor sees cannot be styled by a name."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import nbformat
import pytest
from rich.console import Console

from autograder import notebook, submissions
from autograder.class_run import ClassRun
from autograder.notebook import MAX_CELLS, MAX_CODE_CHARS, MAX_DEPTH, InvalidNotebook, parse
from autograder.progress import ClassProgress
from autograder.submissions import Problem, collect


def notebook_bytes(code: str = "x = 1", **metadata: object) -> bytes:
    document = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(code)],
        metadata={
            "kernelspec": {"name": "python3", "language": "python", "display_name": "P"},
            **metadata,
        },
    )
    return nbformat.writes(document).encode()


def nested(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


def deep_dict(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def only_invalid(content: bytes) -> InvalidNotebook | list[str]:
    """What ``parse`` gives: an InvalidNotebook (returned) or the cells; anything else fails."""
    try:
        return parse(content, "sgd_batch_size")
    except InvalidNotebook as invalid:
        assert invalid.render("fr") and invalid.render("en")
        return invalid


# --- any JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [nested(100_000), deep_dict(100_000), nested(5_000, '[{"a":', "}]")],
    ids=["list", "object", "mixed"],
)
def test_json_nested_100000_deep_is_invalid_not_a_crash(content):
    result = only_invalid(content)
    assert isinstance(result, InvalidNotebook) and result.reason.key == "too_deep"
    assert str(MAX_DEPTH) in result.render("fr")


def test_depth_limit_is_exact_and_applies_inside_a_real_notebook():
    def with_metadata_depth(depth: int) -> bytes:
        value: object = 1
        for _ in range(depth):
            value = [value]
        raw = json.loads(notebook_bytes())
        raw["metadata"]["deep"] = value  # the notebook and its metadata add 2 levels
        return json.dumps(raw).encode()

    assert only_invalid(with_metadata_depth(MAX_DEPTH - 2)) == ["x = 1"]
    assert only_invalid(with_metadata_depth(MAX_DEPTH - 1)).reason.key == "too_deep"


def test_the_depth_found_before_parsing_is_the_real_depth():
    rng = random.Random(3)

    def value(depth: int) -> object:
        if depth == 0 or rng.random() < 0.3:
            return "".join(rng.choice('[]{}"\\\\a\u00e9') for _ in range(rng.randint(0, 6)))
        if rng.random() < 0.5:
            return [value(depth - 1) for _ in range(rng.randint(0, 3))]
        return {value(0): value(depth - 1) for _ in range(rng.randint(0, 3))}

    def real_depth(node: object) -> int:
        children = node.values() if isinstance(node, dict) else node
        if not isinstance(node, dict | list):
            return 0
        return 1 + max((real_depth(c) for c in children), default=0)

    for _ in range(500):
        node = value(rng.randint(0, 8))
        data = json.dumps(node, ensure_ascii=rng.random() < 0.5).encode()
        depth = real_depth(node)
        structure = notebook._structure(data)
        assert not notebook._too_deep(structure, depth) and (
            depth == 0 or notebook._too_deep(structure, depth - 1)
        )


@pytest.mark.parametrize("depth", [90, 200_000])
def test_an_old_format_notebook_nested_deep_is_invalid(depth):
    raw = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    text = json.dumps(raw).replace('"cells": []', '"cells": ' + "[" * depth + "]" * depth)
    result = only_invalid(text.encode())
    assert isinstance(result, InvalidNotebook)
    assert result.reason.key == ("too_deep" if depth > MAX_DEPTH else "old_format")


@pytest.mark.parametrize(
    "raw",
    [
        {"cells": 5},
        {"nbformat": 4, "cells": 5},
        {"nbformat": 4, "cells": {"a": {"cell_type": "code", "source": "x"}}},
        {"nbformat": 4, "cells": [{"cell_type": "code", "source": [1, [2]]}]},
        {"nbformat": 4, "cells": [{"cell_type": ["code"], "source": "x"}]},
        {"nbformat": 3, "worksheets": 7},
        {"nbformat": "4", "cells": []},
        {"nbformat": 4, "cells": [{"cell_type": "code", "source": "x"}], "metadata": 3},
        {"nbformat": 4, "cells": [{"cell_type": "code", "source": "x"}],
         "metadata": {"kernelspec": {"language": {"deep": [[["R"]]]}}}},
        {"nbformat": 4, "cells": [{"cell_type": "code", "source": "x"}],
         "metadata": {"otter": {"assignment_name": ["mlp_softmax"]}}},
        {"nbformat": 4, "cells": [None, 1, "code"]},
        {"nbformat": 4.0, "cells": [], "worksheets": []},
    ],
)  # fmt: skip
def test_malformed_notebooks_are_invalid_or_read(raw):
    result = only_invalid(json.dumps(raw).encode())
    assert isinstance(result, list) or result.reason.key != "unreadable"  # a precise reason


def test_random_damage_to_a_notebook_never_raises_anything_else():
    honest = notebook_bytes(
        "def f(x):\n    return x\n", otter={"assignment_name": "sgd_batch_size"}
    )
    rng = random.Random(9)
    for _ in range(400):
        damaged = bytearray(honest)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(damaged))
            damaged[at : at + rng.randint(0, 3)] = bytes(
                rng.choice(b'{}[]",:0\\\xff\x00 ') for _ in range(rng.randint(0, 3))
            )
        only_invalid(bytes(damaged))


def test_cells_and_code_are_bounded():
    raw = json.loads(notebook_bytes())
    raw["cells"] = [{"cell_type": "markdown", "source": "", "metadata": {}}] * MAX_CELLS + raw[
        "cells"
    ]
    assert only_invalid(json.dumps(raw).encode()).reason.key == "too_many_cells"
    huge = notebook_bytes("#" * (MAX_CODE_CHARS + 1))
    assert only_invalid(huge).reason.key == "code_too_large"


def test_quoted_notebook_text_is_short_and_printable():
    raw = json.loads(notebook_bytes())
    raw["metadata"]["kernelspec"]["language"] = "R\x1b[2J" + "x" * 10_000
    invalid = only_invalid(json.dumps(raw).encode())
    assert invalid.reason.key == "not_python"
    text = invalid.render("fr")
    assert len(text) < 200 and "\x1b" not in text


def test_a_deep_notebook_with_the_template_name_is_collected(tmp_path):
    (tmp_path / "sgd_batch_size.ipynb").write_bytes(nested(100_000))
    found, problems = collect([tmp_path])
    assert [s.student_id for s in found] == ["sgd_batch_size"] and problems == []


# --- any zip member ---------------------------------------------------------------------


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def data_offset(path: Path, member: str) -> int:
    """Where ``member``'s compressed bytes start in the archive (after its local header)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    raw = path.read_bytes()
    name_length, extra_length = struct.unpack(
        "<HH", raw[info.header_offset + 26 : info.header_offset + 30]
    )
    return info.header_offset + 30 + name_length + extra_length


def patch(path: Path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))


def test_a_corrupt_deflate_member_is_a_problem_naming_archive_and_member(tmp_path):
    good, bad = "anna_1001_1_tp.ipynb", "bad_1002_2_tp.ipynb"
    archive = write_zip(tmp_path / "class.zip", {bad: notebook_bytes() * 3, good: notebook_bytes()})
    patch(archive, data_offset(archive, bad), b"\xff" * 8)  # BTYPE 11: an invalid block
    with zipfile.ZipFile(archive) as opened, pytest.raises(Exception) as raised:
        opened.read(bad)  # what intake used to let through
    assert type(raised.value).__module__ == "zlib"
    found, problems = collect([archive])
    assert [s.student_id for s in found] == ["1001"]
    [problem] = problems
    assert problem.origin == f"{archive}!{bad}" and "unreadable archive member" in problem.message
    assert "decompressing" in problem.message


def test_other_broken_members_and_archives_are_problems(tmp_path):
    crc = write_zip(tmp_path / "crc.zip", {"c_1_1_tp.ipynb": notebook_bytes()})
    with zipfile.ZipFile(crc) as archive:
        info = archive.getinfo("c_1_1_tp.ipynb")
    patch(crc, info.header_offset + 14, b"\0\0\0\0")  # wrong CRC in the local header
    raw = bytearray(crc.read_bytes())  # and in the central directory, so only the data disagrees
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 16 : central + 20] = b"\0\0\0\0"
    crc.write_bytes(bytes(raw))
    method = write_zip(tmp_path / "method.zip", {"m_2_2_tp.ipynb": notebook_bytes()})
    raw = bytearray(method.read_bytes())
    central = raw.rfind(b"PK\x01\x02")
    raw[8:10] = raw[central + 10 : central + 12] = struct.pack("<H", 99)  # no such method
    method.write_bytes(bytes(raw))
    truncated = write_zip(tmp_path / "truncated.zip", {"t_3_3_tp.ipynb": notebook_bytes()})
    truncated.write_bytes(truncated.read_bytes()[:-30])
    dated = tmp_path / "dated.zip"
    with zipfile.ZipFile(dated, "w") as archive:
        archive.writestr(zipfile.ZipInfo("d_4_4_tp.ipynb", (1990, 0, 0, 0, 0, 0)), notebook_bytes())

    found, problems = collect([crc, method, truncated, dated])
    assert [s.student_id for s in found] == ["4"] and found[0].submitted_at is None
    by_origin = {p.origin.split("!")[0]: p.message for p in problems}
    assert "BadZipFile" in by_origin[str(crc)] and "CRC" in by_origin[str(crc)]
    assert "NotImplementedError" in by_origin[str(method)]
    assert "unreadable zip archive" in by_origin[str(truncated)]


def misnamed_zip(path: Path, before: bytes = b"") -> Path:
    """A zip whose first and third members are named in bytes that are not UTF-8 while
    marked UTF-8 (bit 11), between two good notebooks; ``before``: bytes ahead of the zip
    (a self-extracting archive)."""
    write_zip(path, {
        "jérôme.ipynb": notebook_bytes(), "alice.ipynb": notebook_bytes("a = 1"),
        "Zoé_4_assignsubmission_file/tp.ipynb": notebook_bytes(), "bob.ipynb": notebook_bytes("b = 2"),
    })  # fmt: skip
    raw = path.read_bytes()  # same lengths: local headers and directory stay in step
    raw = raw.replace("jérôme".encode(), b"j\xe9\xffr\xf4\xfeme").replace(
        "Zoé".encode(), b"Zo\xe9\xff"
    )
    path.write_bytes(before + raw)
    return path


@pytest.mark.parametrize("layout", ["plain", "zip64", "after other bytes"])
def test_a_member_named_in_false_utf8_is_refused_alone(tmp_path, monkeypatch, layout):
    """Python's zipfile refuses the whole archive for one name marked UTF-8 that is not:
    only that member is refused, named by its bytes, and its classmates are graded."""
    if layout == "zip64":  # end records in zip64 form, as for an archive of 65,536 members
        monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    archive = misnamed_zip(tmp_path / "class.zip", b"#!/bin/sh\n" * 50 * (layout != "plain"))
    monkeypatch.undo()
    with pytest.raises(UnicodeDecodeError):
        zipfile.ZipFile(archive)  # what intake used to report for the whole archive
    found, problems = collect([archive])
    assert [s.student_id for s in found] == ["alice", "bob"]
    sources = [json.loads(s.read())["cells"][0]["source"] for s in found]  # read when graded
    assert sources == [["a = 1"], ["b = 2"]]
    assert [(p.origin, p.message) for p in problems] == [
        (f"{archive}!j\\xe9\\xffr\\xf4\\xfeme.ipynb", "member name marked UTF-8 that is not UTF-8: not read"),
        (f"{archive}!Zo\\xe9\\xff_4_assignsubmission_file/tp.ipynb",
         "member name marked UTF-8 that is not UTF-8: not read"),
    ]  # fmt: skip


def test_notebooks_per_archive_are_bounded_and_the_skipped_ones_named(tmp_path, monkeypatch):
    """Only notebooks count toward the limit: one student's folder of junk files cannot
    push the classmates after it out of the archive; notebooks past it are named."""
    monkeypatch.setattr(submissions, "MAX_ARCHIVE_NOTEBOOKS", 5)
    members = {f"Junk Student_1_assignsubmission_file/f{i}.txt": b"x" for i in range(50)}
    members |= {f"s_{i}_{i}_tp.ipynb": notebook_bytes() for i in range(1, 9)}
    found, problems = collect([write_zip(tmp_path / "many.zip", members)])
    assert sorted(s.student_id for s in found) == ["1", "2", "3", "4", "5"]
    over = [p.message for p in problems if "per archive" in p.message]
    assert over == [
        "8 notebooks, more than 5 per archive: the last 3 not read "
        "(s_6_6_tp.ipynb, s_7_7_tp.ipynb, s_8_8_tp.ipynb); split the archive"
    ]


def test_archive_members_outside_the_archive_are_refused_not_ranked(tmp_path):
    """A member named '../x/...' or '/x/...' would otherwise rank before the real one."""
    forged = "../../tmp/Alice Smith_1234_assignsubmission_file/tp.ipynb"
    members = {
        forged: notebook_bytes(),
        "/abs/Alice Smith_1234_assignsubmission_file/tp.ipynb": notebook_bytes(),
        "Alice Smith_1234_assignsubmission_file/tp.ipynb": notebook_bytes(),
    }
    archive = write_zip(tmp_path / "moodle.zip", members)
    found, problems = collect([archive])
    assert [s.origin for s in found] == [
        f"{archive}!Alice Smith_1234_assignsubmission_file/tp.ipynb"
    ]
    refused = sorted(p.origin.split("!")[1] for p in problems if "outside the archive" in p.message)
    assert refused == sorted([forged, "/abs/Alice Smith_1234_assignsubmission_file/tp.ipynb"])


def test_a_huge_zip_directory_is_refused_before_it_is_loaded(tmp_path, monkeypatch):
    archive = write_zip(tmp_path / "dir.zip", {f"s_{i}_{i}_tp.ipynb": b"{}" for i in range(50)})
    monkeypatch.setattr(submissions, "MAX_DIRECTORY_BYTES", 1000)
    found, problems = collect([archive])
    assert found == [] and "zip directory of" in problems[0].message


# --- any file name ----------------------------------------------------------------------

HOSTILE_NAMES = [  # file names on disk (no "/": that would be a folder)
    "[bold red]boom",
    "ctrl\x1b[31m\x07\r\nname",
    "bidi\u202egnp.exe",
    "emoji :smile: [link=x]",
    "L" * 240,
]
HOSTILE_MEMBERS = ["[bold red]boom[/].ipynb", "x[/b]y.ipynb", "\x1b]0;title\x07.ipynb"]


def test_hostile_file_names_are_collected_printable_and_printed_literally(tmp_path):
    inputs = tmp_path / "inputs"
    (inputs / "notes[").mkdir(parents=True)
    for name in HOSTILE_NAMES:
        (inputs / f"{name}.ipynb").write_bytes(notebook_bytes())
    Path(os.fsdecode(os.fsencode(inputs) + b"/caf\xe9.ipynb")).write_bytes(notebook_bytes())
    (inputs / "notes[/b].zip").write_bytes(b"PK not a zip [/b]")
    write_zip(inputs / "members.zip", {name: notebook_bytes() for name in HOSTILE_MEMBERS})
    found, problems = collect([inputs])
    assert len(found) == len(HOSTILE_NAMES) + 1 + len(HOSTILE_MEMBERS)
    for text in [*(s.student_id for s in found), *(s.origin for s in found),
                 *(p.origin for p in problems), *(p.message for p in problems)]:  # fmt: skip
        assert text.isprintable() and text.encode("utf-8")
        assert len(text) <= 1000
    ids = {s.student_id for s in found}
    assert {"[bold red]boom", "caf%E9", "bidi_gnp.exe", "ctrl_[31m___name", "b]y", "]"} <= ids
    assert all(len(i) <= submissions.MAX_ID_CHARS for i in ids)
    assert [p.origin for p in problems] == [str(inputs / "notes[/b].zip")]

    out = tmp_path / "out"
    out.mkdir()
    (out / "grades.csv").write_text("student_id,assignment,score,max_score,status\n")
    problems.append(Problem("x", "a message with [/b] and [bold]markup[/bold] and :smile:"))
    console = Console(file=io.StringIO(), record=True, width=400, color_system=None)
    run = ClassRun("sgd_batch_size", out, problems=problems)
    ClassProgress("sgd_batch_size", console).summary(run)
    printed = console.export_text()
    assert "notes[/b].zip" in printed
    assert "[bold]markup[/bold] and :smile:" in printed
    assert "\x1b" not in printed and "\x07" not in printed


def test_the_summary_counts_a_group_s_submission_once_and_its_members_as_students(tmp_path):
    """grades.csv has a row per student, a group's members pointing at its row: the run's
    summary counts submissions as the class report does, and says how many students."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "grades.csv").write_text(
        "student_id,assignment,score,max_score,status,graded_as\n"
        "1001,tp,2.0,8.0,graded,\n"
        "1011,tp,6.0,8.0,graded,group:A\n"
        "1012,tp,6.0,8.0,graded,group:A\n"
        "group:A,tp,6.0,8.0,graded,\n"
    )
    console = Console(file=io.StringIO(), record=True, width=400, color_system=None)
    ClassProgress("tp", console).summary(ClassRun("tp", out))
    printed = console.export_text()
    assert f"tp: 2 submission(s) for 3 student(s) in {out / 'grades.csv'}" in printed
    assert "score: mean 4.00, median 4.00, min 2.00, max 6.00 / 8" in printed


# --- the whole class run ----------------------------------------------------------------


def test_a_class_with_every_hostile_input_is_graded_and_exits_0(tmp_path):
    from .hostile_corpus import HONEST_BYTES

    inputs = tmp_path / "inputs"
    (inputs / "notes[").mkdir(parents=True)
    write_zip(inputs / "canvas.zip", {"zoe_1009_7_tp.ipynb": HONEST_BYTES})
    (inputs / "deep.ipynb").write_bytes(nested(100_000))
    (inputs / "sgd_batch_size.ipynb").write_bytes(nested(100_000))  # metadata read: deep too
    with (inputs / "huge.ipynb").open("wb") as huge:  # sparse: no disk used
        huge.truncate(submissions.MAX_NOTEBOOK_BYTES + 1)
    claim = json.loads(notebook_bytes("pass"))
    claim["metadata"]["dlgrade"] = {"student_id": "1009"}
    (inputs / "notes[" / "sgd_batch_size (1).ipynb").write_text(json.dumps(claim))
    corrupt = write_zip(inputs / "notes[" / "b].zip", {"bad_1002_2_tp.ipynb": HONEST_BYTES})
    patch(corrupt, data_offset(corrupt, "bad_1002_2_tp.ipynb"), b"\xff" * 8)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", "sgd_batch_size", str(inputs),
               "--out", str(out), "--workers", "1"]  # fmt: skip
    environment = {**os.environ, "COLUMNS": "1000"}  # one line per problem
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert finished.returncode == 0, finished.stderr[-2000:]
    grades = {r["student_id"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert set(grades) == {"1009", "deep", "sgd_batch_size", "huge"}
    assert grades["1009"]["status"] == "graded"
    hand = float(grades["1009"]["max_score"]) - 8  # q4_conclusion: to be graded by hand
    assert (float(grades["1009"]["score"]), hand) == (8.0, 3.0)
    assert {grades[s]["status"] for s in ("deep", "sgd_batch_size", "huge")} == {"invalid"}
    refusal = (out / "results" / "huge.json").read_text(encoding="utf-8")
    assert "le notebook fait 65 Mo, au-delà de la limite de 64 Mo" in refusal
    lines = finished.stderr.splitlines()
    assert any(f"{inputs}/notes[/b].zip!bad_1002_2_tp.ipynb: unreadable" in line for line in lines)
    assert sum("second notebook" in line and "1009" in line for line in lines) == 2


def test_two_members_with_one_name_are_told_apart(tmp_path):
    """A zip may hold two members under one name (a file added again): the one kept is
    read back by its place, never mistaken for the other (``changed on disk``)."""
    archive = tmp_path / "twice.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        with zipfile.ZipFile(archive, "w") as opened:
            opened.writestr("anna_1001_1_tp.ipynb", notebook_bytes("x = 1"))
            opened.writestr("anna_1001_1_tp.ipynb", notebook_bytes("x = 2"))
    found, problems = collect([archive])
    [kept] = found
    assert nbformat.reads(kept.read().decode(), as_version=4).cells[0].source == "x = 1"
    assert problems and all("second notebook" in p.message for p in problems)


def test_a_symbolic_link_in_an_archive_is_named_as_such(tmp_path):
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        link = zipfile.ZipInfo("bob_1002_2_tp.ipynb")
        link.external_attr = 0o120777 << 16  # a symbolic link to the grader's files
        opened.writestr(link, "/etc/passwd")
        opened.writestr("anna_1001_1_tp.ipynb", notebook_bytes())
    found, problems = collect([archive])
    assert [s.student_id for s in found] == ["1001"]
    [problem] = problems
    assert problem.origin == f"{archive}!bob_1002_2_tp.ipynb"
    assert problem.message == "symbolic link inside the archive: not followed"


def test_outputs_of_millions_of_values_are_refused_before_parsing_large_honest_ones_pass():
    """60 MB of ``{}`` would take over a gigabyte of the grader's memory once parsed; a
    notebook with a megabyte plot and fifty thousand printed lines is a notebook."""
    honest = json.loads(notebook_bytes("pass"))
    honest["cells"][-1]["outputs"] = [
        {"output_type": "display_data", "metadata": {},
         "data": {"image/png": "iVBOR" + "A" * 1_000_000}},
        {"output_type": "stream", "name": "stdout", "text": [f"{i}\n" for i in range(50_000)]},
    ]  # fmt: skip
    assert isinstance(only_invalid(json.dumps(honest).encode()), list)
    flooded = json.loads(notebook_bytes("pass"))
    flooded["cells"][-1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": []}]
    text = json.dumps(flooded).replace('"text": []', '"text": [' + "{}," * 1_100_000 + "{}]")
    result = only_invalid(text.encode())
    assert isinstance(result, InvalidNotebook) and result.reason.key == "too_many_values"
    assert "Clear Output" in result.render("fr")


def test_a_notebook_with_no_name_is_a_problem_not_silence(tmp_path):
    """A file named just ".ipynb" is a notebook whose student cannot be told: said, in a
    folder, in an archive, or given alone (red-team review: it was skipped silently)."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / ".ipynb").write_bytes(notebook_bytes())
    (folder / "alice.ipynb").write_bytes(notebook_bytes())
    archive = write_zip(
        tmp_path / "class.zip", {".ipynb": notebook_bytes(), "bob.ipynb": notebook_bytes()}
    )
    found, problems = collect([folder, archive, folder / ".ipynb"])
    assert sorted(s.student_id for s in found) == ["alice", "bob"]
    assert len(problems) == 3 and all("no name" in p.message for p in problems)


def test_a_cell_of_a_type_jupyter_does_not_know_makes_the_notebook_invalid():
    """ "cell_type": "Code" would leave the cell's code unrun, and the student unaware."""
    data = json.loads(notebook_bytes("def predict(w, x):\n    return w * x"))
    data["cells"].append({"cell_type": "Code", "metadata": {}, "source": "x = 2", "outputs": []})
    with pytest.raises(InvalidNotebook) as invalid:
        parse(json.dumps(data).encode())
    assert invalid.value.reason.key == "unknown_cell_type"
    assert "cellule 2" in invalid.value.render("fr") and "« Code »" in invalid.value.render("fr")
    assert "cell 2" in invalid.value.render("en")
