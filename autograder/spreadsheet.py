"""Text written to CSV files that instructors open in a spreadsheet.

``safe`` prefixes with ``'`` every text cell a spreadsheet could read as a formula, and
every cell that already starts with ``'``. ``unsafe`` removes exactly that prefix, so
``unsafe(safe(x)) == x`` for every text: ``'bob`` and ``bob`` never meet on the way back.
"""

from __future__ import annotations

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
