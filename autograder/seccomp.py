"""The system calls a sandbox may not make: a seccomp filter that bubblewrap installs.

Every submission runs as the machine's user ``nobody``, and the kernel keeps one keyring
per user, outside any namespace, cgroup or process: a key one submission adds would be
read by the next one, even in a later grading run (found by a red team). The keyring
calls (``add_key``, ``request_key``, ``keyctl``) therefore fail with EPERM in a sandbox,
as in Docker's default profile; every other call is allowed. The filter is a classic BPF
program, written here for the machines where the call numbers are known.
"""

from __future__ import annotations

import errno
import platform
import struct

_LOAD, _JUMP_IF_EQUAL, _JUMP_IF_AT_LEAST, _RETURN = 0x20, 0x15, 0x35, 0x06
_ALLOW = 0x7FFF0000
_DENY = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO
_NUMBER, _ARCHITECTURE = 0, 4  # offsets in struct seccomp_data
_X32_BIT = 0x40000000
_Instruction = tuple[int, int | str, int, int]
"""Operation, jump when true ("deny", or how many to skip), jump when false, operand."""

KEYRING_CALLS: dict[str, list[tuple[int, tuple[int, ...], bool]]] = {
    # machine: (audit architecture, add_key/request_key/keyctl numbers, x32 calls too)
    "x86_64": [(0xC000003E, (248, 249, 250), True), (0x40000003, (286, 287, 288), False)],
    "aarch64": [(0xC00000B7, (217, 218, 219), False), (0x40000028, (309, 310, 311), False)],
}


def keyring_filter(machine: str | None = None) -> bytes | None:
    """The filter program, as bubblewrap's ``--seccomp`` reads it; None on a machine
    whose call numbers are not listed (the sandbox then runs without it)."""
    tables = KEYRING_CALLS.get(machine or platform.machine())
    if tables is None:
        return None
    program: list[_Instruction] = [(_LOAD, 0, 0, _ARCHITECTURE)]
    for architecture, numbers, x32 in tables:
        block: list[_Instruction] = [(_LOAD, 0, 0, _NUMBER)]
        if x32:  # the x32 calls of an x86_64 kernel: none is needed
            block.append((_JUMP_IF_AT_LEAST, "deny", 0, _X32_BIT))
        block += [(_JUMP_IF_EQUAL, "deny", 0, number) for number in numbers]
        block.append((_RETURN, 0, 0, _ALLOW))
        program.append((_JUMP_IF_EQUAL, 0, len(block), architecture))  # else: next table
        program += block
    program += [(_RETURN, 0, 0, _ALLOW), (_RETURN, 0, 0, _DENY)]
    deny = len(program) - 1
    return b"".join(
        struct.pack("=HBBI", code, deny - index - 1 if when_true == "deny" else when_true,
                    when_false, operand)
        for index, (code, when_true, when_false, operand) in enumerate(program)
    )  # fmt: skip
