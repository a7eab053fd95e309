"""The class grader on the sample class, independent submissions, LMS archives and re-runs."""

from __future__ import annotations

import csv
import hashlib
import json
import signal
import subprocess
import sys
import time
import zipfile

import nbformat
import pytest

from autograder import grader as grader_module
from autograder.class_run import grade_class
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.judging import code, judge
from autograder.messages import from_data, render
from autograder.pages import write_report
from autograder.results import SUMMARY
from autograder.sample_class import write_sample_class

from .conftest import (
    ASSIGNMENTS,
    FAST_LIMITS,
    correct_notebook,
    grade_notebooks,
    load_result,
    notebook_with,
)
from .independent import INDEPENDENT
from .test_gaming_common import verdicts, with_reference


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def sample_run(request, project, tmp_path_factory):
    assignment = request.param
    folder = tmp_path_factory.mktemp(assignment)
    students = write_sample_class(folder / "class", assignment, project, size=26)
    run = grade_class(assignment, [folder / "class"], folder / "out",
                      Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    return assignment, students, run


def test_sample_class_scores(sample_run):
    assignment, students, run = sample_run
    results = {r.student_id: r for r in run.graded}
    mutations = {m.mistake: m for m in code(assignment).samples}
    for student in students:
        result = results[student.student_id]
        failed = {t.name: t.misconception for t in result.tests if not t.passed}
        if student.kind == "correct":
            assert result.score == result.max_score and result.status == "graded"
        elif student.kind in mutations:
            mutation = mutations[student.kind]
            assert set(failed) == set(mutation.affected_checks), student.kind
            named = {check for check, named in failed.items() if named == student.kind}
            assert named, f"{student.kind} is never named"
        elif student.kind == "blank":
            assert result.score == 0 and result.status == "graded"
        elif student.kind == "not_json":
            assert result.status == "invalid" and "JSON" in result.message
        elif student.kind == "exits":  # its first cell ends the process: left out
            assert result.status == "graded" and result.score == result.max_score
            assert "cellule 1 « import os », exit 0" in result.message
        elif student.kind == "syntax_error":
            assert "SyntaxError" in result.message and result.score < result.max_score


def test_grades_csv_and_results_files(sample_run):
    _, students, run = sample_run
    with open(run.out / "grades.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == len(students)
    questions = [
        q for q in rows[0] if q not in ("student_id", "assignment", "score", "max_score", "status")
    ]
    assert questions and set(rows[0]) >= {
        "student_id",
        "assignment",
        "score",
        "max_score",
        "status",
    }
    for row in rows:
        assert row["status"] in {"graded", "error", "timeout", "memory", "invalid"}
        given = [float(row[q]) for q in questions if row[q]]  # by hand: empty until given
        assert float(row["score"]) == pytest.approx(sum(given))
        result = load_result(run.out, row["student_id"])
        assert set(result["tests"][0]) >= {
            "name", "question", "score", "max_score", "passed", "feedback", "misconception"
        }  # fmt: skip
        assert result["submission_hash"] and result["autograder_hash"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_independent_submissions_get_full_marks(assignment, tmp_path):
    notebook = notebook_with(INDEPENDENT[assignment])
    _, results = grade_notebooks(assignment, {"independent": notebook}, tmp_path)
    result = results["independent"]
    failed = {t.name: t.feedback for t in result.tests if not t.passed}
    assert failed == {} and result.score == result.max_score


def test_feedback_in_english(project, tmp_path):
    mutation = code("backprop_miniconv").samples[1]

    notebook = correct_notebook(project, "backprop_miniconv", mutation)
    _, results = grade_notebooks("backprop_miniconv", {"s1": notebook}, tmp_path, lang="en")
    feedback = next(t.feedback for t in results["s1"].tests if t.misconception == "error_sign")
    assert "expected" in feedback and "Known mistake (error_sign)" in feedback


def test_rerun_skips_graded_work_and_regrade_replaces_it(project, tmp_path):
    class_folder = tmp_path / "class"
    write_sample_class(class_folder, "sgd_batch_size", project, size=6)
    settings = Settings(workers=2, limits=FAST_LIMITS)
    first = grade_class("sgd_batch_size", [class_folder], tmp_path / "out", settings)
    again = grade_class("sgd_batch_size", [class_folder], tmp_path / "out", settings)
    assert len(first.graded) == 6 and len(again.graded) == 0 and again.skipped == 6
    regraded = grade_class("sgd_batch_size", [class_folder], tmp_path / "out",
                           Settings(workers=2, limits=FAST_LIMITS, regrade=True))  # fmt: skip
    assert len(regraded.graded) == 6
    gradebook = Gradebook.in_folder(tmp_path / "out")
    rows = gradebook.submissions("sgd_batch_size")
    assert len(rows) == 6 and rows["student_id"].is_unique
    assert len(gradebook.checks(rows["id"])) == 6 * 7


def test_a_class_summary_is_each_students_latest_result_without_its_details(project, tmp_path):
    class_folder = tmp_path / "class"
    students = write_sample_class(class_folder, "sgd_batch_size", project, size=4)
    settings = Settings(workers=2, limits=FAST_LIMITS)
    grade_class("sgd_batch_size", [class_folder], tmp_path / "out", settings)
    changed = students[0].path
    notebook = nbformat.read(changed, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("resubmitted = True"))
    nbformat.write(notebook, changed)
    grade_class("sgd_batch_size", [class_folder], tmp_path / "out", settings)
    gradebook = Gradebook.in_folder(tmp_path / "out")
    assert len(gradebook.submissions("sgd_batch_size")) == 5  # two gradings of one student
    full = gradebook.latest_results("sgd_batch_size")
    summaries = gradebook.latest_results("sgd_batch_size", detail=False)
    assert [r["student_id"] for r in full] == sorted(s.student_id for s in students)
    assert summaries == [{k: r.get(k) for k in SUMMARY} for r in full]
    assert all(r["tests"] for r in full) and not any("tests" in r for r in summaries)
    latest_hash = next(r for r in full if r["student_id"] == students[0].student_id)
    assert latest_hash["submission_hash"] == hashlib.sha256(changed.read_bytes()).hexdigest()


def test_a_run_that_keeps_no_results_stores_the_same_and_counts_mistakes_per_student(
    project, tmp_path
):
    class_folder = tmp_path / "class"
    write_sample_class(class_folder, "sgd_batch_size", project, size=12)
    settings = Settings(workers=2, limits=FAST_LIMITS, seed=5)
    kept = grade_class("sgd_batch_size", [class_folder], tmp_path / "kept", settings)
    streamed = grade_class("sgd_batch_size", [class_folder], tmp_path / "streamed", settings,
                           keep_results=False)  # fmt: skip
    assert streamed.graded == [] and streamed.graded_count == len(kept.graded) == 12
    assert streamed.grades.equals(kept.grades)
    per_student = {}
    for result in kept.graded:
        for mistake in {t.misconception for t in result.tests if t.misconception}:
            per_student[mistake] = per_student.get(mistake, 0) + 1
    assert per_student and streamed.mistakes == kept.mistakes == per_student
    for result in kept.graded:
        assert load_result(tmp_path / "streamed", result.student_id) == load_result(
            tmp_path / "kept", result.student_id
        )


def test_a_killed_run_resumes_without_loss_or_duplicates(project, tmp_path):
    class_folder = tmp_path / "class"
    write_sample_class(class_folder, "mlp_softmax", project, size=24)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", "mlp_softmax", str(class_folder),
               "--out", str(out), "--workers", "1"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = list((out / "results").glob("*.json")) if (out / "results").exists() else []
        if len(done) >= 5:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = len(Gradebook.in_folder(out).submissions("mlp_softmax"))
    assert 0 < partial < 24
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    rows = Gradebook.in_folder(out).submissions("mlp_softmax")
    assert len(rows) == 24 and rows["student_id"].is_unique


def test_lms_archives_give_identities(project, tmp_path):

    content = nbformat.writes(correct_notebook(project, "sgd_batch_size")).encode()
    canvas = tmp_path / "canvas.zip"
    with zipfile.ZipFile(canvas, "w") as archive:
        archive.writestr("dupontjean_12345_998877_sgd_batch_size.ipynb", content)
        archive.writestr("martinlea_late_23456_998878_sgd_batch_size.ipynb", content)
        archive.writestr("../../evil/escape.ipynb", content)
    moodle = tmp_path / "moodle.zip"
    with zipfile.ZipFile(moodle, "w") as archive:
        archive.writestr("Jean Petit_4321_assignsubmission_file_/tp.ipynb", content)
    run = grade_class("sgd_batch_size", [canvas, moodle], tmp_path / "out",
                      Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    ids = {r.student_id: r for r in run.graded}
    assert {"12345", "23456", "4321"} == set(ids)  # '../../evil/...' is refused, not graded
    assert any("outside the archive" in p.message for p in run.problems)
    assert (
        ids["12345"].student_name == "dupontjean" and ids["12345"].score == ids["12345"].max_score
    )
    assert not (tmp_path.parent / "evil").exists()


def test_bad_inputs_are_reported_with_their_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.zip").write_bytes(b"PK not really a zip")
    run = grade_class("sgd_batch_size", [tmp_path / "notes.txt", tmp_path / "broken.zip",
                                         tmp_path / "missing.ipynb"], tmp_path / "out",
                      Settings(workers=1, limits=FAST_LIMITS))  # fmt: skip
    messages = {p.origin: p.message for p in run.problems}
    assert "not a notebook" in messages[str(tmp_path / "notes.txt")]
    assert "unreadable zip" in messages[str(tmp_path / "broken.zip")]
    assert "no such file" in messages[str(tmp_path / "missing.ipynb")]


def test_cli_grade_writes_everything(project, tmp_path):
    write_sample_class(tmp_path / "class", "sgd_batch_size", project, size=4)
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "sgd_batch_size", str(tmp_path / "class"),
         "--out", str(tmp_path / "out"), "--workers", "2", "--lang", "en"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "graded" in result.stderr and (tmp_path / "out" / "gradebook.sqlite").exists()
    grades = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert len(grades) == 5
    assert json.loads((tmp_path / "out" / "results" / "sgd001.json").read_text())["status"]


def test_every_invalid_notebook_is_named_with_its_reason(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "empty.ipynb").write_bytes(b"")
    (folder / "latin.ipynb").write_bytes("{ 'é': ".encode("latin-1"))
    run = grade_class("sgd_batch_size", [folder], tmp_path / "out",
                      Settings(workers=1, limits=FAST_LIMITS), keep_results=False)  # fmt: skip
    named = {problem.origin: problem.message for problem in run.problems}
    assert set(named) == {str(folder / "empty.ipynb"), str(folder / "latin.ipynb")}
    assert all(message for message in named.values())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_check_is_judged_once_per_submission(assignment, project, tmp_path, monkeypatch):
    """A training loop that passes with the notebook's own functions is judged before
    the rest (to know whether to run it with the stand-ins): its verdict is kept."""
    judged = []

    def counting(name, check, answers, **options):
        judged.append(check)
        return judge(name, check, answers, **options)

    monkeypatch.setattr("autograder.grader.judge", counting)
    notebook = correct_notebook(project, assignment)
    _, results = grade_notebooks(assignment, {"s": notebook}, tmp_path, workers=1)
    assert results["s"].score == results["s"].max_score
    assert sorted(judged) == sorted(test.name for test in results["s"].tests)


def test_a_judge_that_raises_fails_its_own_check_only(project, tmp_path, monkeypatch):
    """A grader bug on an answer nobody foresaw costs that check, says so, and leaves the
    traceback to the instructor: the other checks are judged, the run goes on."""
    real = grader_module.judge

    def judge(assignment, check_id, answers, **options):
        if check_id == "predict_value":
            raise TypeError("an answer nobody foresaw")
        return real(assignment, check_id, answers, **options)

    monkeypatch.setattr(grader_module, "judge", judge)
    notebook = correct_notebook(project, "sgd_batch_size")
    run, results = grade_notebooks("sgd_batch_size", {"alice": notebook}, tmp_path, workers=1)
    result = results["alice"]
    failed = [t for t in result.tests if not t.passed]
    assert result.status == "graded" and [t.name for t in failed] == ["predict_value"]
    assert result.score == result.max_score - failed[0].max_score
    assert failed[0].feedback.startswith("Ce test n'a pas pu être jugé")
    assert "TypeError: an answer nobody foresaw" in result.incident
    write_report(run.out)  # the class report lists it among the incidents, saying why
    report = (run.out / "report.html").read_text(encoding="utf-8")
    incidents = report.split('id="incidents"')[1].split("</table>")[0]
    assert "alice" in incidents and "Non jugé" in incidents and "predict_value" in incidents


@pytest.mark.parametrize("kind", ["complex(w)", "pd.Series([w])", "{w}", "Fraction(1, 3)"])
def test_an_own_answer_of_any_type_leaves_the_table_judged(kind):
    """sgd_epoch returning what no plain data holds: its checks fail, the table is judged."""
    cell = (
        "import pandas as pd\nfrom fractions import Fraction\n_right = sgd_epoch\n"
        "def sgd_epoch(w0, X, Y, alpha, batch_size):\n"
        "    w, n = _right(w0, X, Y, alpha, batch_size)\n"
        f"    return {kind}, n\n"
        "table = {n_b: sgd_epoch(0.5, SHEET_X, SHEET_Y, 0.1, n_b) for n_b in (1, 2, 4)}\n"
    )
    namespace = with_reference("sgd_batch_size", cell)
    found = verdicts("sgd_batch_size", namespace, 11, ["sgd_epoch_nb1", "sheet_table"])
    assert not any(verdict.passed for verdict in found.values())


def test_cli_grade_names_each_notebook_not_graded_to_the_end(project, tmp_path):
    """error, timeout, memory: one line each, naming the file and what happened."""
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(correct_notebook(project, "sgd_batch_size"), folder / "alice.ipynb")
    # each cell ends the process: past LEFT_OUT_CELLS left out, the notebook ends as it is
    quits = notebook_with(
        ["import os\nos._exit(3)"] * (grader_module.LEFT_OUT_CELLS + 1), "sgd_batch_size"
    )
    nbformat.write(quits, folder / "bob.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "sgd_batch_size", str(folder),
         "--out", str(tmp_path / "out"), "--workers", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())  # rich wraps long lines
    assert f"error {folder / 'bob.ipynb'}: Le notebook a interrompu sa propre exécution" in said
    assert str(folder / "alice.ipynb") not in said


def test_answers_over_the_reply_limit_are_said_too_large_not_an_exit(project, tmp_path):
    """A graded function returning an enormous object: the student reads why nothing was
    graded (not "exit 0"), and a classmate in the same run keeps full marks."""
    huge = correct_notebook(project, "sgd_batch_size")
    huge.cells.append(
        nbformat.v4.new_code_cell(
            "def sgd_epoch(w0, X, Y, alpha, batch_size):\n"
            "    return np.random.rand(999_999), np.random.rand(999_999)\n"
        )
    )
    notebooks = {"alice": correct_notebook(project, "sgd_batch_size"), "bob": huge}
    _, results = grade_notebooks("sgd_batch_size", notebooks, tmp_path)
    assert results["alice"].score == results["alice"].max_score
    assert results["bob"].status == "error"
    assert results["bob"].message.startswith("Ce que renvoient les fonctions notées est trop"), (
        results["bob"].message
    )


CRASH_ON_BATCHES = (
    "import ctypes\n"
    "_batch_gradient = batch_gradient\n"
    "def batch_gradient(w, xb, yb):\n"
    "    if len(xb) > 1:\n"
    "        ctypes.string_at(0)  # a C-level crash, as a stack overflow\n"
    "    return _batch_gradient(w, xb, yb)\n"
)
EXIT_ON_THREE = (
    "import os\n"
    "_predict = predict\n"
    "def predict(w, x):\n"
    "    if np.ndim(x) == 0 and x == 3:\n"
    "        os._exit(3)\n"
    "    return _predict(w, x)\n"
)


def _runs_counted(monkeypatch) -> list:
    """The calls each run of a notebook was told to skip, in the order of the runs."""
    runs = []
    real_run = grader_module.Sandbox._run

    def counted(self, *args, **kwargs):
        runs.append(list(kwargs.get("skip", ())))
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(grader_module.Sandbox, "_run", counted)
    return runs


def test_a_call_that_ends_the_notebook_costs_its_own_points_only(project, tmp_path, monkeypatch):
    """A crash (SIGSEGV) or an ``os._exit`` inside a graded function ends the notebook's
    process. The notebook is run again without that call: the call is answered by what
    ended it, every other call is judged as usual, and a classmate keeps full marks."""
    runs = _runs_counted(monkeypatch)
    crashing = correct_notebook(project, "sgd_batch_size")
    crashing.cells.append(nbformat.v4.new_code_cell(EXIT_ON_THREE))
    notebooks = {"alice": correct_notebook(project, "sgd_batch_size"), "bob": crashing}
    _, results = grade_notebooks("sgd_batch_size", notebooks, tmp_path)
    alice, bob = results["alice"], results["bob"]
    assert alice.score == alice.max_score
    assert bob.status == "graded" and bob.incident is None
    failed = {t.name: t.feedback for t in bob.tests if not t.passed}
    assert list(failed) == ["predict_value"], failed
    assert "exit 3: le notebook s'est arrêté net pendant cet appel" in failed["predict_value"]
    assert bob.score == alice.score - 1
    assert [skip for skip in runs if skip] == [[0]]  # bob's second run, without predict(…, 3)


def test_a_function_that_keeps_ending_the_notebook_is_given_few_runs(
    project, tmp_path, monkeypatch
):
    """Each crash costs one more run of the notebook; after ENDINGS_PER_FUNCTION crashes
    in one function, its other calls are not made, so the runs stay few. The functions
    that do not crash keep their points; the crash is named with what it usually means."""
    runs = _runs_counted(monkeypatch)
    crashing = correct_notebook(project, "sgd_batch_size")
    crashing.cells.append(nbformat.v4.new_code_cell(CRASH_ON_BATCHES))
    _, results = grade_notebooks("sgd_batch_size", {"bob": crashing}, tmp_path)
    bob = results["bob"]
    assert bob.status == "graded"
    assert len(runs) <= 2 * (1 + grader_module.ENDINGS_PER_FUNCTION * 2), runs
    passed = {t.name for t in bob.tests if t.passed}
    assert {"predict_value", "sgd_epoch_nb1", "sgd_epoch_nb4", "sheet_table"} <= passed
    said = " ".join(t.feedback for t in bob.tests if not t.passed)
    assert (
        "signal SIGSEGV: appel non fait : cette fonction a déjà arrêté net le notebook 3 fois"
        in said
    )
    assert "souvent une récursion trop profonde" in said
    assert {t.name for t in bob.tests if not t.passed} == {"batch_gradient_value"}


@pytest.mark.parametrize(
    "ending, cause",
    [
        ("import ctypes\nctypes.string_at(0)", "signal SIGSEGV"),
        ("import os\nos._exit(0)", "exit 0"),
        ("import os\nos.closerange(3, 64)\nprint('fini')", "exit"),
    ],
)
def test_a_cell_that_ends_the_notebook_costs_that_cell_only(project, tmp_path, ending, cause):
    """A last exploration cell that crashes, exits or closes the grader's pipe ended the
    whole notebook: 0 points, no cell named. The notebook now runs again without that
    cell, which is named among the cell errors with what ended it, and keeps its points."""
    notebook = correct_notebook(project, "sgd_batch_size")
    notebook.cells.append(nbformat.v4.new_code_cell(f"# exploration\n{ending}"))
    _, results = grade_notebooks("sgd_batch_size", {"bob": notebook}, tmp_path)
    bob = results["bob"]
    assert bob.status == "graded" and bob.score == bob.max_score, bob.message
    cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    said = bob.message
    assert f"cellule {cells}" in said.lower() and cause in said, said
    assert "le notebook s'est arrêté net dans cette cellule" in said
    english = render(from_data(bob.status_message), "en")
    assert "the notebook stopped dead in this cell" in english


def test_a_call_that_outlasts_every_interruption_is_named_not_the_last_cell(project, tmp_path):
    """A graded function that blocks the interruption and loops: the notebook runs out of
    time during the hidden tests' calls, and the message names the function."""
    stuck = correct_notebook(project, "sgd_batch_size")
    stuck.cells.append(
        nbformat.v4.new_code_cell(
            "import signal\n"
            "def batch_gradient(w, xb, yb):\n"
            "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
            "    while True:\n"
            "        pass\n"
        )
    )
    limits = grader_module.Limits(wall_seconds=3, cpu_seconds=3)
    _, results = grade_notebooks("sgd_batch_size", {"bob": stuck}, tmp_path, limits=limits)
    bob = results["bob"]
    assert bob.status == "timeout"
    assert "pendant un appel de `batch_gradient` par les tests cachés" in bob.message, bob.message


def test_a_run_whose_sandbox_would_not_start_is_graded_again_by_the_next(project, tmp_path,
                                                                         monkeypatch):  # fmt: skip
    """The grader's own failure (a sandbox that cannot start) gives no grade to keep: the
    same command, once the sandbox works, grades those notebooks instead of skipping them
    as already graded."""
    notebooks = {"alice": correct_notebook(project, "sgd_batch_size")}

    def broken(self, *args, **kwargs):
        raise grader_module.SandboxError("bwrap: setting up uid map: Permission denied")

    with monkeypatch.context() as patched:
        patched.setattr(grader_module.Sandbox, "_run", broken)
        _, results = grade_notebooks("sgd_batch_size", notebooks, tmp_path)
    assert results["alice"].status == "error"
    _, results = grade_notebooks("sgd_batch_size", notebooks, tmp_path)
    assert results["alice"].status == "graded"
    assert results["alice"].score == results["alice"].max_score


LEFTOVER_USED = (
    "def sgd_epoch(w0, X, Y, alpha, batch_size):\n"
    "    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)\n"
    "    w, starts = float(w0), range(0, len(X), batch_size)\n"
    "    for start in starts:  # the last, shorter batch is used too\n"
    "        w = w - alpha * batch_gradient(w, X[start:start + batch_size], Y[start:start + batch_size])\n"
    "    return w, len(starts)\n"
)


def test_the_run_with_stand_ins_makes_only_the_calls_of_the_loops_that_failed(
    project, tmp_path, monkeypatch
):
    """A wrong ``sgd_epoch`` beside a right ``batch_gradient``: the follow-up runs the
    stand-in calls of the epoch checks, not those of ``batch_gradient``'s, and the grade and
    every word of feedback are those of a follow-up that makes every stand-in call."""
    made: list[set[str]] = []
    real_follow_up = grader_module.Run.follow_up

    def follow_up(self, standins, *, skip=()):
        reply = real_follow_up(self, standins, skip=skip)
        made.append(set(json.loads(reply["answers"] or "{}")))
        return reply

    monkeypatch.setattr(grader_module.Run, "follow_up", follow_up)
    notebook = correct_notebook(project, "sgd_batch_size")
    notebook.cells.append(nbformat.v4.new_code_cell(LEFTOVER_USED))
    _, selective = grade_notebooks(
        "sgd_batch_size", {"s": notebook}, tmp_path / "a", workers=1, seed=7
    )
    [keys] = made
    assert any(key.startswith("sgd_epoch/") for key in keys)
    assert not any(key.startswith(("batch_gradient/", "seeded/batch_gradient/")) for key in keys)

    made.clear()  # the same notebook, each loop check claiming every stand-in call
    real_init = grader_module.Grader.__init__

    def claiming_all(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.loop_checks = dict.fromkeys(self.loop_checks, self.replaced_keys)

    monkeypatch.setattr(grader_module.Grader, "__init__", claiming_all)
    _, full = grade_notebooks("sgd_batch_size", {"s": notebook}, tmp_path / "b", workers=1, seed=7)
    [every] = made
    assert keys < every
    one, other = selective["s"], full["s"]
    assert 0 < one.score < one.max_score and one.score == other.score
    assert [(t.name, t.passed, t.feedback, t.misconception) for t in one.tests] == [
        (t.name, t.passed, t.feedback, t.misconception) for t in other.tests
    ]


def test_snapshots_are_kept_while_follow_ups_are_common_enough_to_pay_for_them():
    """A snapshot costs every submission; running the cells again costs only those that
    need a follow-up, about one first run each."""
    odds = grader_module.FollowUpOdds()
    assert odds.snapshot_worth_it()  # nothing known yet: the first submissions keep one
    for _ in range(20):
        odds.record(0.01, follow_up=False)
    assert not odds.snapshot_worth_it()  # loops that pass, cells that run again quickly
    common = grader_module.FollowUpOdds()
    for number in range(20):
        common.record(0.01, follow_up=number % 2 == 0)
    assert common.snapshot_worth_it()
    slow = grader_module.FollowUpOdds()
    for _ in range(20):
        slow.record(1.0, follow_up=False)
    assert slow.snapshot_worth_it()  # rare follow-ups, but each would run a second again


def test_a_class_whose_loops_pass_stops_keeping_snapshots_and_grades_the_same(
    project, tmp_path, monkeypatch
):
    """Once a class's training loops pass, a submission keeps no snapshot, and one that
    then needs a follow-up runs its cells again: its grade and every word of its feedback
    are those it gets with a snapshot."""
    kept: list[bool] = []
    real_open = grader_module.Sandbox.open

    def open_recorded(self, *args, snapshot=True, **kwargs):
        kept.append(snapshot)
        return real_open(self, *args, snapshot=snapshot, **kwargs)

    monkeypatch.setattr(grader_module.Sandbox, "open", open_recorded)
    correct = correct_notebook(project, "sgd_batch_size")
    wrong = correct_notebook(project, "sgd_batch_size")
    wrong.cells.append(nbformat.v4.new_code_cell(LEFTOVER_USED))
    _, alone = grade_notebooks("sgd_batch_size", {"s": wrong}, tmp_path / "a", workers=1, seed=7)
    assert kept == [True]
    kept.clear()
    notebooks = {**{f"c{number:02d}": correct for number in range(10)}, "s": wrong}
    _, in_class = grade_notebooks("sgd_batch_size", notebooks, tmp_path / "b", workers=1, seed=7)
    assert kept[0] and not kept[-1]
    one, other = alone["s"], in_class["s"]
    assert 0 < one.score < one.max_score and one.score == other.score
    assert [(t.name, t.passed, t.feedback, t.misconception) for t in one.tests] == [
        (t.name, t.passed, t.feedback, t.misconception) for t in other.tests
    ]
