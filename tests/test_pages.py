"""Feedback pages and the class report, opened in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from autograder.class_run import grade_class
from autograder.final_grade import load_class
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.pages import write_feedback, write_report
from autograder.sample_class import write_sample_class

from .conftest import FAST_LIMITS, notebook_with

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
PAYLOAD = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


def dump_dom(page: Path, width: int = 1280) -> str:
    """The DOM after Chromium has loaded the page (and run any script in it), in a window
    ``width`` pixels wide."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=3000",
             f"--window-size={width},900", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    return result.stdout


@pytest.fixture(scope="module")
def graded(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    write_sample_class(folder / "class", "backprop_miniconv", project, size=16)
    hostile = notebook_with(
        [f"raise ValueError({PAYLOAD!r})", "def forward(W, x):\n    return 0.0, {}"]
    )
    import nbformat

    nbformat.write(hostile, folder / "class" / "intrus.ipynb")
    grade_class("backprop_miniconv", [folder / "class"], folder / "graded",
                Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    write_feedback(folder / "graded")
    write_report(folder / "graded")
    return folder / "graded"


def test_one_feedback_page_per_student_in_html_and_markdown(graded):
    students = set(Gradebook.in_folder(graded).latest("backprop_miniconv")["student_id"])
    assert {p.stem for p in (graded / "feedback").glob("*.html")} == students
    assert {p.stem for p in (graded / "feedback").glob("*.md")} == students
    markdown = (graded / "feedback" / "bac001.md").read_text(encoding="utf-8")
    assert markdown.startswith("**Retour de correction")


@needs_chromium
def test_student_text_is_escaped_and_never_runs(graded):
    page = graded / "feedback" / "intrus.html"
    assert "&lt;script&gt;" in page.read_text(encoding="utf-8")
    dom = dump_dom(page)
    assert "<title>backprop_miniconv — intrus</title>" in dom
    assert "pwned" not in dom.split("</head>")[0]
    assert "<script>" not in dom and '<img src="x"' not in dom


@needs_chromium
def test_report_renders_its_plots_and_agrees_with_the_gradebook(graded, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(
        (graded / "report.html")
        .read_text(encoding="utf-8")
        .replace(
            "</body>",
            "<script>window.onload = () => { document.body.dataset.images = "
            "[...document.images].map(i => i.naturalWidth).join(','); };</script></body>",
        ),
        encoding="utf-8",
    )
    dom = dump_dom(probe)
    widths = re.search(r'data-images="([^"]*)"', dom).group(1).split(",")
    assert len(widths) == 2 and all(int(w) > 100 for w in widths)
    latest = Gradebook.in_folder(graded).latest("backprop_miniconv")
    number = lambda name: re.search(rf'id="{name}">([^<]+)<', dom).group(1)  # noqa: E731
    assert int(number("students")) == len(latest)
    assert float(number("mean")) == pytest.approx(latest["score"].mean(), abs=0.005)
    assert float(number("median")) == pytest.approx(latest["score"].median(), abs=0.005)
    for mistake in ("relu_derivative_missing", "error_sign"):
        assert mistake in dom
    incidents = set(latest[latest["status"] != "graded"]["student_id"])
    assert incidents == {"bac013"}  # the sample class's invalid notebook (bac014 loses a cell only)
    table = dom.split('id="incidents"')[1].split("</table>")[0]
    assert all(student in table for student in incidents)


@needs_chromium
@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("student", ["bac015", "bac003", "bac009"])  # right, one mistake, blank
def test_feedback_pages_fit_a_phone_and_a_desktop(graded, tmp_path, student, width):
    """Nothing sticks out sideways: long inputs and arrays wrap or are shortened. (Headless
    Chromium's window is at least 500 pixels wide: the page is laid out ``width`` wide.)"""
    probe = tmp_path / f"{student}.html"
    probe.write_text(
        (graded / "feedback" / f"{student}.html")
        .read_text(encoding="utf-8")
        .replace("</head>", f"<style>html {{ width: {width}px; }}</style></head>")
        .replace(
            "</body>",
            "<script>window.onload = () => { document.body.dataset.width = Math.max("
            "...[...document.body.querySelectorAll('*')].map(e => e.getBoundingClientRect()"
            ".right)); };</script></body>",
        ),
        encoding="utf-8",
    )
    dom = dump_dom(probe)
    assert float(re.search(r'data-width="([\d.]+)"', dom).group(1)) <= width
    assert "Retour de correction" in dom and "3 b. Passe arrière" in dom


def test_each_group_member_gets_the_group_page_under_their_own_id(tmp_path):
    """Canvas and Blackboard take a page per student: a member must find their page by
    their own id, with the group's grade and who shares it."""
    from autograder.submissions import Intake

    from .lms_layouts import notebook_bytes, write_tree

    submissions = write_tree(tmp_path / "class", {
        "alice.ipynb": notebook_bytes("def predict(w, x):\n    return w * x"),
        "carol.ipynb": notebook_bytes(),
    })  # fmt: skip
    groups = tmp_path / "groups.csv"
    groups.write_text("group,student_id\nG1,alice\nG1,bob\n", encoding="utf-8")
    graded = tmp_path / "graded"
    grade_class("sgd_batch_size", [submissions], graded, Settings(workers=1, limits=FAST_LIMITS),
                intake=Intake.read(groups=groups))  # fmt: skip
    write_feedback(graded)

    pages = {p.name for p in (graded / "feedback").glob("*.md")}
    assert {"alice.md", "bob.md", "carol.md"} <= pages
    group_page = next(p for p in pages if p.startswith("group_g1"))
    shared = (graded / "feedback" / group_page).read_text(encoding="utf-8")
    for member in ("alice", "bob"):
        page = (graded / "feedback" / f"{member}.md").read_text(encoding="utf-8")
        assert page == shared  # the same grade, feedback and note
        assert "Note du groupe G1, la même pour chacun de ses membres : alice, bob." in page
        html = (graded / "feedback" / f"{member}.html").read_text(encoding="utf-8")
        assert f"<strong>{member}</strong>" in html
    assert "groupe" not in (graded / "feedback" / "carol.md").read_text(encoding="utf-8")


def test_a_gradescope_group_s_page_names_every_member_and_no_group_by_a_student_s_id(tmp_path):
    """A Gradescope group has no name and is graded under its first submitter's id: the
    page must not call that id a group's name nor leave its owner out of the members
    (cycle 14, #13)."""
    from .lms_layouts import gradescope_export, notebook_bytes, write_zip

    export = write_zip(tmp_path / "export.zip", gradescope_export({
        1: ([("Karim Benali", "21001015", "k@u.fr"), ("Hugo Blanc", "21001014", "h@u.fr")],
            "2026-12-01 20:00:00.000000000 +0100", {"tp.ipynb": notebook_bytes()}),
        2: ([("Carol Roux", "21001013", "c@u.fr")],
            "2026-12-01 20:00:00.000000000 +0100", {"tp.ipynb": notebook_bytes("y = 2")}),
    }))  # fmt: skip
    graded = tmp_path / "graded"
    grade_class("sgd_batch_size", [export], graded, Settings(workers=1, limits=FAST_LIMITS))
    write_feedback(graded, lang="en")
    for member in ("21001014", "21001015"):
        page = (graded / "feedback" / f"{member}.md").read_text(encoding="utf-8")
        assert (
            "The grade of a group submission, the same for each of its members: "
            "21001014, 21001015." in page
        )
        assert "group 21001015" not in page
    assert "group" not in (graded / "feedback" / "21001013.md").read_text(encoding="utf-8")
    write_feedback(graded)
    page = (graded / "feedback" / "21001014.md").read_text(encoding="utf-8")
    assert (
        "Note d'un rendu de groupe, la même pour chacun de ses membres : 21001014, 21001015."
        in page
    )


def test_an_index_maps_every_student_to_files_their_id_does_not_name(tmp_path):
    """An email, a group or an accented name is no file name as it is: the pages and the
    results get safe names, and an index in each folder says whose each file is, a
    group's members included (cycle 14, #14)."""
    import csv

    from autograder.class_run import result_path

    graded = _graded_with_group_g1(tmp_path, "Zoé")
    write_feedback(graded)

    def index(folder: Path) -> dict[str, dict[str, str]]:
        with open(folder / "index.csv", encoding="utf-8", newline="") as file:
            return {row["student_id"]: row for row in csv.DictReader(file)}

    results = index(graded / "results")
    group_file = result_path(graded, "group:G1").name
    assert group_file != "group:G1.json" and (graded / "results" / group_file).is_file()
    assert {s: (r["graded_as"], r["file"]) for s, r in results.items()} == {
        "group:G1": ("", group_file),
        "alice": ("group:G1", group_file),
        "bob": ("group:G1", group_file),
        "Zoé": ("", result_path(graded, "Zoé").name),
    }
    assert (graded / "results" / results["Zoé"]["file"]).is_file()
    pages = index(graded / "feedback")
    assert set(pages) == {"group:G1", "alice", "bob", "Zoé"}
    assert pages["bob"]["graded_as"] == "group:G1" and pages["bob"]["html"] == "bob.html"
    for row in pages.values():
        assert (graded / "feedback" / row["html"]).is_file()
        assert (graded / "feedback" / row["markdown"]).is_file()
    assert "Zoé" not in pages["Zoé"]["html"]  # a safe name, found through the index


def test_the_report_counts_students_not_submissions(tmp_path):
    """A group's grade reaches each member: the report's count of students is the people
    (alice, bob and carol), not the two submissions (cycle 14, #16)."""

    graded = _graded_with_group_g1(tmp_path, "carol")
    report = write_report(graded).read_text(encoding="utf-8")
    assert '<td class="num" id="students">3</td>' in report


def _graded_with_group_g1(tmp_path: Path, other: str) -> Path:
    """A class of alice (whose group G1 also holds bob, who sent nothing) and ``other``."""
    from autograder.submissions import Intake

    from .lms_layouts import notebook_bytes, write_tree

    submissions = write_tree(tmp_path / "class", {
        "alice.ipynb": notebook_bytes(), f"{other}.ipynb": notebook_bytes("y = 2"),
    })  # fmt: skip
    groups = tmp_path / "groups.csv"
    groups.write_text("group,student_id\nG1,alice\nG1,bob\n", encoding="utf-8")
    graded = tmp_path / "graded"
    grade_class("sgd_batch_size", [submissions], graded, Settings(workers=1, limits=FAST_LIMITS),
                intake=Intake.read(groups=groups))  # fmt: skip
    return graded


def test_the_report_counts_each_question_as_the_grades_do(graded, tmp_path):
    """Per question: points given on appeal replace the autograded ones, and a question
    graded by hand has its row, over the students graded so far (cycle 17, #16)."""
    copy = tmp_path / "graded"
    shutil.copytree(graded, copy)
    book = Gradebook.in_folder(copy)
    assignment = "backprop_miniconv"
    hand, top = next(iter(book.hand_graded(assignment).items()))
    book.record_manual(assignment, hand, top, [("bac001", top, ""), ("bac002", top / 2, "")])
    results = load_class(copy).results
    question = next(iter(results[0]["questions"]))
    scores = {r["student_id"]: r["questions"][question]["score"] for r in results}
    most = results[0]["questions"][question]["max_score"]
    worst = min(scores, key=scores.get)
    first = _question_rates(write_report(copy))
    book.record_overrides(assignment, [(worst, question, most, "appel")])
    second = _question_rates(write_report(copy))

    assert first[0][2] == f"{sum(scores.values()) / len(scores):.2f} / {most:g}"
    scores[worst] = most
    assert second[0][2] == f"{sum(scores.values()) / len(scores):.2f} / {most:g}"
    by_hand = [row for row in first if f"— 2 copies corrigées sur {len(results)}" in row[0]]
    assert [row[1:] for row in by_hand] == [["50 %", f"{0.75 * top:.2f} / {top:g}"]]


def _question_rates(report: Path) -> list[list[str]]:
    """The report's per-question table: each row's cells, as text."""
    table = report.read_text(encoding="utf-8").split('id="question-rates"')[1].split("</table>")[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in table.split("<tr>")[2:]]
    return [[re.sub(r"<[^>]+>", "", cell) for cell in row] for row in rows]
