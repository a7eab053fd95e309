"""What the benchmarks share: a generated class over the three assignments."""

from __future__ import annotations

from pathlib import Path

from autograder.assignment import Project
from autograder.build import build
from autograder.sample_class import write_sample_class

ASSIGNMENTS = ("backprop_miniconv", "sgd_batch_size", "mlp_softmax")


def generate_class(folder: Path, total: int, project: Project) -> dict[str, Path]:
    """About ``total`` submissions split over the assignments; one folder per assignment."""
    per_assignment = -(-total // len(ASSIGNMENTS))
    folders = {}
    for name in ASSIGNMENTS:
        build(name, project)
        write_sample_class(folder / name, name, project, per_assignment)
        folders[name] = folder / name
    return folders
