"""What the benchmarks share: classes made of the sample mix of each assignment, and otter's
baseline."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.build import otter_assigned
from autograder.course import Project
from autograder.sample_class import write_sample_class

ASSIGNMENTS = ("backprop_miniconv", "sgd_batch_size", "mlp_softmax")
MIX = 30
"""Notebooks in one assignment's sample class: every class size repeats this mix, so the
cost of a submission does not depend on the size of the class."""


def sample_mixes(folder: Path, project: Project, notebook_mb: float) -> dict[str, list[Path]]:
    """The sample class of each assignment; with ``notebook_mb``, each JSON notebook carries
    a plot output of that size, as a notebook saved after running does."""
    mixes = {}
    for name in ASSIGNMENTS:
        mixes[name] = [s.path for s in write_sample_class(folder / name, name, project, MIX)]
        if notebook_mb:
            for path in mixes[name]:
                _pad(path, notebook_mb)
    return mixes


def _pad(path: Path, megabytes: float) -> None:
    try:
        notebook = json.loads(path.read_bytes())
    except ValueError:
        return  # the sample's broken file stays broken
    image = base64.b64encode(os.urandom(int(megabytes * 2**20 * 3 / 4))).decode()
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    cell["outputs"] = [
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": image}}
    ]
    path.write_text(json.dumps(notebook), encoding="utf-8")


def class_folder(mix: list[Path], count: int, folder: Path) -> Path:
    """``count`` submissions: the mix repeated, each copy a student of its own (hard links)."""
    folder.mkdir(parents=True)
    for index in range(count):
        os.link(mix[index % len(mix)], folder / f"s{index:05d}.ipynb")
    return folder


def native_zips(project: Project, folder: Path) -> dict[str, Path]:
    """Otter's own autograder zip of each assignment, as otter assign writes it.

    The baseline is otter's native zip (hidden tests in the student's kernel), never the
    zip `dlgrade build` ships, which runs dlgrade's sandboxed engine under otter and
    would flatter the ratio.
    """
    zips = {}
    for name in ASSIGNMENTS:
        (zips[name],) = (otter_assigned(name, project, folder) / "autograder").glob("*.zip")
    return zips


def otter_seconds(jobs: list[tuple[str, Path]], zips: dict[str, Path]) -> float:
    """Seconds for `otter run` on each (assignment, notebook), one after the other."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        for name, path in jobs:
            subprocess.run(
                [sys.executable, "-m", "otter", "run", "-a", str(zips[name]), "-o", out, str(path)],
                capture_output=True, check=False, timeout=600,
            )  # fmt: skip
        return time.perf_counter() - started
