"""CSV files to and from the spreadsheets instructors use.

Reading: ``table_text``, ``delimiter`` and ``table_rows`` take a CSV as an LMS or a
spreadsheet saved it (any of its encodings and separators), for every file an instructor
gives the grader.

Writing: ``safe`` prefixes with ``'`` every text cell a spreadsheet could read as a
formula, and every cell that already starts with ``'``. ``unsafe`` removes exactly that
prefix, so ``unsafe(safe(x)) == x`` for every text: ``'bob`` and ``bob`` never meet on
the way back.
"""

from __future__ import annotations

import csv
import io

DELIMITERS = ",;\t"


def table_text(raw: bytes) -> str:
    """The text of a CSV file: UTF-8 with or without BOM, UTF-16 with its BOM (Blackboard's
    .xls download), else Windows-1252 (Excel's "CSV" on a Western European Windows)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def delimiter(text: str) -> str:
    """The separator of a CSV text: the one Excel's hint line names (``sep=;``), else the
    comma, semicolon (a French spreadsheet) or tab found most in its first line."""
    named, _ = _separator_hint(text)
    if named:
        return named
    first = text.split("\n", 1)[0]
    return max(DELIMITERS, key=first.count)


def _separator_hint(text: str) -> tuple[str | None, str]:
    """Excel's first line ``sep=X``, which tells it the separator and which it never shows
    as a row: the separator it names, and the text below that line."""
    first, _, rest = text.partition("\n")
    hint = first.strip()
    if len(hint) == 5 and hint.casefold().startswith("sep="):
        return hint[4], rest
    return None, text


class RepeatedColumn(csv.Error):
    """A header naming one column twice: which of its cells a row means would be a guess
    (a dict keeps the last, an index the first), so the file is refused."""

    def __init__(self, row: int, column: str, first: int, second: int):
        super().__init__(
            f"row {row}: the column {column!r} is there twice (columns {first} and {second}); "
            "keep one"
        )
        self.column = column


def table_rows(text: str) -> list[list[str]]:
    """The cells of a CSV text, row by row (a quoted cell may hold line breaks).

    A quote opened and never closed raises ``csv.Error`` naming the row where it opened:
    csv alone would make the rest of the file one cell, every row below it lost into a
    comment. So does a cell beyond csv's size limit, or a quote amid a quoted cell. Excel's
    hint line (``sep=;``) is read and dropped: rows are numbered as Excel shows them. A
    header (the first row with a cell) naming a column twice, in any case and spacing,
    raises ``RepeatedColumn``.
    """
    separator = delimiter(text)
    _, text = _separator_hint(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as error:
        where = f"row {len(rows) + 1}"
        if "unexpected end of data" in str(error):
            raise csv.Error(f"{where}: a quote opened there is never closed") from None
        raise csv.Error(f"{where}: {error}") from None
    header = next(((i, row) for i, row in enumerate(rows, 1) if any(c.strip() for c in row)), None)
    if header is not None:
        _refuse_repeated_columns(*header)
    return rows


def _refuse_repeated_columns(line: int, header: list[str]) -> None:
    """Raise ``RepeatedColumn`` for the first column ``header`` names twice; readers match
    names without case or outer spaces, so ``Points`` and ``points `` are one. Empty cells
    (a separator at the end of the line) name no column."""
    seen: dict[str, int] = {}
    for number, cell in enumerate(header, 1):
        name = cell.strip().casefold()
        if name and seen.setdefault(name, number) != number:
            raise RepeatedColumn(line, cell.strip(), seen[name], number)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_STARTS = (*_FORMULA_STARTS, "'")


def safe(value: object) -> object:
    """A text cell that no spreadsheet will read as a formula (prefixed with ``'``)."""
    if isinstance(value, str) and value.startswith(_QUOTED_STARTS):
        return "'" + value
    return value


def unsafe(cell: str) -> str:
    """The text ``safe`` was given, from the cell it wrote (a cell with no prefix as is)."""
    if cell.startswith("'") and cell[1:].startswith(_QUOTED_STARTS):
        return cell[1:]
    return cell
