"""Hostile submissions: none scores above a blank, none stops the run, none touches another."""

from __future__ import annotations

import socket
import subprocess
import threading

import nbformat
import pytest

from autograder.sandbox import Limits, bubblewrap

from .conftest import correct_notebook, grade_notebooks, notebook_with

BLANKS = """
def forward(W, x):
    ...
def loss(y, y_hat):
    ...
def backward(W, x, y):
    ...
def should_stop(losses, max_iter, tol):
    ...
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    ...
"""


def hostile_cases(project, out_folder, port) -> dict[str, list[str]]:
    solutions = project.root / "solutions" / "backprop_miniconv.py"
    return {
        "loops": ["while True:\n    pass"],
        "sleeps_in_c": ["import time\ntime.sleep(3600)"],
        "swallows_interruptions": [
            "while True:\n    try:\n        while True:\n            pass\n"
            "    except BaseException:\n        pass"
        ],
        "eats_memory": ["import numpy as np\nhog = np.ones(10**10)", BLANKS],
        "fork_bomb": [
            "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        break",
            BLANKS,
        ],
        "exits": ["import sys\nsys.exit(0)", BLANKS],
        "os_exit": ["import os\nos._exit(1)"],
        "prints_gigabytes": [
            "import sys\nline = 'x' * 10**6\nwhile True:\n    sys.stdout.write(line)",
            BLANKS,
        ],
        "deletes_files": [
            "import os, shutil\nos.system('rm -rf / --no-preserve-root 2>/dev/null')\n"
            f"shutil.rmtree({str(project.root)!r}, ignore_errors=True)",
            BLANKS,
        ],
        "patches_numpy": [
            "import numpy as np, builtins\nnp.allclose = lambda *a, **k: True\n"
            "np.isclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
            "np.array_equal = lambda *a, **k: True\nbuiltins.float = lambda *a: 1.0",
            BLANKS,
        ],
        "lying_objects": [
            "class Liar(float):\n    def __eq__(self, other):\n        return True\n    __hash__ = float.__hash__\n"
            "    def __float__(self):\n        return 0.123\n"
            "class Yes:\n    def __eq__(self, other):\n        return True\n    def __array__(self, *a, **k):\n        raise TypeError\n"
            "def forward(W, x):\n    return Liar(0.0), {'a1': Yes(), 'a2': Yes(), 'o1': Yes(), 'o2': Yes()}\n"
            "def loss(y, y_hat):\n    return Liar(0.0)\n"
            "def backward(W, x, y):\n    return [Yes(), Yes(), Yes(), Yes()]\n"
            "def should_stop(losses, max_iter, tol):\n    return Yes()\n"
            "def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):\n    return Yes(), Yes()",
        ],
        "reads_secrets": [
            "import glob, os\nfound = []\n"
            f"for path in [{str(solutions)!r}] + glob.glob('/*/solutions/*.py') + glob.glob('/*/*/solutions/*.py') + glob.glob('/opt/*/*'):\n"
            "    try:\n        found.append(open(path).read())\n    except OSError as e:\n        found.append(str(e))\n"
            "print(found)\nimport solutions.backprop_miniconv as s\n"
            "forward, loss, backward = s.forward, s.loss, s.backward",
            "from autograder.checks import reference_answers",
            BLANKS,
        ],
        "fakes_results": [
            f"import json, os\nos.makedirs({str(out_folder / 'results')!r}, exist_ok=True)\n"
            f"open({str(out_folder / 'grades.csv')!r}, 'w').write('student_id,score\\nfakes_results,999\\n')\n"
            "json.dump({'score': 999}, open('results.json', 'w'))\n"
            'print(\'{"answers": "{}", "cell_errors": []}\')',
            BLANKS,
        ],
        "reads_environment": ["import os\nprint(dict(os.environ))", BLANKS],
        "opens_sockets": [
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'stolen')",
            BLANKS,
        ],
        "fills_the_disk": [
            "import os\nfor i in range(200):\n    with open(f'fill{i}', 'wb') as f:\n"
            "        f.write(b'x' * 512 * 1024)",
            "import os\nwith open('big', 'wb') as f:\n    f.write(b'x' * 200 * 1024 * 1024)",
            BLANKS,
        ],
        "leaves_a_daemon": [
            "import os\nif os.fork() == 0:\n    os.setsid()\n    os.execv('/bin/sleep', ['sleep', '4242'])",
            BLANKS,
        ],
    }


@pytest.fixture(scope="module")
def hostile_run(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    received = []

    def accept():
        while listener.fileno() != -1:
            try:
                connection, _ = listener.accept()
                received.append(connection.recv(100))
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    import os

    os.environ["DLGRADE_TEST_SECRET"] = "s3cret-value"
    notebooks = {
        name: notebook_with(cells)
        for name, cells in hostile_cases(project, folder / "out", listener.getsockname()[1]).items()
    }
    notebooks["honest"] = correct_notebook(project, "backprop_miniconv")
    notebooks["blank"] = nbformat.read(project.template("backprop_miniconv"), as_version=4)
    limits = Limits(wall_seconds=6, cpu_seconds=4, memory_bytes=1024**3, output_bytes=1024**2)
    run, results = grade_notebooks("backprop_miniconv", notebooks, folder, limits=limits)
    del os.environ["DLGRADE_TEST_SECRET"]
    listener.close()
    return run, results, received


HOSTILE = [
    "loops", "sleeps_in_c", "swallows_interruptions", "eats_memory", "fork_bomb", "exits", "os_exit", "prints_gigabytes",
    "deletes_files", "patches_numpy", "lying_objects", "reads_secrets", "fakes_results",
    "reads_environment", "opens_sockets", "fills_the_disk", "leaves_a_daemon",
]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_never_beats_a_blank(hostile_run, name):
    _, results, _ = hostile_run
    assert results[name].score <= results["blank"].score == 0


def test_the_run_completes_and_honest_work_is_untouched(hostile_run, project, tmp_path):
    run, results, _ = hostile_run
    assert set(results) == {*HOSTILE, "honest", "blank"}
    honest = results["honest"]
    assert honest.score == honest.max_score and honest.status == "graded"
    _, alone = grade_notebooks(
        "backprop_miniconv", {"honest": correct_notebook(project, "backprop_miniconv")}, tmp_path
    )
    assert [t.score for t in alone["honest"].tests] == [t.score for t in honest.tests]
    assert (project.root / "solutions" / "backprop_miniconv.py").exists()
    grades = (run.out / "grades.csv").read_text()
    assert "999" not in grades


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("loops", "graded", "TimeoutError"),  # interrupted, the rest graded
        ("sleeps_in_c", "graded", "TimeoutError"),
        ("swallows_interruptions", "timeout", "limite de temps"),
        ("eats_memory", "memory", "limite de mémoire"),
        ("os_exit", "graded", "arrêté net dans cette cellule"),  # its only cell, left out
        ("exits", "graded", "SystemExit"),
        ("prints_gigabytes", "graded", "TimeoutError"),  # printing never fails, as in Jupyter
        ("fills_the_disk", "graded", "No space left on device"),
    ],
)
def test_each_incident_gets_its_status_and_message(hostile_run, name, status, words):
    _, results, _ = hostile_run
    assert results[name].status == status
    assert words in results[name].message


@pytest.mark.skipif(bubblewrap() is None, reason="needs the bubblewrap sandbox")
def test_isolation_holds(hostile_run):
    _, results, received = hostile_run
    assert received == [], "a submission reached the grader's machine over the network"
    assert "s3cret-value" not in results["reads_environment"].output
    secrets = results["reads_secrets"]
    assert "def backward" not in secrets.output and "reference" not in secrets.output
    assert "No such file" in secrets.output or "Permission denied" in secrets.output
    assert len(results["prints_gigabytes"].output) <= 4096
    daemons = subprocess.run(["pgrep", "-f", "sleep 4242"], capture_output=True, text=True)
    assert daemons.stdout.strip() == ""
    assert all(r.isolation == "bubblewrap" for r in results.values())
