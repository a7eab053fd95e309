"""The system calls a sandbox may not make: a seccomp filter that bubblewrap installs.

Every call is allowed but these (found by red teams):

- the keyring calls (``add_key``, ``request_key``, ``keyctl``) fail with EPERM. Every
  submission runs as the machine's user ``nobody``, and the kernel keeps one keyring per
  user, outside any namespace, cgroup or process: a key one submission adds would be read
  by the next one, even in a later grading run.
- a new user namespace (``unshare`` or ``clone`` with ``CLONE_NEWUSER``) fails with EPERM.
  Inside one, a submission is root of its own namespaces and reaches kernel code (network
  tables, mounts) that ``nobody`` cannot; most kernel escapes start there. The runner's own
  ``unshare`` of a mount and an IPC namespace is not affected.
- ``clone3`` fails with ENOSYS, as in Docker's default profile: its flags are in memory,
  out of a filter's sight, and the C library then creates threads and processes with
  ``clone``, whose flags it sees.

The filter is a classic BPF program, written here for the machines whose call numbers are
known.
"""

from __future__ import annotations

import errno
import platform
import struct
from dataclasses import dataclass

_LOAD, _JUMP_IF_EQUAL, _JUMP_IF_AT_LEAST, _JUMP_IF_ANY_BIT, _RETURN = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW = 0x7FFF0000
_REFUSED = {"deny": 0x00050000 | errno.EPERM, "absent": 0x00050000 | errno.ENOSYS}
_NUMBER, _ARCHITECTURE, _FIRST_ARGUMENT = 0, 4, 16  # offsets in struct seccomp_data
_X32_BIT = 0x40000000
CLONE_NEWUSER = 0x10000000

_Jump = int | str
_Instruction = tuple[int, _Jump, _Jump, int]
"""Operation, where to go when true and when false (how many to skip, or a label), operand."""


@dataclass(frozen=True)
class CallNumbers:
    """One architecture's numbers for the calls the filter looks at."""

    audit_architecture: int
    keyring: tuple[int, int, int]  # add_key, request_key, keyctl
    clone: int
    unshare: int
    clone3: int = 435  # the same number everywhere
    x32: bool = False  # an x86_64 kernel's x32 calls: none is needed, all are refused


CALL_NUMBERS: dict[str, tuple[CallNumbers, ...]] = {
    "x86_64": (
        CallNumbers(0xC000003E, (248, 249, 250), clone=56, unshare=272, x32=True),
        CallNumbers(0x40000003, (286, 287, 288), clone=120, unshare=310),  # i386
    ),
    "aarch64": (
        CallNumbers(0xC00000B7, (217, 218, 219), clone=220, unshare=97),
        CallNumbers(0x40000028, (309, 310, 311), clone=120, unshare=337),  # arm
    ),
}


def sandbox_filter(machine: str | None = None) -> bytes | None:
    """The filter program, as bubblewrap's ``--seccomp`` reads it; None on a machine
    whose call numbers are not listed (the sandbox then runs without it)."""
    tables = CALL_NUMBERS.get(machine or platform.machine())
    if tables is None:
        return None
    program: list[_Instruction] = [(_LOAD, 0, 0, _ARCHITECTURE)]
    for calls in tables:
        block = _architecture_block(calls)
        program.append((_JUMP_IF_EQUAL, 0, len(block), calls.audit_architecture))
        program += block
    program.append((_RETURN, 0, 0, _ALLOW))  # an architecture the filter does not know
    labels = {"flags": len(program)}  # clone and unshare: refused with CLONE_NEWUSER
    program += [
        (_LOAD, 0, 0, _FIRST_ARGUMENT),  # the flags' low 32 bits (little-endian)
        (_JUMP_IF_ANY_BIT, "deny", 0, CLONE_NEWUSER),
        (_RETURN, 0, 0, _ALLOW),
    ]
    for label, action in _REFUSED.items():
        labels[label] = len(program)
        program.append((_RETURN, 0, 0, action))
    return b"".join(
        struct.pack("=HBBI", code, _offset(when_true, index, labels),
                    _offset(when_false, index, labels), operand)
        for index, (code, when_true, when_false, operand) in enumerate(program)
    )  # fmt: skip


def _architecture_block(calls: CallNumbers) -> list[_Instruction]:
    block: list[_Instruction] = [(_LOAD, 0, 0, _NUMBER)]
    if calls.x32:
        block.append((_JUMP_IF_AT_LEAST, "deny", 0, _X32_BIT))
    block += [(_JUMP_IF_EQUAL, "deny", 0, number) for number in calls.keyring]
    block.append((_JUMP_IF_EQUAL, "absent", 0, calls.clone3))
    block += [(_JUMP_IF_EQUAL, "flags", 0, number) for number in (calls.clone, calls.unshare)]
    block.append((_RETURN, 0, 0, _ALLOW))
    return block


def _offset(jump: _Jump, index: int, labels: dict[str, int]) -> int:
    """A jump's operand: instructions to skip after this one (BPF jumps only forward)."""
    if isinstance(jump, int):
        return jump
    skip = labels[jump] - index - 1
    if not 0 <= skip <= 255:
        raise ValueError(f"seccomp filter: {jump!r} is out of a jump's reach")
    return skip
