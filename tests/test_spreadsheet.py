"""Every CSV an instructor gives goes through ``spreadsheet.table_rows``: a header naming a
column twice is refused there, once, in one line naming the file and the column, whatever
the file is for (appeals, hand grades, times, groups, worksheet, roster, extensions)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from autograder.errors import DlgradeError
from autograder.gradebook import Gradebook
from autograder.late import read_extensions
from autograder.lms_export import read_lms_file
from autograder.manual import import_scores
from autograder.moodle_worksheet import read_worksheet
from autograder.spreadsheet import table_rows
from autograder.submissions import read_groups, read_times

from .test_intake_exports import ASSIGNMENT, graded_folder


@pytest.mark.parametrize(
    ("text", "said"),
    [("student_id,points,points,comment\n", "row 1: the column 'points' is there twice (columns 2 and 3)"),
     ("student_id;Points; points ;comment\n", "row 1: the column 'points' is there twice (columns 2 and 3)"),
     ("\n\nStudent_ID,x,student_id\n", "row 3: the column 'student_id' is there twice (columns 1 and 3)")],
)  # fmt: skip
def test_a_header_naming_a_column_twice_is_refused(text, said):
    """Readers match headers without case or outer spaces: ``Points`` and `` points `` are
    one column, and the header is the first row with a cell (blank lines above it)."""
    with pytest.raises(csv.Error, match=f"^{re.escape(said)}; keep one$"):
        table_rows(text)


def test_empty_header_cells_and_repeated_cells_below_the_header_are_not_columns():
    assert table_rows("student_id,points,,\nbob,1,,\nbob,1,,\n")[0] == [
        "student_id",
        "points",
        "",
        "",
    ]
    assert table_rows("a,b\npoints,points\n")[1] == ["points", "points"]


def test_excel_s_separator_line_names_the_separator_and_is_not_a_row():
    """``sep=;`` on a line of its own: Excel reads it as the separator and never shows it
    (rt18 #7: it was taken for a header missing every column)."""
    assert table_rows("sep=;\r\nstudent_id;points\r\nbob;1,5\r\n") == [
        ["student_id", "points"],
        ["bob", "1,5"],
    ]
    assert table_rows("SEP=,\nstudent_id,points\n") == [["student_id", "points"]]
    assert table_rows("sep=x,y\n")[0] == ["sep=x", "y"]  # not the hint: a cell like others


def test_an_extensions_file_saved_with_excel_s_separator_line_is_read(tmp_path):
    path = tmp_path / "extensions.csv"
    path.write_text("sep=;\nstudent_id;deadline\nbob;2026-12-09T10:00\n", encoding="utf-8")
    assert set(read_extensions(path)) == {"bob"}


def _graded_import(path: Path) -> object:
    gradebook = Gradebook.of_graded(graded_folder(path.parent / "graded", ["bob"]))
    try:
        return import_scores(ASSIGNMENT, "q4_conclusion", path, gradebook)
    finally:
        gradebook.close()


READERS: dict[str, tuple[Callable[[Path], object], str]] = {
    "times": (read_times, "student_id,submitted_at,submitted_at\nbob,2026-01-01T10:00,2026-01-02T10:00\n"),
    "groups": (read_groups, "group,student_id,group\ng1,bob,g2\n"),
    "worksheet": (read_worksheet, "Identifier,Full name,Full name\nParticipant 1,Bob,Robert\n"),
    "roster": (read_lms_file, "student_id,email,EMAIL\nbob,bob@u.fr,robert@u.fr\n"),
    "extensions": (read_extensions, "student_id,deadline,deadline\nbob,2026-12-01T10:00,2026-12-09T10:00\n"),
    "hand grades": (_graded_import, "student_id,points,points\nbob,1,2\n"),
}  # fmt: skip


@pytest.mark.parametrize("kind", READERS)
def test_every_instructor_csv_with_a_column_twice_is_one_line_naming_file_and_column(
    tmp_path, kind
):
    read, text = READERS[kind]
    path = tmp_path / "given.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DlgradeError) as error:
        read(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert re.search(
        r"row 1: the column '(?i:[a-z_ ]+)' is there twice \(columns \d and \d\)", message
    )
