"""The sandbox itself: survives the thread that started it, restarts after a crash."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from autograder import sandbox as sandbox_module
from autograder.execution.plan import answers_from_json
from autograder.grader import Settings
from autograder.messages import localized
from autograder.sandbox import (
    IsolationUnavailable,
    Limits,
    Sandbox,
    SandboxError,
    SharedFontList,
    bubblewrap,
    started_sandboxes,
)
from autograder.seccomp import CLONE_NEWUSER, sandbox_filter

LIMITS = Limits(wall_seconds=5, cpu_seconds=5)


def kill_descendants(pid: int) -> None:
    """Kill a process and everything below it (the runner lives inside bubblewrap's tree)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    for child in children.split():
        kill_descendants(int(child))
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def test_a_sandbox_outlives_the_thread_that_started_it():
    with Sandbox(LIMITS) as sandbox:
        thread = threading.Thread(target=sandbox.run, args=(["x = 1"],))
        thread.start()
        thread.join()
        assert sandbox.run(["y = 2"])["status"] == "ok"


def test_a_runner_dying_mid_request_is_reported_then_restarted():
    with Sandbox(LIMITS) as sandbox:
        sandbox.run(["x = 1"])
        threading.Timer(0.5, kill_descendants, (sandbox._process.pid,)).start()
        with pytest.raises(SandboxError, match="stopped"):
            sandbox.run(["import time\ntime.sleep(3)"])
        assert sandbox.run(["x = 1"])["status"] == "ok"


def test_no_state_survives_between_submissions():
    with Sandbox(LIMITS) as sandbox:
        first = sandbox.run(
            ["import os\nopen('left.txt', 'w').write('x')\nos.environ['MARK'] = '1'"], "[]"
        )
        second = sandbox.run(["import os\nprint(os.listdir('.'), os.environ.get('MARK'))"])
        assert first["status"] == second["status"] == "ok"
        assert second["output"].strip() == "[] None"


@pytest.mark.skipif(bubblewrap() is None, reason="needs the bubblewrap sandbox")
def test_a_submission_may_write_in_tmp_and_the_next_finds_nothing_of_it():
    """/tmp and /dev/shm are writable, as on a student's machine (a plot saved to
    /tmp/plot.png, a multiprocessing pool and its semaphores), and emptied after each
    submission: files, folders, links and pipes alike."""
    leave = (
        "import multiprocessing, os\n"
        "os.makedirs('/tmp/d/e')\n"
        "open('/tmp/d/e/f', 'w').write('x')\n"
        "open('/tmp/plot.png', 'w').write('x')\n"
        "os.symlink('/etc', '/tmp/link')\n"
        "os.mkfifo('/tmp/pipe')\n"
        "open('/dev/shm/segment', 'w').write('x')\n"
        "with multiprocessing.Pool(2) as pool:\n"
        "    print(pool.map(abs, [-1, -2]))\n"
        "print(open('/tmp/plot.png').read())"
    )
    look = (
        "import os\n"
        "print(sorted(n for n in os.listdir('/tmp') if not n.startswith('submission-')))\n"
        "print(os.listdir('/dev/shm'))"
    )
    with Sandbox(LIMITS) as sandbox:
        first = sandbox.run([leave])
        second = sandbox.run([look])
    assert first["status"] == "ok" and not first["cell_errors"], first
    assert first["output"].split() == ["[1,", "2]", "x"]
    in_tmp, in_shm = second["output"].splitlines()
    assert in_tmp in ("[]", "['matplotlib']") and in_shm == "[]", second


def test_without_bubblewrap_the_limits_still_hold():
    with Sandbox(LIMITS, isolate=False) as sandbox:
        assert sandbox.isolation == "limits-only"
        fine = sandbox.run(["import os\nprint(len(os.listdir('.')))"])
        assert fine["status"] == "ok" and fine["output"].strip() == "0"
        looping = sandbox.run(["while True:\n    pass"])
        assert looping["status"] == "ok" and "TimeoutError" in looping["cell_errors"][0]["error"]
        stubborn = (
            "while True:\n    try:\n        time.sleep(9)\n    except BaseException:\n        pass"
        )
        assert sandbox.run(["import time", stubborn])["status"] == "timeout"


def test_without_bubblewrap_nothing_is_graded_unless_the_instructor_says_so(monkeypatch):
    """Unisolated, a submission can read solutions/ and its classmates' notebooks: the
    grader refuses, and only DLGRADE_ISOLATION=limits-only makes it grade anyway."""
    monkeypatch.setattr("autograder.sandbox.bubblewrap", lambda: None)
    monkeypatch.delenv("DLGRADE_ISOLATION", raising=False)
    with pytest.raises(IsolationUnavailable, match="DLGRADE_ISOLATION=limits-only"):
        Sandbox(LIMITS)
    with pytest.raises(IsolationUnavailable):
        started_sandboxes(LIMITS, 2)
    assert Settings().isolate
    monkeypatch.setenv("DLGRADE_ISOLATION", "limits-only")
    assert not Settings().isolate
    sandboxes = started_sandboxes(LIMITS, 1)
    try:
        assert sandboxes[0].isolation == "limits-only"
    finally:
        sandboxes[0].close()


def test_a_submission_sees_the_whole_python_of_the_grader():
    """Its private tmpfs must not hide a Python installed under /tmp (a checkout there)."""
    probe = (
        "import os, numpy\n"
        "print(os.path.isdir(os.path.dirname(numpy.__file__)) and os.path.isdir(os.path.dirname(os.__file__)))"
    )
    with Sandbox(LIMITS) as sandbox:
        assert sandbox.run([probe])["output"].strip() == "True"


def test_a_notebook_that_plots_finds_the_font_list_built_once_per_grading_process():
    """Matplotlib's font list is built once for all the sandboxes of the grading process,
    not in each submission's fresh HOME: plotting prints no fontconfig or cache complaint,
    the working folder still starts empty, and a second sandbox reads the very same list.
    The first submission, sent as the build starts (as in a class run), is not held up."""
    pytest.importorskip("matplotlib")
    cell = (
        "import os\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "plt.plot([1, 2])\nplt.savefig('plot.png')\nprint(sorted(os.listdir('.')))\n"
        "folder = os.environ.get('MPLCONFIGDIR', 'none')\nprint(folder)\n"
        "print(sorted(os.stat(os.path.join(folder, n)).st_ino for n in os.listdir(folder)"
        " if n.endswith('.json')))"
    )
    limits = Limits(wall_seconds=20, cpu_seconds=20)
    with Sandbox(limits) as first, Sandbox(limits) as second:
        assert first.run(["x = 1"], "[]")["status"] == "ok"  # while the list is built
        for _ in range(40):
            reply = first.run([cell], "[]")
            if "/matplotlib\n" in reply["output"]:  # the shared list, linked for this one
                break
            time.sleep(0.5)
        again = second.run([cell], "[]")
    lists = []
    for answer in (reply, again):
        assert answer["status"] == "ok" and not answer["cell_errors"], answer
        listing, config_dir, files = answer["output"].splitlines()
        assert listing == "['plot.png']" and config_dir.endswith("/matplotlib")
        assert "rror" not in answer["output"] and "cache" not in answer["output"]
        lists.append(files)
    assert lists[0] == lists[1] != "[]"  # one list, the same file, for both sandboxes


COUNTING_CELLS = [
    "import os\nwith open('cells-ran', 'a') as log:\n    log.write('x')",
    "state = {'calls': 0}\n"
    "def probe():\n"
    "    state['calls'] += 1\n"
    "    return [state['calls'], len(open('cells-ran').read())]",
]


def _plan(key: str) -> str:
    return (
        f'[{{"key": "{key}", "function": "probe", "args": {{"__tuple__": []}}, '
        '"kwargs": {"__dict__": {}}, "standins": {}}]'
    )


def _value(reply: dict, key: str) -> list[float]:
    return answers_from_json(reply["answers"])[key].value.tolist()


def test_a_follow_up_starts_from_the_state_the_cells_left_without_running_them_again():
    """The follow-up plan runs in the snapshot taken after the cells: the own plan's call
    (which changed the notebook's state) is not seen, and the cells ran once."""
    with Sandbox(LIMITS) as sandbox:
        with sandbox.open(COUNTING_CELLS, _plan("own"), follow_up=_plan("again")) as run:
            assert run.reply["status"] == "ok" and run.reply["follow_up"]
            assert _value(run.reply, "own") == [1, 1]
            again = run.follow_up("STANDINS = {}")
        assert again["status"] == "ok", again
        assert _value(again, "again") == [1, 1]
        assert sandbox.run(["x = 1"])["status"] == "ok"  # the sandbox serves the next one


def test_without_a_snapshot_the_follow_up_runs_the_cells_again():
    """A notebook whose cells leave no room for a copy of its process (here: fork broken)
    still gets its follow-up, from a second run of its cells."""
    cells = [*COUNTING_CELLS, "def refused():\n    raise OSError('no fork')\nos.fork = refused"]
    with Sandbox(LIMITS) as sandbox:
        with sandbox.open(cells, _plan("own"), follow_up=_plan("again")) as run:
            assert run.reply["status"] == "ok" and not run.reply["follow_up"]
            again = run.follow_up("STANDINS = {}")
        assert again["status"] == "ok", again
        assert _value(again, "again") == [1, 1]  # a new session: its own, fresh folder


def test_a_second_run_of_the_cells_gets_only_what_the_first_left_of_the_time():
    """Without a snapshot, a submission whose cells and calls take all their time does
    not get a full limit again for the follow-up: the two runs together stay within the
    limit and the follow-up's share, as with a snapshot."""
    cells = [
        "import os, time\ndef refused():\n    raise OSError('no fork')\nos.fork = refused",
        "time.sleep(2)",
        "def probe():\n    time.sleep(100)",
    ]
    with Sandbox(LIMITS) as sandbox:
        started = time.monotonic()
        with sandbox.open(cells, _plan("own"), follow_up=_plan("again")) as run:
            assert not run.reply["follow_up"]
            assert run.seconds >= 0.9 * LIMITS.wall_seconds  # the call ran out of time
            again = run.follow_up("STANDINS = {}")
        elapsed = time.monotonic() - started
    assert answers_from_json(again["answers"])["again"].error.startswith("TimeoutError")
    assert elapsed < 1.4 * LIMITS.wall_seconds + 1.0, elapsed  # not two full limits


def test_an_unused_snapshot_leaves_no_process_behind():
    """The grader passes on the follow-up: the snapshot (running as nobody) is gone before
    the next submission starts."""
    nobody = (
        "import os\n"
        "print(sorted(p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()"
        " and os.stat('/proc/' + p).st_uid == 65534))"
    )
    with Sandbox(LIMITS) as sandbox:
        for _ in range(3):
            with sandbox.open(COUNTING_CELLS, _plan("own"), follow_up=_plan("again")) as run:
                assert run.reply["follow_up"]
        after = sandbox.run([nobody])
    assert after["output"].strip() == "[]", after


def test_a_follow_up_whose_snapshot_takes_nothing_leaves_the_runner_in_step():
    """The snapshot may not take the grader's word (here the cells made every fork's copy
    sleep): the runner discards the stand-ins unread after a while, the follow-up runs out
    of time, and the same runner serves the next submission."""
    cells = [
        *COUNTING_CELLS,
        "import time\nos.register_at_fork(after_in_child=lambda: time.sleep(1000))",
    ]
    standins = "STANDINS = {}\n" + "#" * (4 << 20)  # far more than a pipe holds
    with Sandbox(LIMITS) as sandbox:
        with sandbox.open(cells, _plan("own"), follow_up=_plan("again")) as run:
            assert run.reply["follow_up"]
            runner = sandbox._process.pid
            again = run.follow_up(standins)
        assert again["status"] == "timeout" and again["answers"] is None, again
        assert sandbox.run(["x = 1"])["status"] == "ok"
        assert sandbox._process.pid == runner


def test_a_follow_up_whose_snapshot_is_gone_leaves_the_runner_in_step():
    """A planned call kills the snapshot kept for the follow-up: the follow-up has no
    answers, and the same runner serves the next submission."""
    cells = [
        *COUNTING_CELLS,
        "import signal\n"
        "def probe():\n"
        "    for task in os.listdir('/proc/self/task'):\n"
        "        for pid in open(f'/proc/self/task/{task}/children').read().split():\n"
        "            os.kill(int(pid), signal.SIGKILL)\n"
        "    return [0, 0]",
    ]
    with Sandbox(LIMITS) as sandbox:
        with sandbox.open(cells, _plan("own"), follow_up=_plan("again")) as run:
            runner = sandbox._process.pid
            again = run.follow_up("STANDINS = {}")
        assert again["answers"] is None and again["status"] == "error", again
        assert sandbox.run(["x = 1"])["status"] == "ok"
        assert sandbox._process.pid == runner


def test_a_child_that_dies_reading_its_request_leaves_the_runner_in_step():
    """The runner passes each request on without reading it: when the child dies halfway
    through (here, a notebook larger than its memory limit), the rest is discarded, and
    the same runner serves the next submission."""
    huge = "x = 1\n" + "#" * (200 << 20)
    with Sandbox(Limits(wall_seconds=10, cpu_seconds=10, memory_bytes=64 << 20)) as sandbox:
        assert sandbox.run(["x = 1"])["status"] == "ok"
        runner = sandbox._process.pid
        reply = sandbox.run([huge])
        assert reply["status"] in ("memory", "error") and reply["answers"] is None, reply
        assert sandbox.run(["x = 1"])["status"] == "ok"
        assert sandbox._process.pid == runner


def test_the_processes_of_one_submission_share_its_memory_limit():
    """Three processes, each under the limit, are stopped together above it; one alone
    runs."""
    limits = Limits(wall_seconds=10, cpu_seconds=10, memory_bytes=500 * 2**20)
    forks = "import os, time\nfor _ in range(2):\n    if os.fork() == 0:\n        break\n"
    block = "block = b'x' * (200 * 2**20)\ntime.sleep(2)"
    with Sandbox(limits) as sandbox:
        assert sandbox.run(["import time", block])["status"] == "ok"
        assert sandbox.run([forks, block])["status"] == "memory"


def test_a_submission_runs_in_a_cgroup_of_its_own():
    """Where the grader can delegate a cgroup, each submission's processes are in one of
    their own for memory and process count (moved there before any of its code runs)."""
    probe = "print(open('/proc/self/cgroup').read())"
    with Sandbox(LIMITS) as sandbox:
        lines = sandbox.run([probe])["output"].splitlines()
        if sandbox._cgroup is None:
            pytest.skip("no cgroup can be delegated on this machine")
        controllers = ["memory", "pids"] if sandbox._cgroup.version == 1 else [""]
    paths = {}
    for line in filter(None, lines):
        _, names, path = line.split(":", 2)
        paths.update(dict.fromkeys(names.split(","), path))
    assert all(paths[name].endswith("/submission") for name in controllers), lines


def test_the_font_list_is_built_once_and_kept_for_the_next_grading_process(tmp_path, monkeypatch):
    """Built by the first sandbox that needs it, shared by those open at once, and kept:
    the next grading process binds it without building again. A partial build left by a
    grading process that died is swept; one this process cuts short is removed."""
    pytest.importorskip("matplotlib")
    if bubblewrap() is None:
        pytest.skip("the font list is shared by bubblewrap sandboxes")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("autograder.sandbox._FONT_LIST", SharedFontList())  # this test's alone
    folder = sandbox_module.font_cache_root() / sandbox_module._font_list_key()
    orphan = folder / f"{SharedFontList.BUILDING}999999999"
    orphan.mkdir(parents=True)
    with Sandbox(LIMITS) as first, Sandbox(LIMITS) as second:
        first.start()
        second.start()
        assert first._fonts == second._fonts == str(folder)
        assert not orphan.exists()
        for _ in range(60):
            if list(folder.glob("*.json")):
                break
            time.sleep(0.5)
    assert list(folder.glob("*.json")) and not list(folder.glob(f"{SharedFontList.BUILDING}*"))
    next_process = SharedFontList()
    assert next_process.acquire(["bwrap"]) == str(folder) and next_process._builder is None
    next_process.release()

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other"))
    cut_short = SharedFontList()
    other = Path(cut_short.acquire(Sandbox(LIMITS)._bubblewrap_arguments()) or "")
    assert cut_short._builder is not None and other.is_relative_to(tmp_path / "other")
    cut_short.release()
    assert not list(other.iterdir())


KEYRING_PROBE = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
added = libc.syscall({add_key}, b"user", b"dlgrade-probe", b"secret", 6, -4)
print(added, os.strerror(ctypes.get_errno()) if added < 0 else "added")
"""


@pytest.mark.skipif(bubblewrap() is None, reason="the filter is bubblewrap's")
def test_a_submission_cannot_use_the_keyring_every_submission_shares():
    """Every submission runs as the same user, whose kernel keyring outlives them all: a
    key written by one would be read by the next (a red team's channel)."""
    numbers = {"x86_64": 248, "aarch64": 217}
    if platform.machine() not in numbers:
        pytest.skip("no filter for this machine")
    with Sandbox(LIMITS) as sandbox:
        reply = sandbox.run([KEYRING_PROBE.format(add_key=numbers[platform.machine()])])
    assert reply["output"].strip() == "-1 Operation not permitted", reply


NAMESPACE_PROBE = """import ctypes, os, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
def outcome(result):
    return os.strerror(ctypes.get_errno()) if result < 0 else "created"
print("unshare:", outcome(libc.unshare({flag})))
child = libc.syscall({clone}, {flag} | 17, 0, 0, 0, 0)  # 17: SIGCHLD
if child == 0:
    os._exit(0)
print("clone:", outcome(child))
seen = []
thread = threading.Thread(target=seen.append, args=("thread",))
thread.start()
thread.join()
print(*seen, subprocess.run(["echo", "process"], capture_output=True, text=True).stdout)
"""


@pytest.mark.skipif(bubblewrap() is None, reason="the filter is bubblewrap's")
def test_a_submission_cannot_make_a_user_namespace_but_threads_and_processes_work():
    """Root of a namespace of its own, a submission would reach kernel code that nobody
    cannot (network tables, mounts), where most escapes start."""
    numbers = {"x86_64": 56, "aarch64": 220}
    if platform.machine() not in numbers:
        pytest.skip("no filter for this machine")
    probe = NAMESPACE_PROBE.format(flag=CLONE_NEWUSER, clone=numbers[platform.machine()])
    with Sandbox(LIMITS) as sandbox:
        reply = sandbox.run([probe])
    assert reply["output"].split("\n")[:3] == [
        "unshare: Operation not permitted",
        "clone: Operation not permitted",
        "thread process",
    ], reply


def test_the_filter_is_left_out_where_the_call_numbers_are_unknown():
    assert sandbox_filter("riscv64") is None
    assert len(sandbox_filter("x86_64") or b"") % 8 == 0  # whole BPF instructions


def test_printing_past_the_output_limit_drops_the_rest_but_a_file_past_it_is_told_so():
    """As in Jupyter, printing never fails: past the output limit the rest is dropped, so
    a print at the top of a later cell does not stop the functions it defines. A file
    past the limit fails, and the error names the limit and what to do, in French and in
    English (Python's own "File too large" says nothing of a limit)."""
    cells = [
        "for i in range(200_000):\n    print('ligne', i)",
        "print('Exercice 2')\ndef probe():\n    return [1, 2]",
        "open('big', 'wb').write(b'x' * (2 << 20))",
    ]
    with Sandbox(Limits(wall_seconds=20, cpu_seconds=20, output_bytes=2**20)) as sandbox:
        reply = sandbox.run(cells, _plan("p"))
    assert reply["status"] == "ok" and reply["output"].startswith("ligne 0\n")
    assert _value(reply, "p") == [1, 2]
    (error,) = reply["cell_errors"]
    assert error["cell"] == 3 and "limite de taille atteinte" in error["error"], error
    assert "print or write less" in localized(error["error"], "en")


def test_answers_past_the_output_limit_come_back_as_too_large_not_as_nothing():
    """The answers are the child's last file write: past the limit, a short line says so,
    and the runner goes on with the next submission."""
    cells = ["import numpy as np\ndef probe():\n    return np.ones(200_000)"]
    with Sandbox(Limits(wall_seconds=20, cpu_seconds=20, output_bytes=2**20)) as sandbox:
        reply = sandbox.run(cells, _plan("p"))
        assert (reply["status"], reply["answers"], reply["too_large"]) == ("error", None, True)
        small = sandbox.run(["def probe():\n    return [1.0]"], _plan("p"))
    assert small["too_large"] is False and _value(small, "p") == [1.0]


HOSTILE_ANSWERS = """import time
class Slow(float):
    def __float__(self):
        time.sleep(60)
class Endless(Exception):
    def __str__(self):
        while True:
            pass
def slow():
    return Slow(1.0)
def endless():
    raise Endless()
def interrupted():
    raise KeyboardInterrupt
def fine():
    return [2.0]
"""


def test_a_return_value_or_an_error_that_never_converts_costs_its_own_call_only():
    """What a call returns is converted, and what it raises is told, within that call's
    share of the time: the calls after it are still answered. A KeyboardInterrupt raised
    by the notebook is an answer too."""
    names = ("slow", "endless", "interrupted", "fine")
    plan = (
        "[" + ", ".join(_plan(name)[1:-1].replace('"probe"', f'"{name}"') for name in names) + "]"
    )
    with Sandbox(Limits(wall_seconds=12, cpu_seconds=12)) as sandbox:
        reply = sandbox.run([HOSTILE_ANSWERS], plan)
    assert reply["status"] == "ok", reply
    answers = answers_from_json(reply["answers"])
    assert answers["fine"].value.tolist() == [2.0]
    assert answers["slow"].error.startswith("TimeoutError")
    assert answers["endless"].error.startswith("TimeoutError")
    assert answers["interrupted"].error.startswith("KeyboardInterrupt")


HOG = """import os, time
for _ in range(30):
    if os.fork() == 0:
        os.setsid()  # a session of its own: outside any per-session fairness of the kernel
        end = time.monotonic() + 4
        while time.monotonic() < end:
            pass
        os._exit(0)
time.sleep(4)
"""
SHARE = """import time
time.sleep(0.7)
wall, cpu = time.monotonic(), time.process_time()
while time.monotonic() - wall < 2:
    pass
print((time.process_time() - cpu) / (time.monotonic() - wall))
"""


def test_a_submission_of_many_busy_processes_leaves_its_neighbour_its_share():
    """30 busy processes in one sandbox took 94 % of the processors from the sandbox beside
    it (a red team's classmate then timed out); each sandbox now has an equal share."""
    limits = Limits(wall_seconds=20, cpu_seconds=20)
    with Sandbox(limits) as hog, Sandbox(limits) as neighbour:
        hog.start()
        neighbour.start()
        if hog._cgroup is None or "cpu" not in hog._cgroup.folders:
            pytest.skip("no cgroup v1 cpu hierarchy to give each sandbox its share")
        thread = threading.Thread(target=hog.run, args=([HOG],))
        thread.start()
        share = float(neighbour.run([SHARE])["output"])
        thread.join()
    assert share > 0.3  # 0.06 without the share, 0.95 with it, on 2 cores
