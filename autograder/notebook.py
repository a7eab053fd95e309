"""Reading a submitted notebook: only its code cells are kept, nothing of it is trusted.

Outputs are ignored (never executed, never shown as HTML); older formats are upgraded
where nbformat can; anything else gets a clear reason, in French and English.
"""

from __future__ import annotations

import json

import nbformat

from .messages import Message

TEMPLATES = {
    "not_utf8": {
        "fr": "le fichier n'est pas du texte UTF-8",
        "en": "the file is not UTF-8 text",
    },
    "not_json": {
        "fr": "le fichier n'est pas un JSON valide ({detail})",
        "en": "the file is not valid JSON ({detail})",
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
    "refused": {
        "fr": "refusé avant lecture ({reason})",
        "en": "refused before reading ({reason})",
    },
    "other_assignment": {
        "fr": "ce notebook est celui du devoir {found}, pas de {expected}",
        "en": "this notebook belongs to assignment {found}, not {expected}",
    },
}


class InvalidNotebook(ValueError):
    """A submission that cannot be graded; ``reason`` says why in the student's language."""

    def __init__(self, key: str, **params: str):
        super().__init__(TEMPLATES[key]["en"].format(**params))
        self.reason = Message(key, params)

    def render(self, lang: str = "fr") -> str:
        return TEMPLATES[self.reason.key][lang].format(**self.reason.params)


def parse(content: bytes, assignment: str | None = None) -> list[str]:
    """The code cells of a notebook, checked to be a Python notebook for ``assignment``."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidNotebook("not_utf8") from None
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise InvalidNotebook("not_json", detail=str(error)[:120]) from None
    if not isinstance(raw, dict) or ("cells" not in raw and "worksheets" not in raw):
        raise InvalidNotebook("not_notebook", detail="no cells")
    if raw.get("nbformat") == 4:
        notebook = raw  # already the current format: nothing to convert
        for cell in notebook.get("cells") or []:
            if isinstance(cell, dict) and isinstance(cell.get("source"), list):
                cell["source"] = "".join(map(str, cell["source"]))
    else:
        try:
            notebook = nbformat.reads(text, as_version=4)
        except Exception as error:  # nbformat raises many kinds of errors on bad input
            raise InvalidNotebook("not_notebook", detail=type(error).__name__) from None
    # Schema details (a cell id in a 4.4 notebook...) do not matter: only the cells do.
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(
        isinstance(c, dict) and isinstance(c.get("source"), str) and "cell_type" in c for c in cells
    ):
        raise InvalidNotebook("not_notebook", detail="malformed cells")
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    kernel = _kernel_language(metadata)
    if kernel and kernel != "python":
        raise InvalidNotebook("not_python", kernel=kernel)
    otter = metadata.get("otter") if isinstance(metadata.get("otter"), dict) else {}
    found = otter.get("assignment_name")
    if assignment and isinstance(found, str) and found != assignment:
        raise InvalidNotebook("other_assignment", found=found, expected=assignment)
    cells = [cell["source"] for cell in cells if cell["cell_type"] == "code"]
    if not cells:
        raise InvalidNotebook("no_code")
    return cells


def _kernel_language(metadata: dict) -> str | None:
    kernel = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    info = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    language = kernel.get("language") or info.get("name")
    return str(language).lower() if language else None
