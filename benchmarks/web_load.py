"""dlgrade serve under a deadline rush: N students submit within a few minutes.

Usage: python benchmarks/web_load.py [--students 300] [--seconds 120] [--workers W]

A real server (uvicorn, the background worker, the local executor and its sandboxes) on a
free local port. Every student has an account and signs in first (not timed). Then each
uploads one notebook of the sample class (correct, mistaken, blank, broken) at a random
moment of the window, over HTTP, and polls its attempt every 0.25 s until it is graded.
Printed: the median and 95th percentile time from the start of the upload to the poll
that sees it graded, and a check that every submission was graded exactly once (an
executor that counts what it grades) and none was lost. Clients, server and grading
share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx2 as httpx
import uvicorn

from autograder.course import Project
from autograder.executors import LocalExecutor
from autograder.grader import Settings
from autograder.sample_class import write_sample_class
from autograder.sandbox import default_workers
from autograder.web import WebConfig, create_app
from autograder.web.security import RateLimiter, hash_password

ASSIGNMENT = "backprop_miniconv"
PASSWORD = "load-test-password"


class CountingExecutor:
    """The local executor, counting each submission it grades (by origin)."""

    def __init__(self) -> None:
        self.inner = LocalExecutor()
        self.graded: Counter[str] = Counter()

    def grade(self, grader, submissions):
        for result in self.inner.grade(grader, submissions):
            self.graded[result.origin] += 1
            yield result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def student(base: str, login: str, notebook: bytes, at: float, start: float, out: dict) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/login").text
        token = page.split('name="csrf" value="')[1].split('"')[0]
        client.post("/login", data={"login": login, "password": PASSWORD, "csrf": token})
        form = client.get(f"/assignments/{ASSIGNMENT}").text
        token = form.split('name="csrf" value="')[1].split('"')[0]
        time.sleep(max(0.0, start + at - time.monotonic()))
        sent = time.monotonic()
        response = client.post(
            f"/assignments/{ASSIGNMENT}/submit",
            data={"csrf": token},
            files={"notebook": ("nb.ipynb", notebook, "application/x-ipynb+json")},
        )
        if response.status_code != 303:
            out[login] = None
            return
        status = response.headers["location"] + "/status"
        while client.get(status).json()["state"] != "done":
            time.sleep(0.25)
        out[login] = time.monotonic() - sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    project = Project.default()
    with tempfile.TemporaryDirectory() as folder:
        samples = write_sample_class(Path(folder) / "samples", ASSIGNMENT, project, 30)
        notebooks = []
        for sample in samples:
            content = sample.path.read_bytes()
            try:
                json.loads(content)
            except ValueError:
                continue  # refused at upload (400), never queued: not part of the load
            notebooks.append(content)
        executor = CountingExecutor()
        config = WebConfig(
            data_dir=Path(folder) / "course", settings=Settings(workers=args.workers)
        )
        app = create_app(config, executor=executor)
        logins = [f"s{i:04d}" for i in range(args.students)]
        password = hash_password(PASSWORD)
        for login in logins:
            app.state.store.set_password(app.state.store.add_user(login, "student").id, password)
        app.state.login_limiter = RateLimiter(2 * args.students, 60)  # all from this address
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        rng = random.Random(0)
        times: dict[str, float | None] = {}
        start = time.monotonic() + 0.1 * args.students  # after everyone has signed in
        threads = [
            threading.Thread(
                target=student,
                args=(
                    f"http://127.0.0.1:{port}",
                    login,
                    notebooks[i % len(notebooks)],
                    rng.uniform(0, args.seconds),
                    start,
                    times,
                ),
            )
            for i, login in enumerate(logins)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        server.should_exit = True
        counts = app.state.store.queue_counts()
    latencies = sorted(t for t in times.values() if t is not None)
    refused = [login for login, t in times.items() if t is None]
    once = sum(1 for c in executor.graded.values() if c == 1)
    print(f"{args.students} students in {args.seconds:g} s, {args.workers} workers")
    print(
        f"upload to feedback: median {statistics.median(latencies):.1f} s, "
        f"95th percentile {statistics.quantiles(latencies, n=20)[-1]:.1f} s, "
        f"max {latencies[-1]:.1f} s"
    )
    print(
        f"graded exactly once: {once} / {len(latencies)}; refused uploads: {len(refused)}; "
        f"attempts by state: {counts}"
    )
    if once != args.students or max(executor.graded.values()) != 1 or refused:
        sys.exit("FAILED: a submission was lost, refused or graded twice")


if __name__ == "__main__":
    main()
