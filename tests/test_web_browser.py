"""dlgrade serve as people use it: Debian's Chromium, driven by Playwright, against a real
server (uvicorn, the background grading worker, the sandbox)."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from autograder.assignment import load_assignment
from autograder.feedback import mistake
from autograder.web.store import now

from .conftest import correct_notebook
from .test_web import (  # noqa: F401  (fixtures)
    ASSIGNMENT,
    PASSWORDS,
    app_fixture,
    config_fixture,
    notebook_bytes,
)
from .test_web_grading import RELU

playwright = pytest.importorskip("playwright.sync_api")

FULL_MARKS = sum(q.points for q in load_assignment(ASSIGNMENT).autograded)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


@pytest.fixture
def server(app) -> Iterator[str]:
    """The application on a free local port, grading in the background."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    app.state.worker.start()
    while not instance.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=60)


@pytest.fixture
def browser() -> Iterator:
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def sign_in(browser, base: str, login: str, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORDS[login])
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/(assignments|instructor)$"))
    return page


def upload(page, base: str, notebook: bytes, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(notebook)
    page.goto(f"{base}/assignments/{ASSIGNMENT}")
    page.set_input_files("input[name=notebook]", str(path))
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/attempts/\d+$"))


def test_a_student_submits_reads_the_mistake_and_resubmits(server, browser, project, tmp_path):
    page = sign_in(browser, server, "alice", width=390)  # on a phone
    page.click(f"a[href='/assignments/{ASSIGNMENT}']")
    with page.expect_download() as download:
        page.click(f"a[href='/assignments/{ASSIGNMENT}/template']")
    assert download.value.suggested_filename == f"{ASSIGNMENT}.ipynb"
    upload(page, server, notebook_bytes(correct_notebook(project, ASSIGNMENT, RELU)), tmp_path,
           "mine.ipynb")  # fmt: skip
    first = page.url
    title = mistake("relu_derivative_missing", ASSIGNMENT, "fr").title
    page.wait_for_selector(f"text={title}", timeout=90_000)  # polled, then reloaded
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    upload(page, server, notebook_bytes(correct_notebook(project, ASSIGNMENT)), tmp_path,
           "fixed.ipynb")  # fmt: skip
    page.wait_for_selector("#score", timeout=90_000)
    assert page.inner_text("#score") == f"{FULL_MARKS:g}"
    page.goto(f"{server}/assignments/{ASSIGNMENT}")
    assert page.locator("table tbody tr").count() == 2

    other = sign_in(browser, server, "bob")
    response = other.goto(first)
    assert response.status == 404 and title not in other.content()


def test_an_instructor_hand_grades_sets_a_late_policy_releases_and_exports(
    app, server, browser, project, tmp_path
):
    notebook = notebook_bytes(correct_notebook(project, ASSIGNMENT))
    store = app.state.store
    store.add_user("carol", "student", "Carol")
    for login in ("alice", "bob", "carol"):
        store.add_attempt(store.user_by_login(login).id, ASSIGNMENT, "nb.ipynb", notebook, now())
    app.state.worker.notify()
    deadline = time.monotonic() + 120
    while store.queue_counts().get("done", 0) < 3 and time.monotonic() < deadline:
        time.sleep(0.3)

    page = sign_in(browser, server, "prof")
    page.goto(f"{server}/instructor/assignments/{ASSIGNMENT}/manual/q1")
    for points in ("2", "1.5", "0.5"):  # alice, bob, carol: typed, saved with Ctrl+Enter
        student = page.inner_text("h2")
        page.fill("input[name=points]", points)
        page.fill("textarea[name=comment]", f"Bien vu ({points})")
        page.keyboard.press("Control+Enter")
        if points != "0.5":
            playwright.expect(page.locator("h2")).not_to_have_text(student)
        else:
            page.wait_for_selector("#save-state.ok")
    hand = app.state.gradebook.manual(ASSIGNMENT)
    assert sorted(zip(hand["student_id"], hand["points"], strict=True)) == [
        ("alice", 2.0), ("bob", 1.5), ("carol", 0.5)]  # fmt: skip
    page.locator("body").click(position={"x": 5, "y": 5})  # out of the fields
    page.keyboard.press("k")  # back to bob
    playwright.expect(page.locator("h2")).to_contain_text("bob")
    assert page.input_value("input[name=points]") == "1,5"
    outside = {"x": 5, "y": 5}
    page.fill("input[name=points]", "5")  # above q1's 2 points: said, kept, not left
    playwright.expect(page.locator("#save-state")).to_have_text("modifié, pas encore enregistré")
    page.locator("body").click(position=outside)
    playwright.expect(page.locator("#save-state.ko")).to_have_text(
        "non enregistré : entre 0 et 2 points"
    )
    page.locator("body").click(position=outside)
    page.keyboard.press("j")
    page.wait_for_timeout(300)
    playwright.expect(page.locator("h2")).to_contain_text("bob")
    page.fill("input[name=points]", "1,75")  # a French decimal comma
    page.keyboard.press("Control+Enter")
    playwright.expect(page.locator("h2")).to_contain_text("carol")
    hand = app.state.gradebook.manual(ASSIGNMENT)
    assert dict(zip(hand["student_id"], hand["points"], strict=True))["bob"] == 1.75

    page.goto(f"{server}/instructor/assignments/{ASSIGNMENT}")
    deadline = (now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    page.fill("input[name=deadline]", deadline)
    page.fill("input[name=closes_at]", (now() - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"))
    page.click("#settings ~ form button[type=submit]")
    page.wait_for_load_state()  # refused: the reason beside the form, focused, dates kept
    assert page.evaluate("document.activeElement.id") == "form-error"
    assert page.input_value("input[name=deadline]") == deadline
    page.fill("input[name=closes_at]", "")
    page.fill("input[name=lms_id]", "777")
    page.check("input[name=released]")
    page.click("#settings ~ form button[type=submit]")
    page.wait_for_url(re.compile(r"saved=1"))
    page.fill("input[name=percent]", "10")
    page.click("#late ~ form button[type=submit]")
    page.wait_for_url(re.compile(r"saved=late"))
    assert "10 % de pénalité par jour commencé" in page.locator("p.flash.ok").inner_text()
    page.click("#class-table th:has-text('Total')")  # sortable
    assert page.locator("#class-table tbody tr").count() == 3
    for question in load_assignment(ASSIGNMENT).questions:  # the others by hand: 0 each
        if question.manual and question.name != "q1":
            app.state.gradebook.record_manual(ASSIGNMENT, question.name, question.points,
                                              [(s, 0, "") for s in ("alice", "bob", "carol")])  # fmt: skip
    with page.expect_download() as download:
        page.click("a[href$='/export/canvas']")
    canvas = Path(download.value.path()).read_text(encoding="utf-8")
    late = (FULL_MARKS + 2) * 0.9  # hand graded 2, then 10 % late
    assert "(777)" in canvas and f",alice,,,,{late:g}" in canvas

    archive = tmp_path / "canvas.zip"  # an LMS bulk download, graded with live progress
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("dupont_12345_67890_backprop_miniconv.ipynb", notebook)
    times = tmp_path / "times.csv"
    times.write_text(f"student_id,submitted_at\n12345,{now():%Y-%m-%dT%H:%M}\n", "utf-8")
    page.set_input_files("input[name=archive]", str(archive))
    page.set_input_files("input[name=times]", str(times))
    page.click("#runs ~ form.card button[type=submit]")
    playwright.expect(page.locator("#runs ~ p.status")).to_contain_text(
        "Correction terminée : 1", timeout=90_000
    )
    assert page.locator("#class-table tbody tr").count() == 4

    student = sign_in(browser, server, "alice")
    attempt = store.attempts_of(store.user_by_login("alice").id)[0]["id"]
    student.goto(f"{server}/attempts/{attempt}")
    assert "Bien vu (2)" in student.content()
    assert student.inner_text("#score") == f"{late:g}".replace(".", ",")


def test_no_formula_in_an_answer_pushes_the_grading_form_out_of_reach(
    app, server, browser, project
):
    """\\rule of 100,000 em in a written answer (rt19 #4): KaTeX caps what a student's
    formula may size, and the points field stays on the first screen."""
    from autograder.manual import manual_question, template_answer

    from .test_web_grading import signed_in, submit

    notebook = correct_notebook(project, ASSIGNMENT)
    invitation = template_answer(ASSIGNMENT, manual_question(ASSIGNMENT, "q1"))
    cell = next(c for c in notebook.cells if c.source.strip() == invitation)
    cell.source = "Voir $$\\rule{100000em}{100000em}$$ et $\\rule{5000em}{2em}$."
    submit(signed_in(app, "alice"), notebook_bytes(notebook))
    app.state.worker.grade_queued()
    page = sign_in(browser, server, "prof")
    page.goto(f"{server}/instructor/assignments/{ASSIGNMENT}/manual/q1")
    page.wait_for_selector(".math.drawn")
    top = page.evaluate("document.querySelector('input[name=points]').getBoundingClientRect().top")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert top < 2000 and width <= 1280, (top, width)  # no scrolling sideways either
