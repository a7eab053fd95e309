"""``dlgrade new NAME``: a new assignment folder that builds and grades at once.

The scaffold is the smallest complete assignment: a master notebook with one question
(``relu(z)``), its reference, one check, one known mistake and one sample mistake. Each
file says what to change to make it your own; ``docs/new_assignment.md`` walks through it.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .course import AssignmentError, Project

NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def new_assignment(name: str, project: Project) -> list[Path]:
    """Write the files of a new assignment ``name`` into the course ``project``; returns
    them. Refuses a name that is not a Python identifier in lower case, or that exists."""
    if not NAME.match(name):
        raise AssignmentError(
            f"{name!r}: an assignment name is lower case letters, digits and _, starting "
            "with a letter (it names a Python module)"
        )
    folder = project.folder(name)
    if folder.exists() or project.reference(name).exists():
        raise AssignmentError(f"{folder}: assignment {name!r} exists already")
    files = {
        project.master(name): _master(name),
        folder / "checks.py": CHECKS.format(name=name),
        folder / "mistakes.py": MISTAKES.format(name=name),
        folder / "samples.py": SAMPLES.format(name=name),
        folder / "feedback.yaml": FEEDBACK,
        project.reference(name): REFERENCE.format(name=name),
    }
    package = project.root / "solutions" / "__init__.py"
    if not package.exists():
        files[package] = (
            '"""The reference implementations of the course: one module per assignment."""\n'
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def _master(name: str) -> str:
    """The master notebook, in otter-assign format."""
    cells = [
        ("raw", MASTER_CONFIG.format(name=name)),
        ("markdown", f"# {name}\n\nUne première question : la fonction d'activation ReLU."),
        (
            "code",
            f"import numpy as np\nfrom solutions import {name} as reference  # SOLUTION NO PROMPT",
        ),
        ("raw", "# BEGIN QUESTION\nname: q1_relu"),
        ("markdown", QUESTION),
        ("raw", "# BEGIN SOLUTION"),
        ("code", SOLUTION_CELL),
        ("raw", "# END SOLUTION"),
        ("raw", "# BEGIN TESTS"),
        ("code", PUBLIC_TEST),
        ("code", HIDDEN_TEST.format(name=name)),
        ("raw", "# END TESTS"),
        ("raw", "# END QUESTION"),
    ]
    notebook = nbformat.v4.new_notebook()
    makers = {
        "raw": nbformat.v4.new_raw_cell,
        "markdown": nbformat.v4.new_markdown_cell,
        "code": nbformat.v4.new_code_cell,
    }
    notebook.cells = [makers[kind](source) for kind, source in cells]
    notebook.metadata["kernelspec"] = {
        "name": "python3", "language": "python", "display_name": "Python 3"
    }  # fmt: skip
    return nbformat.writes(notebook)


MASTER_CONFIG = """# ASSIGNMENT CONFIG
name: {name}
init_cell: true
check_all_cell: false
export_cell: false
strip_solutions_from_all_cells: true
autograder_files:
- autograder
- solutions
tests:
  files: false
  ok_format: false
generate: true"""

QUESTION = """**Question 1.** Écrivez `relu(z)`, qui renvoie $\\max(0, z)$ élément par élément,
pour un tableau `z` de forme quelconque."""

SOLUTION_CELL = '''def relu(z):
    """ReLU élément par élément."""
    # BEGIN SOLUTION
    return reference.relu(z)
    # END SOLUTION'''

PUBLIC_TEST = '''""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_relu_shape(env):
    import numpy as np
    assert np.shape(env["relu"](np.zeros((2, 3)))) == (2, 3), "relu doit garder la forme de z"'''

HIDDEN_TEST = '''""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def check_relu_values(env):
    from autograder.otter_bridge import verify

    verify('{name}', 'relu_values', env)'''

REFERENCE = '''"""Reference of {name}: the single source of truth its checks compare answers with."""

import numpy as np


def relu(z):
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)
'''

CHECKS = '''"""Hidden checks of {name}.

``FIXED`` holds the inputs feedback may show; ``draw`` makes inputs like them from a seed
(a new one for each grading run); ``build`` makes the checks on a set of inputs. A check
is calls of the student's functions and a judge of their answers against the
reference's (``autograder.checks``: ``matches_reference``, ``training_loop``,
``agrees_with_finite_differences``...). Each check id is named by one hidden test cell of
the master, which gives its points.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from autograder.checks import Check, about, matches_reference
from autograder.execution.plan import Call
from autograder.messages import Translated


@dataclass(frozen=True)
class Inputs:
    arrays: tuple[np.ndarray, ...]


FIXED = Inputs((np.array([-2.0, -0.5, 0.0, 0.5, 2.0]), np.array([[1.0, -1.0], [-3.0, 4.0]])))


def draw(rng: np.random.Generator) -> Inputs:
    """Inputs like ``FIXED``, of random sizes, drawn from ``rng``."""
    return Inputs((rng.normal(size=int(rng.integers(3, 9))), rng.normal(size=(2, 3))))


def _words(z: np.ndarray, drawn: bool) -> Translated:
    """The input in words, for the feedback: shown values for the fixed inputs only."""
    shape = " × ".join(map(str, z.shape))
    if drawn:
        return about(f"un tableau {{shape}} tiré au hasard", f"a random {{shape}} array")
    values = np.round(z, 2).tolist()
    return about(f"le tableau {{shape}} z = {{values}}", f"the {{shape}} array z = {{values}}")


def build(inputs: Inputs, reference: ModuleType, tag: str = "") -> list[Check]:
    """The checks on ``inputs``; ``tag`` prefixes every call key (and is not empty for the
    inputs drawn from a seed)."""
    calls = tuple(
        Call(f"{{tag}}relu/{{i}}", "relu", (z,), about=_words(z, drawn=bool(tag)))
        for i, z in enumerate(inputs.arrays)
    )
    return [Check("relu_values", calls, matches_reference(calls, "ReLU"), ("relu_inverted",))]
'''

MISTAKES = '''"""Known mistakes of {name}: each with the wrong variants of the reference that make it.

A variant gets the reference's functions (``original``) and the namespace it runs in
(``live``), and returns the functions the mistake changes. List a mistake's id in the
``misconceptions`` of the checks it makes fail (checks.py).
"""

from __future__ import annotations

import numpy as np

from autograder.mistakes import Mistake


def _minimum(original, live):
    """``original``: the reference's functions by name; ``live``: the namespace the variant
    runs in (call other contract functions through it). Returns the functions it changes."""
    return {{"relu": lambda z: np.minimum(np.asarray(z, dtype=np.float64), 0.0)}}


MISTAKES = (
    Mistake(
        "relu_inverted",
        {{"fr": "ReLU inversée", "en": "Inverted ReLU"}},
        {{
            "fr": "ReLU garde les valeurs positives et met les négatives à 0 : max(0, z), pas min(0, z).",
            "en": "ReLU keeps positive values and sets negative ones to 0: max(0, z), not min(0, z).",
        }},
        (_minimum,),
    ),
)
'''

SAMPLES = '''"""Mistakes written into the sample class of {name} (``dlgrade demo``): each replaces one
passage of the reference; the grader must name the mistake and take points from the
listed checks only."""

from autograder.course import SampleMistake

SAMPLE_MISTAKES = (
    SampleMistake(
        "relu_inverted",
        "np.maximum(np.asarray(z, dtype=np.float64), 0.0)",
        "np.minimum(np.asarray(z, dtype=np.float64), 0.0)",
        ("relu_values",),
    ),
)
'''

FEEDBACK = """# What the feedback of this assignment reveals, for a graded submission and for
# `dlgrade check`: hints (what is wrong and where) or values (also expected and obtained).
reveal:
  graded: values
  check: hints
"""
