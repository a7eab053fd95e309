"""dlgrade serve, graded for real in the sandbox: a student's attempts and feedback, an
instructor's hand grading, late policy, release, exports and LMS runs."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from datetime import datetime, timedelta

import pytest

from autograder.assignment import load_assignment
from autograder.course import SampleMistake
from autograder.feedback import mistake
from autograder.web.store import AssignmentSettings, now

from .conftest import correct_notebook, notebook_with
from .test_web import (  # noqa: F401  (fixtures)
    ASSIGNMENT,
    app_fixture,
    attempt_id,
    config_fixture,
    notebook_bytes,
    post,
    signed_in,
    submit,
)

RELU = SampleMistake("relu_derivative_missing", "return 1.0 if a > 0 else 0.0", "return 1.0", ())


@pytest.fixture
def notebooks(project):
    return {
        "right": notebook_bytes(correct_notebook(project, ASSIGNMENT)),
        "relu": notebook_bytes(correct_notebook(project, ASSIGNMENT, RELU)),
    }


def test_a_student_reads_the_named_mistake_then_resubmits(app, notebooks):
    alice = signed_in(app, "alice")
    first = attempt_id(submit(alice, notebooks["relu"]))
    waiting = alice.get(f"/attempts/{first}")
    assert 'data-poll="/attempts/' in waiting.text
    assert alice.get(f"/attempts/{first}/status").json() == {"state": "queued", "ahead": 0}
    assert app.state.worker.grade_queued() == 1
    assert alice.get(f"/attempts/{first}/status").json()["state"] == "done"
    page = alice.get(f"/attempts/{first}").text
    assert mistake("relu_derivative_missing", ASSIGNMENT, "fr").title in page
    assert "Retour de correction" in page  # the library's feedback page, in French
    second = attempt_id(submit(alice, notebooks["right"]))
    app.state.worker.grade_queued()
    attempts = app.state.store.attempts_of(app.state.store.user_by_login("alice").id)
    assert [a["id"] for a in attempts] == [second, first]
    assert attempts[0]["score"] == attempts[0]["max_score"] > attempts[1]["score"]
    listing = alice.get(f"/assignments/{ASSIGNMENT}").text
    assert f"/attempts/{first}" in listing and f"/attempts/{second}" in listing
    rows = re.findall(r"<tr><td><a href=\"/attempts/(\d+)\">.*?</tr>", listing, re.S)
    assert rows == [str(second), str(first)]
    older = listing.split(f'href="/attempts/{first}"')[1].split("</tr>")[0]
    assert "ne compte plus pour la note" in older  # the older one's checks alone, said so
    assert "ne compte plus" not in listing.split(f'href="/attempts/{second}"')[1].split("</tr>")[0]
    english = post(alice, "/language", {"lang": "en", "next": f"/attempts/{first}"})
    assert english.headers["location"] == f"/attempts/{first}"
    assert mistake("relu_derivative_missing", ASSIGNMENT, "en").title in alice.get(
        f"/attempts/{first}").text  # fmt: skip


def test_the_submission_time_is_the_servers_receipt_time(app, notebooks):
    alice = signed_in(app, "alice")
    before = now()
    attempt = attempt_id(submit(alice, notebooks["right"]))
    app.state.worker.grade_queued()
    stored = app.state.store.attempt(attempt)
    assert before <= stored["received_at"] <= now()
    assert stored["result"]["submitted_at"] == stored["received_at"].isoformat()
    assert stored["result"]["time_source"] == "server"
    latest = app.state.gradebook.latest_results(ASSIGNMENT)
    assert [r["submitted_at"] for r in latest] == [stored["received_at"].isoformat()]


def test_hidden_feedback_waits_for_the_release_when_asked(app, notebooks):
    store = app.state.store
    store.save_settings(AssignmentSettings(ASSIGNMENT, instant_feedback=False))
    alice = signed_in(app, "alice")
    attempt = attempt_id(submit(alice, notebooks["relu"]))
    app.state.worker.grade_queued()
    title = mistake("relu_derivative_missing", ASSIGNMENT, "fr").title
    hidden = alice.get(f"/attempts/{attempt}").text
    assert title not in hidden and "après la date limite" in hidden
    assert "/ 16" not in alice.get(f"/assignments/{ASSIGNMENT}").text  # no score either
    assert title in signed_in(app, "prof").get(f"/attempts/{attempt}").text
    deadline = now() - timedelta(minutes=1)  # the deadline passes: the hidden checks show
    store.save_settings(AssignmentSettings(ASSIGNMENT, deadline=deadline, instant_feedback=False))
    assert title in alice.get(f"/attempts/{attempt}").text
    store.save_settings(AssignmentSettings(ASSIGNMENT, instant_feedback=False, released=True))
    assert title in alice.get(f"/attempts/{attempt}").text


def test_the_server_never_runs_a_submission_itself(app, tmp_path):
    """A notebook that would leave a file if run anywhere but the sandbox: queued and
    shown, nothing happens; graded, its private /tmp dies with it."""
    marker = tmp_path / "ran"
    cell = f"open({str(marker)!r}, 'w').write('x')\nimport os\nos.system('touch {marker}2')"
    alice = signed_in(app, "alice")
    attempt = attempt_id(submit(alice, notebook_bytes(notebook_with([cell], ASSIGNMENT))))
    alice.get(f"/attempts/{attempt}")
    assert not marker.exists()
    app.state.worker.grade_queued()
    assert not marker.exists() and not (tmp_path / "ran2").exists()
    assert app.state.store.attempt(attempt)["state"] == "done"


def success_bars(client) -> str:
    """The class page's success per question."""
    page = client.get(f"/instructor/assignments/{ASSIGNMENT}").text
    return re.search(r'<ul class="bars">(.*?)</ul>', page, re.S).group(1)


def test_instructor_hand_grades_applies_late_policy_releases_and_exports(app, notebooks, project):
    store = app.state.store
    students = ["alice", "bob", "carol"]
    for login in students[2:]:
        store.add_user(login, "student", login.title(), f"{login}@example.org",
                       {"student_id": login, "email": f"{login}@example.org"})  # fmt: skip
    # Submitted on time by the server's clock, then the deadline moves before carol's.
    from autograder.web.security import hash_password

    store.set_password(store.user_by_login("carol").id, hash_password("carol-password"))
    from .test_web import PASSWORDS

    PASSWORDS["carol"] = "carol-password"
    try:
        for login in students:
            submit(signed_in(app, login), notebooks["right"])
    finally:
        del PASSWORDS["carol"]
    while app.state.worker.grade_queued():  # a few attempts at a time, as a lane takes them
        pass
    prof = signed_in(app, "prof")
    manual = sum(q.manual for q in load_assignment(ASSIGNMENT).questions)
    assert success_bars(prof).count("pas encore notée") == manual  # not "0 %"
    page = prof.get(f"/instructor/assignments/{ASSIGNMENT}/manual/q1")
    assert "Corrigé et barème" in page.text and "alice" in page.text
    for points, login in zip(("2", "1,5", "0.5"), students, strict=True):
        saved = post(prof, f"/instructor/assignments/{ASSIGNMENT}/manual/q1/save",
                     {"student": login, "points": points, "comment": f"<b>{login}</b>"},
                     headers={"Accept": "application/json"})  # fmt: skip
        assert saved.json() == {"saved": True}
        if login == "alice":  # bob and carol would get 0 on q1: asked first
            export = f"/instructor/assignments/{ASSIGNMENT}/export/gradescope"
            unfinished = prof.get(export)
            assert unfinished.status_code == 400
            assert "Correction à la main inachevée" in unfinished.text
            assert f'href="{export}?partial=1"' in unfinished.text
            anyway = prof.get(f"{export}?partial=1")
            assert anyway.status_code == 200, re.findall(r'role="alert">([^<]*)', anyway.text)
    for question in load_assignment(ASSIGNMENT).questions:  # the others graded by hand: 0
        if question.manual and question.name != "q1":
            app.state.gradebook.record_manual(ASSIGNMENT, question.name, question.points,
                                              [(login, 0, "") for login in students])  # fmt: skip
    bars = success_bars(prof)
    assert "pas encore notée" not in bars and "33 %" in bars  # alice alone has q1's 2 points
    refused = post(prof, f"/instructor/assignments/{ASSIGNMENT}/manual/q1/save",
                   {"student": "alice", "points": "3"})  # fmt: skip
    assert refused.status_code == 400  # above the question's 2 points
    bob_page = prof.get(f"/instructor/assignments/{ASSIGNMENT}/manual/q1?student=bob").text
    assert 'value="1,5"' in bob_page and "&lt;b&gt;bob&lt;/b&gt;" in bob_page

    deadline = now() - timedelta(hours=30)
    settings = {
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        "instant_feedback": "on",
        "lms_id": "4242",
    }
    assert post(prof, f"/instructor/assignments/{ASSIGNMENT}/settings", settings).status_code == 303
    late = {"percent": "10", "unit": "day", "cap": "50"}
    assert post(prof, f"/instructor/assignments/{ASSIGNMENT}/late", late).status_code == 303
    extension = {
        "student": "bob",
        "extension": (now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    assert post(prof, f"/instructor/assignments/{ASSIGNMENT}/late", extension).status_code == 303
    overview = prof.get(f"/instructor/assignments/{ASSIGNMENT}").text
    late = {login: re.search(rf"/students/{login}\">.*?</tr>", overview, re.S).group(0)
            for login in students}  # fmt: skip
    assert ["−20 %" in late[s] for s in students] == [True, False, True]

    alice = signed_in(app, "alice")
    attempt = store.attempts_of(store.user_by_login("alice").id)[0]["id"]
    before_release = alice.get(f"/attempts/{attempt}").text
    assert "&lt;b&gt;alice&lt;/b&gt;" not in before_release  # hand grades wait for release
    settings["released"] = "on"
    post(prof, f"/instructor/assignments/{ASSIGNMENT}/settings", settings)
    released = alice.get(f"/attempts/{attempt}").text
    assert "&lt;b&gt;alice&lt;/b&gt;" in released and "20" in released  # comment, 20 % late
    final = re.search(r'<span id="score">([^<]+)</span> / ([^<]+)</strong>', released).groups()
    shown = f"{final[0]} / {final[1]}"  # hand points and penalty: every list shows the same
    assert shown in alice.get("/assignments").text
    assert shown in alice.get(f"/assignments/{ASSIGNMENT}").text
    alice_page = prof.get(f"/instructor/assignments/{ASSIGNMENT}/students/alice").text
    assert shown in alice_page and "Déposé sur ce site (dépôt interne" in alice_page
    again = json.loads(notebooks["right"])  # the same answers, another notebook
    again["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "Second dépôt."})
    submit(alice, json.dumps(again).encode())  # a new attempt: the grade now comes from it
    app.state.worker.grade_queued()
    earlier = alice.get(f"/attempts/{attempt}").text
    assert "&lt;b&gt;alice&lt;/b&gt;" not in earlier and "pas celle qui est notée" in earlier

    canvas = prof.get(f"/instructor/assignments/{ASSIGNMENT}/export/canvas")
    assert canvas.status_code == 200 and canvas.headers["content-type"].startswith("text/csv")
    rows = {row[1]: row[-1] for row in csv.reader(io.StringIO(canvas.text)) if len(row) > 1}
    # autograded + hand points; alice and carol 2 started days late (-20 %), bob extended
    auto = sum(q.points for q in load_assignment(ASSIGNMENT).autograded)
    expected = [(auto + 2) * 0.8, auto + 1.5, (auto + 0.5) * 0.8]
    assert [rows[s] for s in students] == [f"{v:g}" for v in expected]
    assert "(4242)" in canvas.text.splitlines()[0]
    gradescope = prof.get(f"/instructor/assignments/{ASSIGNMENT}/export/gradescope")
    assert zipfile.ZipFile(io.BytesIO(gradescope.content)).namelist()


def test_an_lms_archive_is_graded_with_progress(app, notebooks, tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for student in ("dupont_12345_67890_backprop_miniconv.ipynb",
                        "martin_12346_67891_backprop_miniconv.ipynb"):  # fmt: skip
            zipped.writestr(student, notebooks["right"])
    prof = signed_in(app, "prof")
    bad_times = {"archive": ("canvas.zip", archive.getvalue(), "application/zip"),
                 "times": ("times.csv", b"student_id,submitted_at\n12345,yesterday\n", "text/csv")}  # fmt: skip
    refused = post(prof, f"/instructor/assignments/{ASSIGNMENT}/runs", files=bad_times)
    assert refused.status_code == 400 and not app.state.runs
    assert "« times.csv », ligne 2 : « yesterday » n&#39;est pas une date" in refused.text
    started = post(prof, f"/instructor/assignments/{ASSIGNMENT}/runs",
                   files={"archive": ("canvas.zip", archive.getvalue(), "application/zip")})  # fmt: skip
    assert started.status_code == 303
    (run,) = app.state.runs.values()
    deadline = datetime.now() + timedelta(seconds=120)
    while run.state == "running" and datetime.now() < deadline:
        progress = prof.get(f"/instructor/runs/{run.id}/status").json()
        assert progress["done"] <= (progress["total"] or 2)
        time.sleep(0.5)
    assert (run.state, run.done, run.total) == ("done", 2, 2), run.error
    overview = prof.get(f"/instructor/assignments/{ASSIGNMENT}").text
    assert "/students/12345" in overview and "/students/12346" in overview  # Canvas user ids
    assert "dupont" in overview  # the name the LMS gave
    student = prof.get(f"/instructor/assignments/{ASSIGNMENT}/students/12345").text
    assert "Retour de correction" in student  # the feedback page of the archived notebook
    answer = prof.get(f"/instructor/assignments/{ASSIGNMENT}/manual/q1?student=12345")
    assert answer.status_code == 200 and "12345" in answer.text  # read from the archive


def test_each_batch_draws_a_new_secret_seed(app, notebooks):
    """Values copied from one feedback page are worth nothing on the next attempt."""
    from sqlalchemy import select

    from autograder.gradebook import runs

    alice = signed_in(app, "alice")
    for _ in range(2):
        submit(alice, notebooks["relu"])
        app.state.worker.grade_queued()
    with app.state.gradebook.engine.connect() as connection:
        seeds = [row.settings["seed"] for row in connection.execute(select(runs))]
    assert len(seeds) == 2 and seeds[0] != seeds[1]


def test_the_instructor_regrades_the_latest_attempts(app, notebooks):
    alice = signed_in(app, "alice")
    for name in ("relu", "right"):  # one at a time: the next waits for the previous's grade
        submit(alice, notebooks[name])
        app.state.worker.grade_queued()
    prof = signed_in(app, "prof")
    response = post(prof, f"/instructor/assignments/{ASSIGNMENT}/regrade", follow_redirects=True)
    assert response.status_code == 200 and "1 dépôt(s)" in response.text
    assert [r.status_code for r in response.history] == [303]  # a reload queues nothing again
    assert app.state.store.queue_counts() == {"queued": 1, "done": 1}
    app.state.worker.grade_queued()
    latest = app.state.gradebook.latest_results(ASSIGNMENT)
    full_marks = sum(q.points for q in load_assignment(ASSIGNMENT).autograded)
    assert [(r["student_id"], r["score"]) for r in latest] == [("alice", full_marks)]


def test_with_a_scheduler_the_queue_is_graded_on_the_dask_cluster(app, config):
    from dataclasses import replace

    from autograder.executors import DaskExecutor, LocalExecutor
    from autograder.web.worker import GradingWorker

    assert isinstance(app.state.worker.executor, LocalExecutor)
    remote = GradingWorker(replace(config, scheduler="tcp://grid:8786"), app.state.store)
    assert isinstance(remote.executor, DaskExecutor)
    assert remote.executor.scheduler == "tcp://grid:8786"


def graded_archive(app, prof, archive: bytes, form: dict | None = None) -> None:
    """Start a grading run on an LMS archive from the class page and wait for its end."""
    before = set(app.state.runs)
    started = post(prof, f"/instructor/assignments/{ASSIGNMENT}/runs", form,
                   files={"archive": ("canvas.zip", archive, "application/zip")})  # fmt: skip
    assert started.status_code == 303
    (run,) = [r for key, r in app.state.runs.items() if key not in before]
    deadline = datetime.now() + timedelta(seconds=120)
    while run.state == "running" and datetime.now() < deadline:
        time.sleep(0.2)
    assert run.state == "done", run.error


def test_an_archive_without_times_keeps_the_known_penalties_and_holds_the_exports(app, notebooks):
    """Web attempts have the server's times; an LMS archive graded without its times has
    only file dates: its students are named, the others keep their penalty, and no
    export leaves until the instructor gives the times or vouches for the file dates."""
    submit(signed_in(app, "alice"), notebooks["right"])
    app.state.worker.grade_queued()
    prof = signed_in(app, "prof")
    post(prof, f"/instructor/assignments/{ASSIGNMENT}/settings",
         {"deadline": (now() - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M"),
          "instant_feedback": "on", "lms_id": "77"})  # fmt: skip
    post(prof, f"/instructor/assignments/{ASSIGNMENT}/late", {"percent": "10", "unit": "day"})
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("dupont_12345_67890_backprop_miniconv.ipynb", notebooks["right"])
    graded_archive(app, prof, archive.getvalue())
    overview = prof.get(f"/instructor/assignments/{ASSIGNMENT}").text
    late = {login: re.search(rf"/students/{login}\">.*?</tr>", overview, re.S).group(0)
            for login in ("alice", "12345")}  # fmt: skip
    assert "−20 %" in late["alice"]  # 30 hours late: two started days
    assert "heure inconnue" in late["12345"]
    assert "Pas d&#39;heure de dépôt pour 12345, alors que d&#39;autres en ont une" in overview
    refused = prof.get(f"/instructor/assignments/{ASSIGNMENT}/export/canvas")
    assert refused.status_code == 400 and "12345" in refused.text and "--" not in refused.text
    graded_archive(app, prof, archive.getvalue(), {"file_dates": "on"})
    overview = prof.get(f"/instructor/assignments/{ASSIGNMENT}").text
    assert "−20 %" in re.search(r"/students/12345\">.*?</tr>", overview, re.S).group(0)
    exported = prof.get(f"/instructor/assignments/{ASSIGNMENT}/export/canvas?partial=1")
    assert exported.status_code == 200 and "(77)" in exported.text.splitlines()[0]


def test_the_class_page_shows_a_student_excused_without_a_notebook(app, notebooks):
    """An instructor may excuse a student who sent nothing (``manual.excuse`` on the web's
    gradebook): the class page lists them as excused beside the graded students."""
    from autograder.manual import excuse

    alice = signed_in(app, "alice")
    attempt_id(submit(alice, notebooks["right"]))
    app.state.worker.grade_queued()
    excuse(ASSIGNMENT, "bob", app.state.gradebook, "certificat médical")
    page = signed_in(app, "prof").get(f"/instructor/assignments/{ASSIGNMENT}")
    assert page.status_code == 200
    bob = page.text.split(">bob<")[1].split("</tr>")[0]
    assert "dispensé·e" in bob, bob


def test_a_result_the_gradebook_refuses_fails_alone_and_the_queue_goes_on(
    app, notebooks, monkeypatch
):
    """One attempt whose result cannot be stored (any bug a submission finds there) is
    shown as an internal error; it must not send the batch back to the queue forever."""
    from autograder.gradebook import Gradebook

    record = Gradebook.record

    def refusing(self, run_id, *results):
        if any(r.student_id == "bob" and r.status != "error" for r in results):
            raise ValueError("this result cannot be stored")
        return record(self, run_id, *results)

    monkeypatch.setattr(Gradebook, "record", refusing)
    bob = attempt_id(submit(signed_in(app, "bob"), notebooks["right"]))
    alice_client = signed_in(app, "alice")
    alice = attempt_id(submit(alice_client, notebooks["right"]))
    assert app.state.worker.grade_queued() == 2
    assert alice_client.get(f"/attempts/{alice}/status").json()["state"] == "done"
    rows = {
        a["id"]: a for a in app.state.store.attempts_of(app.state.store.user_by_login("bob").id)
    }
    assert rows[bob]["state"] == "done" and rows[bob]["status"] == "error"
    assert app.state.worker.grade_queued() == 0  # nothing went back to the queue


def test_no_written_answer_breaks_or_stalls_the_hand_grading_page(app, project):
    """The renderer's own marks typed in an answer, LaTeX in an image's description, and
    an answer of thousands of table cells (rt18 #1, #2): the page answers, at once, with
    the answer cut and saying so; the instructor's j/k flow goes on past that student."""
    from autograder.manual import manual_question, template_answer
    from autograder.web.render import RENDERED_CHARS

    notebook = correct_notebook(project, ASSIGNMENT)
    invitation = template_answer(ASSIGNMENT, manual_question(ASSIGNMENT, "q1"))
    cell = next(c for c in notebook.cells if c.source.strip() == invitation)  # q1's
    table = "|a|b|\n|-|-|\n" + "|1|2|\n" * 40_000
    cell.source = f"voir \ue0007\ue001 et $x$ ![\ue0000\ue001 $y$](a.png)\n\n{table}"
    submit(signed_in(app, "alice"), notebook_bytes(notebook))
    app.state.worker.grade_queued()
    started = time.monotonic()
    page = signed_in(app, "prof").get(f"/instructor/assignments/{ASSIGNMENT}/manual/q1")
    assert page.status_code == 200 and time.monotonic() - started < 10
    assert 'voir 7 et <span class="math">$x$</span>' in page.text
    assert 'alt="0 $y$"' in page.text  # LaTeX as text in an attribute, never markup
    assert f"ses {RENDERED_CHARS} premiers caractères sur {len(cell.source)}" in page.text
    assert len(page.text) < 2_000_000
