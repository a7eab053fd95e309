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
import gc, sys

def grader_functions():
    module = sys.modules.get("execution.standins")
    found = {name: getattr(module, name) for name in dir(module)} if module else {}
    for thing in gc.get_objects():
        if callable(thing) and getattr(thing, "__module__", "") == "execution.standins":
            found[thing.__name__] = thing
    return found

def probe(*args):
    return sorted(grader_functions())
"""


def test_the_grader_s_stand_ins_are_not_in_a_submission_s_memory():
    """Calls of the student's own functions run in a child that never loaded the stand-ins;
    only the calls that need them (training loops) run where they are, and only those
    answers are kept. The control: the same search finds them in that second child."""
    plan = (
        '[{"key": "own", "function": "probe", "args": {"__tuple__": []},'
        ' "kwargs": {"__dict__": {}}, "standins": {}},'
        ' {"key": "loop", "function": "probe", "args": {"__tuple__": []},'
        ' "kwargs": {"__dict__": {}}, "standins": {"loss": "miniconv_loss"}}]'
    )
    with Sandbox(Limits(wall_seconds=20, cpu_seconds=20)) as sandbox:
        reply = sandbox.run([FIND_STANDINS], plan)
    answers = json.loads(reply["answers"])
    assert answers["own"]["value"] == {"__array__": {"shape": [0], "data": []}}
    assert "miniconv_loss" in str(answers["loop"]["value"])
