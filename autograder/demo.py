"""The README's main job: build every assignment, then grade a generated sample class."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .assignment import load_assignment
from .build import build
from .class_run import ClassRun, grade_class
from .course import Project
from .grader import Settings
from .pages import write_feedback, write_report
from .sample_class import write_sample_class


def run_demo(
    out: Path,
    settings: Settings | None = None,
    project: Project | None = None,
    size: int = 30,
    on_run: Callable[[ClassRun], None] | None = None,
) -> pd.DataFrame:
    """Grade a sample class of ``size`` students per assignment; one row per assignment."""
    project = project or Project.default()
    rows = []
    for name in project.names():
        build(name, project)
        class_folder = out / "sample_class" / name
        write_sample_class(class_folder, name, project, size)
        run: ClassRun = grade_class(name, [class_folder], out / name, settings, project=project)
        lang = settings.lang if settings else "fr"
        write_feedback(out / name, lang)
        write_report(out / name, lang)
        if on_run:
            on_run(run)
        grades = run.grades
        autograded = sum(q.points for q in load_assignment(name, project.root).autograded)
        rows.append(
            {
                "assignment": name,
                "students": len(grades),
                **grades["status"].value_counts().to_dict(),
                "mean score": round(grades["score"].mean(), 2),
                "autograded": autograded,
                "full marks": int((grades["score"] == autograded).sum()),
                "by hand": grades["max_score"].max() - autograded,  # to give: `dlgrade manual`
            }
        )
    return pd.DataFrame(rows).fillna(0)
