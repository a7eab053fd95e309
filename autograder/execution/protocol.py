"""How the grader and the runner talk: one-byte commands and length-prefixed frames.

The runner's server process must never read a submission. A ``START`` command is
followed by two frames: the *order*, the grader's own (which plans, how much time), read
by the server, then the *request* (the cells), which the server passes to the child
without reading it; the stand-ins that follow a ``FOLLOW_UP`` go to the snapshot the
same way. Each reply is three frames: the server's account of the run, then the child's
result and output, passed on unread. Frames have a fixed 8-byte length header, so each
side reads exactly what is meant for it and nothing more.
"""

from __future__ import annotations

import os
import select
import time

CONFIGURE = b"C"
"""Followed by a frame: the class-wide configuration (plan, limits, cgroups)."""
START = b"S"
"""Followed by two frames: the order (plans, time), then one submission's cells."""
FOLLOW_UP = b"F"
"""After a reply that kept a snapshot: followed by a frame, the stand-ins it is to use."""
FINISH = b"E"
"""After a reply that kept a snapshot: no follow-up, end the submission."""
FOLLOW_UP_SHARE = 0.4
"""Of the wall-clock limit, what a follow-up may add to a submission's time: a snapshot's
follow-up runs within it, a second run of the cells (no snapshot) within what the first
run left of one limit plus this share."""

SHARED_FOLDERS = ("/tmp", "/dev/shm")
"""The sandbox's folders that every submission may write in (files, POSIX semaphores and
shared memory), each a tmpfs the runner caps and empties after each submission."""
FONT_CACHE = "/tmp/matplotlib"
"""Where a sandbox finds Matplotlib's font list, built once per grading process and bound
read-only into each of its sandboxes (``sandbox.SharedFontList``)."""

HEADER_BYTES = 8
MAX_RESULT_BYTES = 16 * 1024 * 1024
"""The most of a child's result (the cells it started, its answers) a reply carries."""
OUTPUT_BYTES = 4096
"""What a reply carries of a submission's output: its first bytes."""


class FrameError(OSError):
    """A frame could not be read: the peer was too slow or sent too much."""


class ChannelClosed(FrameError):
    """The peer closed the channel before a whole frame arrived (it stopped)."""


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(HEADER_BYTES, "big") + payload


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    """``size`` bytes from ``fd``; FrameError on end of file or past ``deadline``."""
    chunks, missing = [], size
    while missing:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise FrameError("no complete answer before the deadline")
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int, deadline: float | None = None) -> bytes:
    """One frame of at most ``limit`` bytes, read within ``deadline`` (monotonic time)."""
    size = int.from_bytes(read_exactly(fd, HEADER_BYTES, deadline), "big")
    if size > limit:
        raise FrameError(f"a frame of {size} bytes exceeds the limit of {limit}")
    return read_exactly(fd, size, deadline)


def encodable(text: str) -> str:
    """``text``, with each lone surrogate (which a JSON escape such as ``\\udcff`` can
    carry) written as that escape: no UTF-8 file, database or page accepts one, and a
    student's text must never stop the grader that stores or shows it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
