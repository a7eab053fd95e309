"""Reading a submitted notebook: only its code cells are kept, nothing of it is trusted.

Outputs are ignored (never executed, never shown as HTML); older formats are upgraded
where nbformat can; anything else gets a clear reason, in French and English. ``parse``
raises nothing but ``InvalidNotebook``, and bounds its work: nesting depth, number of
cells, total size of the code.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from .errors import DlgradeError
from .execution.protocol import encodable
from .messages import Message

TEMPLATES = {
    "no_file": {
        "fr": "aucun fichier de ce nom",
        "en": "no file of that name",
    },
    "a_folder": {
        "fr": "c'est un dossier, pas un notebook",
        "en": "this is a folder, not a notebook",
    },
    "not_utf8": {
        "fr": "le fichier n'est pas du texte UTF-8",
        "en": "the file is not UTF-8 text",
    },
    "not_json": {
        "fr": "le fichier n'est pas un JSON valide ({detail})",
        "en": "the file is not valid JSON ({detail})",
    },
    "number_too_long": {
        "fr": "le JSON contient un nombre de plus de {limit} chiffres",
        "en": "the JSON holds a number of more than {limit} digits",
    },
    "old_format": {
        "fr": "ce notebook est à l'ancien format {version}, qui n'a pas pu être converti "
        "({detail}) : ouvrez-le dans Jupyter, enregistrez-le et déposez-le de nouveau",
        "en": "this notebook is in the old format {version}, which could not be converted "
        "({detail}): open it in Jupyter, save it and submit it again",
    },
    "not_notebook": {
        "fr": "ce JSON n'est pas un notebook Jupyter ({detail})",
        "en": "this JSON is not a Jupyter notebook ({detail})",
    },
    "not_python": {
        "fr": "le notebook utilise le noyau {kernel}, pas Python",
        "en": "the notebook uses the {kernel} kernel, not Python",
    },
    "no_code": {
        "fr": "le notebook ne contient aucune cellule de code",
        "en": "the notebook has no code cell",
    },
    "unknown_cell_type": {
        "fr": "la cellule {cell} a le type « {kind} », que Jupyter ne connaît pas (code, "
        "markdown ou raw) : ouvrez le notebook dans Jupyter, refaites la cellule et "
        "déposez-le de nouveau",
        "en": "cell {cell} has the type “{kind}”, which Jupyter does not know (code, markdown "
        "or raw): open the notebook in Jupyter, make the cell again and submit it again",
    },
    "too_deep": {
        "fr": "le JSON est imbriqué sur plus de {limit} niveaux",
        "en": "the JSON is nested more than {limit} levels deep",
    },
    "too_many_values": {
        "fr": "le JSON du notebook compte plus de {limit} valeurs (des sorties énormes ?) : "
        "effacez les sorties (Kernel → Restart & Clear Output) et déposez-le de nouveau",
        "en": "the notebook's JSON holds more than {limit} values (huge outputs?): clear the "
        "outputs (Kernel → Restart & Clear Output) and submit it again",
    },
    "too_many_cells": {
        "fr": "le notebook a {count} cellules, la limite est {limit}",
        "en": "the notebook has {count} cells, the limit is {limit}",
    },
    "code_too_large": {
        "fr": "le code du notebook fait {size} caractères, la limite est {limit}",
        "en": "the notebook's code is {size} characters long, the limit is {limit}",
    },
    "unreadable": {
        "fr": "le notebook n'a pas pu être lu ({detail})",
        "en": "the notebook could not be read ({detail})",
    },
    "too_large": {
        "fr": "le notebook fait {size} Mo, au-delà de la limite de {limit} Mo : ce sont presque "
        "toujours ses sorties ; effacez-les (Kernel → Restart & Clear Output) et déposez-le de "
        "nouveau",
        "en": "the notebook is {size} MB, over the limit of {limit} MB: its outputs are almost "
        "always the cause; clear them (Kernel → Restart & Clear Output) and submit it again",
    },
    "other_assignment": {
        "fr": "ce notebook est celui du devoir {found}, pas de {expected}",
        "en": "this notebook belongs to assignment {found}, not {expected}",
    },
}


CELL_TYPES = ("code", "markdown", "raw")
"""The cell types of nbformat 4: any other is a notebook Jupyter itself would not run."""
MAX_DEPTH = 100  # levels of nested lists and objects, anywhere in the notebook
MAX_CELLS = 2_000
MAX_CODE_CHARS = 2 * 1024 * 1024  # all code cells together
# JSON values (lists, objects, numbers, strings...) anywhere in the notebook: a million
# is a hundred times a long notebook's, and stays near 100 MB once parsed, where 60 MB of
# "{}" under the size cap would take 1.6 GB of the grader's memory
MAX_VALUES = 1_000_000

_JSON_STRING = re.compile(rb'"[^"]*"')  # once escaped backslashes and quotes are removed
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as int8
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[{]}")))
_CHUNK = 1 << 22


class InvalidNotebook(DlgradeError, ValueError):
    """A submission that cannot be graded; ``reason`` says why in the student's language."""

    def __init__(self, key: str, **params: str):
        super().__init__(TEMPLATES[key]["en"].format(**params))
        self.reason = Message(key, params)

    def render(self, lang: str = "fr") -> str:
        return TEMPLATES[self.reason.key][lang].format(**self.reason.params)


def parse(content: bytes, assignment: str | None = None) -> list[str]:
    """The code cells of a notebook, checked to be a Python notebook for ``assignment``.

    Never raises anything but ``InvalidNotebook``, whatever ``content`` holds: nesting,
    cell count and code size are bounded (``MAX_DEPTH``, ``MAX_CELLS``, ``MAX_CODE_CHARS``).
    """
    try:
        return _parse(content, assignment)
    except InvalidNotebook:
        raise
    except RecursionError:  # nbformat's upgrade of an old format recursing on deep data
        raise InvalidNotebook("too_deep", limit=str(MAX_DEPTH)) from None
    except Exception as error:  # a last resort: no input may stop the class
        raise InvalidNotebook("unreadable", detail=type(error).__name__) from None


def read_notebook(content: bytes) -> dict:
    """``content`` as a notebook in format 4, each cell's source one string (a student's
    notebook, a master); InvalidNotebook saying why it is none."""
    try:
        text = content.decode("utf-8-sig")  # a byte-order mark from a Windows editor is fine
    except UnicodeDecodeError:
        raise InvalidNotebook("not_utf8") from None
    structure = _structure(content)
    if _too_deep(structure, MAX_DEPTH):
        raise InvalidNotebook("too_deep", limit=str(MAX_DEPTH))
    if structure.count(b",") >= MAX_VALUES:  # n values of a list or object: n - 1 commas
        raise InvalidNotebook("too_many_values", limit=f"{MAX_VALUES:,}".replace(",", " "))
    try:
        raw = json.loads(text)
    except RecursionError:  # only from a caller's own deep stack: _too_deep came first
        raise InvalidNotebook("too_deep", limit=str(MAX_DEPTH)) from None
    except ValueError as error:
        if "integer string conversion" in str(error):  # Python's cap on digits, not bad JSON
            limit = str(sys.get_int_max_str_digits())
            raise InvalidNotebook("number_too_long", limit=limit) from None
        raise InvalidNotebook("not_json", detail=str(error)[:120]) from None
    if _SURROGATE_ESCAPE.search(text):
        raw = _encodable_strings(raw)
    return _current_format(raw, text)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""A JSON escape of a UTF-16 surrogate: a pair is one character, a lone one no text."""


def _encodable_strings(value: Any) -> Any:
    """``value`` with every string (keys too) ``encodable``: a lone surrogate in a cell
    would stop whatever stores or shows the cell."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, list):
        return [_encodable_strings(item) for item in value]
    if isinstance(value, dict):
        return {encodable(k): _encodable_strings(v) for k, v in value.items()}
    return value


def _parse(content: bytes, assignment: str | None) -> list[str]:
    notebook = read_notebook(content)
    cells = notebook["cells"]
    if len(cells) > MAX_CELLS:
        raise InvalidNotebook("too_many_cells", count=str(len(cells)), limit=str(MAX_CELLS))
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    kernel = _kernel_language(metadata)
    if kernel and kernel != "python":
        raise InvalidNotebook("not_python", kernel=_shown(kernel))
    for section, key in (("otter", "assignment_name"), ("dlgrade", "assignment")):
        tags = metadata.get(section) if isinstance(metadata.get(section), dict) else {}
        found = tags.get(key)  # each template names its assignment in both places
        if assignment and isinstance(found, str) and found != assignment:
            raise InvalidNotebook("other_assignment", found=_shown(found), expected=assignment)
    for number, cell in enumerate(cells, start=1):
        if cell["cell_type"] not in CELL_TYPES:  # "Code": its code would go unrun, unseen
            kind = cell["cell_type"] if isinstance(cell["cell_type"], str) else "?"
            raise InvalidNotebook("unknown_cell_type", cell=str(number), kind=_shown(kind))
    code = [cell["source"] for cell in cells if cell["cell_type"] == "code"]
    if not code:
        raise InvalidNotebook("no_code")
    size = sum(map(len, code))
    if size > MAX_CODE_CHARS:
        raise InvalidNotebook("code_too_large", size=str(size), limit=str(MAX_CODE_CHARS))
    return code


def cell_start(source: str) -> str:
    """A cell's first line that is not blank nor a comment, short: how a student finds the
    cell a message names, since Jupyter shows no cell numbers."""
    lines = [line.strip() for line in source.splitlines()]
    return _shown(next((line for line in lines if line and not line.startswith("#")), ""))


def cell_reference(number: int, start: str | None) -> Message:
    """How a message names a cell: its number among the code cells, then its first line."""
    return (
        Message("cell_named", {"cell": number, "start": start})
        if start
        else Message("cell_number", {"cell": number})
    )


def _current_format(raw: Any, text: str) -> dict:
    """The notebook ``raw`` (``text`` decoded) in format 4.

    A notebook already in format 4 is taken as it is: schema details (a cell id in a 4.4
    notebook...) do not matter, only the cells do. An older one is converted by nbformat,
    imported only then: grading and a student's `dlgrade check` skip its import (a
    quarter of a second).
    """
    if not isinstance(raw, dict) or ("cells" not in raw and "worksheets" not in raw):
        raise InvalidNotebook("not_notebook", detail="no cells")
    if raw.get("nbformat") == 4:
        notebook = raw
        for cell in raw["cells"] if isinstance(raw.get("cells"), list) else []:
            source = cell.get("source") if isinstance(cell, dict) else None
            if isinstance(source, list) and all(isinstance(line, str) for line in source):
                cell["source"] = "".join(source)
    else:
        import nbformat

        try:
            notebook = nbformat.reads(text, as_version=4)
        except RecursionError:
            raise InvalidNotebook("too_deep", limit=str(MAX_DEPTH)) from None
        except Exception as error:  # nbformat raises many kinds of errors on bad input
            version = raw.get("nbformat")
            if isinstance(version, int) and not isinstance(version, bool) and 1 <= version < 4:
                detail = type(error).__name__
                raise InvalidNotebook("old_format", version=str(version), detail=detail) from None
            raise InvalidNotebook("not_notebook", detail=type(error).__name__) from None
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(
        isinstance(c, dict) and isinstance(c.get("source"), str) and "cell_type" in c for c in cells
    ):
        raise InvalidNotebook("not_notebook", detail="malformed cells")
    return notebook


def _structure(data: bytes) -> bytes:
    """JSON ``data`` without its strings: what is left tells its shape before parsing."""
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    return _JSON_STRING.sub(b"", unescaped)


def _too_deep(structure: bytes, limit: int) -> bool:
    """Whether JSON (its ``_structure``) nests lists and objects more than ``limit`` deep,
    found before parsing it (a parser recurses): brackets counted with NumPy in chunks."""
    import numpy as np  # here: the command line sets NumPy's threads before it is loaded

    steps = structure.translate(_STEPS, _NOT_BRACKETS)
    depth = 0
    for start in range(0, len(steps), _CHUNK):
        chunk = np.frombuffer(steps[start : start + _CHUNK], np.int8)
        levels = np.cumsum(chunk, dtype=np.int64) + depth
        if levels.max() > limit:
            return True
        depth = int(levels[-1])
    return False


def _shown(text: str, limit: int = 60) -> str:
    """A notebook's own text, made printable and short, to quote in a message."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kernel_language(metadata: dict) -> str | None:
    kernel = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    info = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    language = kernel.get("language") or info.get("name")
    return language.lower() if isinstance(language, str) and language else None
