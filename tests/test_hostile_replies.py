"""Every byte out of the sandbox is untrusted: forged, malformed, huge or slow replies.

The attacks write in the result file the child inherits (the anonymous file named
``result`` in /proc/self/fd),
return absurd values, or hog resources with several processes. Each attacker scores no
more than a blank; the honest students graded before and after it, by the same single
worker, keep exactly the grade they get alone; the run ends with every one recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from autograder.gradebook import Gradebook
from autograder.sandbox import Limits, Sandbox, bubblewrap

from .conftest import correct_notebook, grade_notebooks, notebook_with

PIPE = (
    "import os\n"
    "def named(fd, name):\n"
    "    try:\n"
    "        return name in os.readlink(f'/proc/self/fd/{fd}')\n"
    "    except OSError:\n"
    "        return False\n"
    "pipe = next(int(f) for f in os.listdir('/proc/self/fd') if named(f, 'result'))\n"
    "def send(data):\n"
    "    view = memoryview(data)\n"
    "    while view:\n"
    "        view = view[os.write(pipe, view):]\n"
)


def forged(line: str) -> list[str]:
    """Write ``line`` as the final result, then leave before the plan runs."""
    return [PIPE + f"send({line!r}.encode() + b'\\n')\nos._exit(0)"]


ATTACKS: dict[str, list[str]] = {
    "missing_keys": forged('{"cell_errors": []}'),
    "number_for_string": forged('{"answers": 5, "cell_errors": []}'),
    "cell_errors_not_a_list": forged('{"answers": "{}", "cell_errors": 5}'),
    "cell_errors_wrong_items": forged('{"answers": "{}", "cell_errors": [5, {"cell": "x"}]}'),
    "answers_missing_calls": forged('{"answers": "{}", "cell_errors": []}'),
    "answers_nested_json": forged('{"answers": "' + "[" * 100_000 + '", "cell_errors": []}'),
    "reply_nested": forged("[" * 200_000),
    "answers_not_json": forged('{"answers": "not json", "cell_errors": []}'),
    "tiny_lines": [PIPE + "send(b'x\\n' * (32 << 20))"],
    "fake_cell_errors": [
        PIPE
        + "import json\n"
        + "errors = [{'cell': i, 'error': 'E' * 100} for i in range(100_000)]\n"
        + "send(json.dumps({'answers': '{}', 'cell_errors': errors}).encode() + b'\\n')\n"
        + "os._exit(0)"
    ],
    "deep_return_value": [
        "def deep(*args, **kwargs):\n"
        "    value = []\n"
        "    for _ in range(700):\n"
        "        value = [value]\n"
        "    return value\n"
        "forward = loss = backward = should_stop = train = deep"
    ],
    "holds_the_pipe": [
        PIPE + "import subprocess\n"
        "subprocess.Popen(['sleep', '30'], pass_fds=[pipe], start_new_session=True)"
    ],
    "three_processes_hog_memory": [
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        hog = bytearray(600 * 2**20)\n"
        "        time.sleep(20)\n"
        "        os._exit(0)\n"
        "time.sleep(20)"
    ],
    "shared_memory_segment": [
        "import ctypes\nlibc = ctypes.CDLL(None)\n"
        "for key in range(1, 50):\n"
        "    libc.shmget(key, 1 << 20, 0o1666)"
    ],
}
LIMITS = Limits(wall_seconds=8, cpu_seconds=8, memory_bytes=1024**3)


@pytest.fixture(scope="module")
def attacked_run(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("attacks")
    honest = correct_notebook(project, "backprop_miniconv")
    notebooks = {f"m_{name}": notebook_with(cells) for name, cells in ATTACKS.items()}
    notebooks["a_honest"] = honest
    notebooks["z_honest"] = honest
    notebooks["blank"] = nbformat.read(project.template("backprop_miniconv"), as_version=4)
    run, results = grade_notebooks("backprop_miniconv", notebooks, folder, workers=1, limits=LIMITS)
    return run, results, folder


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_an_attack_earns_no_more_than_a_blank(attacked_run, name):
    _, results, _ = attacked_run
    assert results["blank"].score == 0
    assert results[f"m_{name}"].score <= results["blank"].score
    assert "Traceback" not in (results[f"m_{name}"].incident or "")


def test_every_submission_is_recorded_and_honest_grades_are_untouched(attacked_run):
    run, results, _ = attacked_run
    assert len(results) == len(ATTACKS) + 3
    honest = [results["a_honest"], results["z_honest"]]
    assert all(r.score == r.max_score and r.status == "graded" for r in honest)
    gradebook = Gradebook.in_folder(run.out)
    assert len(gradebook.submissions("backprop_miniconv")) == len(results)
    gradebook.close()


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("missing_keys", "graded", "arrêté net dans cette cellule"),  # the cell is left out
        ("number_for_string", "error", "invalide"),
        ("cell_errors_not_a_list", "error", "invalide"),
        ("answers_missing_calls", "error", "invalide"),
        ("answers_nested_json", "error", "invalide"),
        ("tiny_lines", "error", "interrompu"),
        ("three_processes_hog_memory", "memory", "mémoire"),
    ],
)
def test_each_attack_gets_a_clear_status(attacked_run, name, status, words):
    _, results, _ = attacked_run
    result = results[f"m_{name}"]
    assert result.status == status and words in result.message, result.message


def test_fake_cell_errors_are_counted_and_cut(attacked_run):
    _, results, _ = attacked_run
    result = results["m_fake_cell_errors"]
    assert len(result.cell_errors) <= 20
    assert len(json.dumps(result.to_json())) < 100_000


def test_later_commands_work_on_the_attacked_class(attacked_run, tmp_path):
    run, _, _ = attacked_run
    for command in (["feedback", "--graded", str(run.out)], ["report", "--graded", str(run.out)]):
        finished = subprocess.run(
            [sys.executable, "-m", "autograder", *command], capture_output=True, text=True
        )
        assert finished.returncode == 0, finished.stderr
        assert "Traceback" not in finished.stderr


def test_a_rerun_neither_crashes_nor_grades_again(attacked_run):
    _, _, folder = attacked_run
    _, again = grade_notebooks("backprop_miniconv", {}, folder, workers=1, limits=LIMITS)
    assert again == {}


@pytest.mark.skipif(bubblewrap() is None, reason="needs the bubblewrap sandbox")
@pytest.mark.parametrize("folder", [".", "/tmp", "/dev/shm"])
def test_files_and_inodes_are_capped_per_submission(folder):
    """In the working folder and in the folders every submission may write in, many
    empty files fill the disk as surely as one large one; the next submission starts
    from empty."""
    fill = (
        "import os\ncount = 0\n"
        "try:\n"
        "    while True:\n"
        f"        open(f'{folder}/f{{count}}', 'w').close()\n"
        "        count += 1\n"
        "except OSError as error:\n"
        "    print(count, type(error).__name__)"
    )
    with Sandbox(Limits(wall_seconds=20, cpu_seconds=20, disk_bytes=16 * 2**20)) as sandbox:
        first = sandbox.run([fill])
        second = sandbox.run([fill])
    count, error = first["output"].split()
    assert error == "OSError" and 0 < int(count) < 5000
    assert second["output"] == first["output"]  # the next submission starts from empty


SURROGATES = {
    # A lone UTF-16 surrogate is a valid JSON escape but no text: no file, database or page
    # takes one. Each of these once stopped the whole class run before anything was stored.
    "raises_in_a_cell": ['raise ValueError("\\udcff")'],
    "raises_in_a_call": ["def forward(W, x):\n    raise ValueError('\\ud800' * 3)"],
    "returns_one": ["def should_stop(losses, max_iter, tol):\n    return {'\\udcff': '\\ud800'}"],
    "prints_one": ["import sys\nprint('\\udcff', file=sys.stderr)\nprint('\\ud800')"],
}


def test_lone_surrogates_from_a_submission_stop_nothing(project, tmp_path):
    notebooks: dict[str, nbformat.NotebookNode | bytes] = {
        name: _with_correct_cells(project, cells) for name, cells in SURROGATES.items()
    }
    source = correct_notebook(project, "backprop_miniconv")
    source.cells.append(nbformat.v4.new_code_cell("x = 1  # \udcff\nraise KeyError('\udcff')"))
    notebooks["in_its_source"] = json.dumps(source).encode()  # the file holds "\udcff"
    notebooks["honest"] = correct_notebook(project, "backprop_miniconv")
    run, results = grade_notebooks("backprop_miniconv", notebooks, tmp_path)
    assert set(results) == set(notebooks)
    assert results["honest"].score == results["honest"].max_score
    assert results["raises_in_a_cell"].score == results["honest"].score
    assert "\\udcff" in results["raises_in_a_cell"].message
    assert "\\udcff" in results["in_its_source"].message
    stored = (run.out / "grades.csv").read_text(encoding="utf-8")
    assert all(name in stored for name in notebooks)
    for command in (["feedback", "--graded", str(run.out)], ["report", "--graded", str(run.out)]):
        finished = subprocess.run(
            [sys.executable, "-m", "autograder", *command], capture_output=True, text=True
        )
        assert finished.returncode == 0, finished.stderr
    page = next((run.out / "feedback").glob("raises_in_a_call*.md")).read_text(encoding="utf-8")
    assert "\\ud800" in page


def _with_correct_cells(project, cells: list[str]) -> nbformat.NotebookNode:
    notebook = correct_notebook(project, "backprop_miniconv")
    notebook.cells += [nbformat.v4.new_code_cell(cell) for cell in cells]
    return notebook


def test_a_result_that_cannot_be_stored_costs_only_its_student(project, tmp_path, monkeypatch):
    """Whatever makes one result unstorable (a file the folder refuses, a row the database
    refuses), the class run stores it as an internal error and goes on."""
    from autograder import class_run

    write = class_run.write_result

    def refusing(out, result):
        if result.student_id == "victim" and result.status != "error":
            raise OSError("cannot write this result")
        return write(out, result)

    monkeypatch.setattr(class_run, "write_result", refusing)
    notebooks = {name: correct_notebook(project, "backprop_miniconv") for name in ("a", "victim")}
    run, _ = grade_notebooks("backprop_miniconv", notebooks, tmp_path, workers=1)
    grades = (run.out / "grades.csv").read_text()
    assert "victim" in grades and ",error" in grades and ",graded" in grades
    stored = json.loads(next((run.out / "results").glob("victim*.json")).read_text())
    assert stored["status"] == "error" and "internal" in json.dumps(stored).lower()
