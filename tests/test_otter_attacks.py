"""The otter autograder zips under attack: no notebook-level attack scores more than a blank,
no secret reaches any output, nothing planted next to the notebook is read, and no process
of the submission survives its grading.

Two settings, as the zip meets them: ``otter run`` on this machine (bubblewrap), and an
emulation of otter's container (``otter grade``, Gradescope) where bubblewrap is present
but cannot create namespaces, so the submission runs as ``nobody``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.build import secret_lines

from .conftest import ASSIGNMENTS, correct_notebook
from .otter_attacks import KINDS, attack_notebook, submission_zip

pytestmark = pytest.mark.slow


def otter_run(zip_path: Path, submission: Path, out: Path) -> tuple[dict[str, Any], str]:
    """``otter run``'s results.json and everything it printed."""
    out.mkdir(parents=True, exist_ok=True)
    finished = subprocess.run(
        [sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out), str(submission)],
        capture_output=True, text=True, timeout=600, cwd=out,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return json.loads((out / "results.json").read_text()), finished.stdout + finished.stderr


def scores(results: dict[str, Any]) -> dict[str, float]:
    return {t["name"]: t["score"] for t in results["tests"] if t.get("max_score")}


def all_text(results: dict[str, Any]) -> str:
    """Every string of a results.json, decoded: what students may see, now or once published."""
    if isinstance(results, dict):
        return "\n".join(all_text(v) for v in results.values())
    if isinstance(results, list):
        return "\n".join(all_text(v) for v in results)
    return str(results)


def public_lines(project, assignment: str) -> set[str]:
    template = nbformat.read(project.template(assignment), as_version=4)
    sources = [c.source for c in template.cells]
    sources += [str(t) for t in template.metadata["otter"]["tests"].values()]
    return {line.strip() for text in sources for line in text.splitlines()}


def leaked(project, assignment: str, *texts: str) -> list[str]:
    """Lines of any assignment's solutions or hidden tests found in ``texts``."""
    secrets = set().union(*(secret_lines(a, project) for a in ASSIGNMENTS))
    secrets -= public_lines(project, assignment)
    return sorted(s for s in secrets if any(s in text for text in texts))


def readable_secrets(text: str, within: tuple[str, ...] = ("",)) -> list[str]:
    """What the leak attack reported as readable ("READABLE:<paths>|"), among the paths
    that contain one of ``within``."""
    found = []
    for chunk in text.split("READABLE:")[1:]:
        paths = chunk.split("|", 1)[0]
        found += [p for p in paths.split(";") if p.strip() and any(w in p for w in within)]
    return found


@pytest.fixture(scope="module")
def blank_scores(built, project, tmp_path_factory) -> dict[str, dict[str, float]]:
    out = tmp_path_factory.mktemp("blank")
    return {
        a: scores(otter_run(built[a].autograder_zip, project.template(a), out / a)[0])
        for a in ASSIGNMENTS
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_attack_scores_no_more_than_a_blank(
    built, project, blank_scores, tmp_path, assignment, kind
):
    notebook = tmp_path / f"{assignment}.ipynb"
    nbformat.write(attack_notebook(project, assignment, kind), notebook)
    results, printed = otter_run(built[assignment].autograder_zip, notebook, tmp_path / "out")
    attacked = scores(results)
    assert set(attacked) == set(blank_scores[assignment])
    assert all(attacked[q] <= blank_scores[assignment][q] for q in attacked), attacked
    assert leaked(project, assignment, all_text(results), printed) == []
    assert readable_secrets(all_text(results)) == []
    assert "isolation bubblewrap" in printed or "isolation unprivileged-user" in printed


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_files_beside_the_notebook_are_never_read(
    built, project, blank_scores, tmp_path, assignment
):
    """A .OTTER_LOG that otter would unpickle, a fake engine and a fake plugin, submitted
    with the notebook in one zip: none is used."""
    marker = tmp_path / "otter-log-was-unpickled"
    archive = tmp_path / "submission.zip"
    archive.write_bytes(submission_zip(project, assignment, marker))
    results, _ = otter_run(built[assignment].autograder_zip, archive, tmp_path / "out")
    assert not marker.exists()
    assert scores(results) == blank_scores[assignment]
    assert "fake" not in all_text(results)


def test_public_tests_still_report_to_students(built, project, tmp_path):
    """The public tests run (sandboxed) and say what fails, as grader.check does."""
    correct, _ = otter_run(
        built["sgd_batch_size"].autograder_zip,
        _write(correct_notebook(project, "sgd_batch_size"), tmp_path / "correct.ipynb"),
        tmp_path / "correct",
    )
    blank, _ = otter_run(
        built["sgd_batch_size"].autograder_zip,
        project.template("sgd_batch_size"),
        tmp_path / "blank",
    )
    public = {r["name"]: r for r in correct["tests"]}["Public Tests"]
    assert public["status"] == "passed" and public["visibility"] == "visible"
    public = {r["name"]: r for r in blank["tests"]}["Public Tests"]
    assert public["status"] == "failed"
    assert "predict doit accepter un tableau" in public["output"]


def _write(notebook: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(notebook, path)
    return path


# --- otter's container, emulated: bubblewrap cannot run, the submission runs as nobody ---

CONTAINER = "dlgrade-container-"


def _world_reachable(path: Path) -> bool:
    """Whether any user may read ``path`` (every folder above it traversable by others)."""
    path = path.resolve()
    for folder in path.parents:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)


def _container_python(tmp: Path) -> Path | None:
    """A Python without dlgrade installed, as in otter's image, that nobody can run: a
    virtual environment over a system interpreter, seeing this one's packages."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for base in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        probe = subprocess.run(
            [base, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
            capture_output=True, text=True, check=False,
        ) if Path(base).is_file() else None  # fmt: skip
        if probe is None or probe.returncode or not _world_reachable(Path(probe.stdout.strip())):
            continue
        environment = tmp / "python"
        created = subprocess.run(
            [base, "-m", "venv", "--without-pip", str(environment)], check=False
        )
        if created.returncode:
            continue
        site = next((environment / "lib").glob("python*/site-packages"))
        paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        (site / "host-packages.pth").write_text("\n".join(sorted(paths)) + "\n")
        return environment / "bin" / "python"
    return None


@pytest.fixture(scope="module")
def container(tmp_path_factory, project) -> dict[str, Path]:
    if os.geteuid() != 0:
        pytest.skip("the container's fallback drops privileges: needs root")
    copies = [*Path("/tmp").glob("*/solutions/*.py"), *Path("/tmp").glob("*/*/solutions/*.py")]
    if any(_world_reachable(copy) for copy in copies):
        # The emulated container shares this machine's files: a copy of the project under
        # /tmp (this checkout, or another) is where the attacks look, and the user nobody
        # can read it. A real container holds no copy besides the zip's locked one.
        pytest.skip("a copy of the project under /tmp is readable by nobody: not a container")
    tmp = tmp_path_factory.mktemp("container")
    python = _container_python(tmp)
    packages = Path(sysconfig.get_paths()["purelib"]) / "numpy" / "__init__.py"
    if python is None or not _world_reachable(packages):
        pytest.skip("no Python here that the user nobody can run")
    broken = tmp / "bin"
    broken.mkdir()
    (broken / "bwrap").write_text("#!/bin/sh\necho 'bwrap: Operation not permitted' >&2\nexit 1\n")
    (broken / "bwrap").chmod(0o755)
    return {"python": python, "bin": broken}


NO_CGROUPS = [
    "unshare", "--mount", "--propagation", "private", "sh", "-c",
    'mount -t tmpfs none /sys/fs/cgroup && exec "$@"', "sh",
]  # fmt: skip
"""Docker gives a container no cgroup it may create children in: hide them all."""


def _without_cgroups() -> list[str]:
    works = (
        shutil.which("unshare")
        and not subprocess.run([*NO_CGROUPS, "true"], check=False).returncode
    )
    return NO_CGROUPS if works else []


def container_run(
    container: dict[str, Path], zip_path: Path, submission: Path, where: Path
) -> tuple[dict[str, Any], str, Path]:
    """Grade as otter's image does: the zip in <dir>/autograder/source, world-readable as
    ADD leaves it, ``run_otter.py`` started as root, a ``bwrap`` that cannot work."""
    root = Path(f"/tmp/{CONTAINER}{uuid.uuid4().hex}")  # not under pytest's private tmp
    autograder = root / "autograder"
    try:
        for name in ("source", "submission", "results"):
            (autograder / name).mkdir(parents=True)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(autograder / "source")
        if submission.suffix == ".zip":
            with zipfile.ZipFile(submission) as archive:
                archive.extractall(autograder / "submission")
        else:
            shutil.copy(submission, autograder / "submission")
        (autograder / "submission_metadata.json").write_text("{}")
        script = autograder / "source" / "run_otter.py"
        script.write_text(script.read_text().replace("/autograder", str(autograder)))
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        environment = {"PATH": f"{container['bin']}:{os.environ['PATH']}", "LANG": "C.UTF-8"}
        finished = subprocess.run(
            [*_without_cgroups(), str(container["python"]), str(script)], capture_output=True, text=True,
            cwd=autograder, env=environment, timeout=600, check=False,
        )  # fmt: skip
        mode = stat.S_IMODE(autograder.stat().st_mode)
        results = json.loads((autograder / "results" / "results.json").read_text())
        where.mkdir(parents=True, exist_ok=True)
        (where / "results.json").write_text(json.dumps(results))
        return results, finished.stdout + finished.stderr, Path(oct(mode))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_container_fallback_grades_the_reference_as_nobody(built, project, container, tmp_path):
    notebook = _write(correct_notebook(project, "backprop_miniconv"), tmp_path / "b.ipynb")
    zip_path = built["backprop_miniconv"].autograder_zip
    results, printed, mode = container_run(container, zip_path, notebook, tmp_path / "out")
    assert "isolation unprivileged-user" in printed, printed[-3000:]
    assert str(mode) == "0o700"  # the autograder folder was locked before the submission ran
    from autograder.assignment import load_assignment

    questions = {q.name: q.points for q in load_assignment("backprop_miniconv").autograded}
    assert scores(results) == questions


@pytest.mark.parametrize("kind", KINDS)
def test_container_fallback_attacks_score_zero(built, project, container, tmp_path, kind):
    notebook = _write(attack_notebook(project, "sgd_batch_size", kind), tmp_path / "a.ipynb")
    zip_path = built["sgd_batch_size"].autograder_zip
    results, printed, _ = container_run(container, zip_path, notebook, tmp_path / "out")
    assert "isolation unprivileged-user" in printed, printed[-3000:]
    assert set(scores(results).values()) == {0}
    assert leaked(project, "sgd_batch_size", all_text(results), printed) == []
    # the container's own files; this machine's /tmp is no part of otter's image
    assert readable_secrets(all_text(results), ("./", "../", "/autograder", CONTAINER)) == []


def test_container_fallback_leaves_no_daemon(built, project, container, tmp_path):
    """A daemon that leaves its process group is killed before otter starts its kernel
    and its (unpickling) logging server, even with no cgroup to kill it with."""
    marker = Path(f"/tmp/dlgrade-daemon-{uuid.uuid4().hex}")
    notebook = nbformat.read(project.template("sgd_batch_size"), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_DAEMON.format(marker=str(marker))))
    path = _write(notebook, tmp_path / "daemon.ipynb")
    try:
        _, printed, _ = container_run(
            container, built["sgd_batch_size"].autograder_zip, path, tmp_path / "out"
        )
        assert "isolation unprivileged-user" in printed, printed[-3000:]
        assert marker.exists(), "the daemon never started: the test proves nothing"
        pid = int(marker.read_text())
        time.sleep(0.5)
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
    finally:
        marker.unlink(missing_ok=True)


_DAEMON = """\
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open({marker!r}, "w") as handle:
            handle.write(str(os.getpid()))
        time.sleep(300)
    os._exit(0)
time.sleep(0.5)
"""


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_the_reaper_kills_a_daemon_that_left_its_group(tmp_path):
    """Without namespaces or cgroups, only the subreaper keeps a setsid daemon in reach."""
    marker = tmp_path / "daemon.pid"
    script = (
        "import os, subprocess, sys, time\n"
        "from autograder.reaper import become_subreaper, descendants, kill_descendants\n"
        "assert become_subreaper()\n"
        f"code = {_DAEMON.format(marker=str(marker))!r}\n"
        "subprocess.run([sys.executable, '-c', code], check=True)\n"
        f"while not os.path.exists({str(marker)!r}): time.sleep(0.01)\n"
        f"daemon = int(open({str(marker)!r}).read())\n"
        "assert daemon in descendants(os.getpid()), 'the orphan was not adopted'\n"
        "kill_descendants()\n"
        "assert not os.path.exists(f'/proc/{daemon}'), 'the daemon survived'\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parent.parent, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
