"""No submission runs in, or next to, a process that has held another submission's data.

A first submission plants markers everywhere it can (its source, its output, its answers'
text, a SysV shared-memory segment, a file in /tmp and /dev/shm, a daemon). The next one,
in the same warm sandbox, searches its own memory, every readable /proc entry, IPC
objects and files for them. It also plants and finds a marker of its own, which proves
the search works: the test cannot pass because the search found nothing at all.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest

from autograder.execution.plan import answers_from_json
from autograder.judging import code
from autograder.sandbox import Limits, Sandbox, bubblewrap

pytestmark = pytest.mark.skipif(bubblewrap() is None, reason="needs the bubblewrap sandbox")

PREFIX = "dlgMARK-"

PLANT = """
# {marker}
import ctypes, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
text = "{marker}".encode()
segment = libc.shmget(0x5eed, 4096, 0o1666)
if segment >= 0:
    libc.shmat.restype = ctypes.c_void_p
    address = libc.shmat(segment, None, 0)
    ctypes.memmove(address, text, len(text))
for folder in ("/tmp", "/dev/shm", "."):
    try:
        open(os.path.join(folder, "left-behind"), "w").write("{marker}")
    except OSError:
        pass
subprocess.Popen(["sleep", "30"], start_new_session=True)
print("{marker}")
def forward(W, x):
    raise ValueError("{marker}")
"""

SEARCH = r"""
import ctypes, glob, hashlib, os, re
own = "dlg" + "MARK-" + "own" * 10        # built at run time: a marker of this submission
prefix = ("dlg" + "MARK-").encode()
pattern = re.compile(re.escape(prefix) + rb"[0-9a-z]{30}")
found = set()
ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: /proc/self/mem readable again

def search(data):
    for match in pattern.finditer(data):
        found.add(hashlib.sha256(match.group()).hexdigest())

with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as memory:
    for line in maps:
        span, permissions = line.split()[:2]
        if not permissions.startswith("r"):
            continue
        start, end = (int(x, 16) for x in span.split("-"))
        try:
            memory.seek(start)
            search(memory.read(end - start))
        except (OSError, ValueError, OverflowError):
            pass
for path in glob.glob("/proc/[0-9]*/*") + glob.glob("/tmp/**", recursive=True) + glob.glob("/dev/shm/**", recursive=True):
    try:
        with open(path, "rb") as file:
            search(file.read(1 << 22))
    except OSError:
        pass
libc = ctypes.CDLL(None)
libc.shmat.restype = ctypes.c_void_p
for key in range(0x5eed, 0x5eee):
    segment = libc.shmget(key, 0, 0)
    if segment >= 0:
        address = libc.shmat(segment, None, 0)
        search(ctypes.string_at(address, 4096))
print("FOUND", sorted(found))
"""


def marker() -> str:
    return PREFIX + secrets.token_hex(15)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_submission_finds_nothing_of_the_one_before():
    plan = '[{"key": "f", "function": "forward", "args": {"__tuple__": [1.0, 2.0]}, "kwargs": {"__dict__": {}}, "standins": {}}]'
    with Sandbox(Limits(wall_seconds=20, cpu_seconds=20)) as sandbox:
        planted = marker()
        first = sandbox.run([PLANT.format(marker=planted)], plan)
        assert first["status"] == "ok" and planted in first["output"]
        assert planted in first["answers"]  # the marker went through the session's memory
        second = sandbox.run([SEARCH], plan)
    assert second["status"] == "ok", second
    found = second["output"]
    assert digest(PREFIX + "own" * 10) in found, second
    assert digest(planted) not in found, "the second submission read the first one's data"


def test_the_search_finds_markers_planted_in_the_same_submission():
    """The control experiment: the same search, in the submission that planted the marker."""
    planted = marker()
    with Sandbox(Limits(wall_seconds=20, cpu_seconds=20)) as sandbox:
        reply = sandbox.run([PLANT.format(marker=planted), SEARCH])
    assert digest(planted) in reply["output"]


FIND_STANDINS = """
import gc

def grader_functions():
    found = {}
    for thing in gc.get_objects():
        if callable(thing) and getattr(thing, "__module__", "") == "standins":
            found[thing.__name__] = thing
    return found

def probe(*args):
    return sorted(grader_functions())
"""


def _probe_plan(standins: dict[str, str]) -> str:
    return json.dumps(
        [{"key": "probe", "function": "probe", "args": {"__tuple__": []},
          "kwargs": {"__dict__": {}}, "standins": standins}]
    )  # fmt: skip


def test_the_grader_s_stand_ins_are_not_in_a_submission_s_memory():
    """A plan of the notebook's own functions runs in a process that never loaded the
    stand-ins, whether or not a snapshot is kept for the follow-up; the control: the same
    search finds them in the follow-up that uses them, and in a run of such a plan."""
    source = code("backprop_miniconv").standins_source
    loop = _probe_plan({"loss": "miniconv_loss"})
    with Sandbox(Limits(wall_seconds=20, cpu_seconds=20)) as sandbox:
        with sandbox.open([FIND_STANDINS], _probe_plan({}), follow_up=loop) as run:
            own = run.reply
            assert own["follow_up"]
            followed = run.follow_up(source)
        alone = sandbox.run([FIND_STANDINS], _probe_plan({}))
        rerun = sandbox.run([FIND_STANDINS], loop, source)
    for reply in (own, alone):
        assert answers_from_json(reply["answers"])["probe"].value.shape == (0,)
    for reply in (followed, rerun):
        assert "miniconv_loss" in answers_from_json(reply["answers"])["probe"].value


THIEF = (
    FIND_STANDINS
    + """
def delegate(name):
    def function(*args, **kwargs):
        for found_name, found in grader_functions().items():
            if found_name.endswith(name):
                return found(*args, **kwargs)
        return None
    return function

init_params = delegate("init_params")
softmax = delegate("softmax")
forward = delegate("forward")
loss_accuracy = delegate("loss_accuracy")
grad_logits = delegate("grad_logits")
backward = delegate("backward")
sgd_step = delegate("sgd_step")
train = delegate("train")
"""
)


def test_a_notebook_answering_with_the_stand_ins_earns_nothing(project, tmp_path):
    from .conftest import grade_notebooks, notebook_with

    _, results = grade_notebooks("mlp_softmax", {"thief": notebook_with([THIEF])}, tmp_path)
    assert results["thief"].score == 0
