"""Feedback pages organised like the notebook, in the language asked at display time:
titles from the master, the named mistake once per question, hand-graded points and
comments, no word of the other language, old results still shown, reveal levels."""

from __future__ import annotations

import csv
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from autograder.assignment import load_assignment
from autograder.class_run import grade_class, write_result
from autograder.feedback import load_settings, question_title
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.judging import code
from autograder.manual import export_question, import_scores
from autograder.messages import PAGE_LABELS, localized
from autograder.pages import write_feedback
from autograder.results import SubmissionResult
from autograder.results import TestResult as CheckResult  # not collected as a test class
from autograder.sample_class import fill_template, master_answers, write_sample_class

from .conftest import ASSIGNMENTS, FAST_LIMITS
from .test_feedback_findings import foreign_words

COMMENT = "Bonne idée, mais <b>aucune</b> comparaison avec w = 2 ![x](http://evil.example/t.png)"


class _Visible(HTMLParser):
    """The text a reader sees, without code (the same in every language)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("code", "style", "title", "script")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("code", "style", "title", "script")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _two_mistakes(project, assignment: str) -> nbformat.NotebookNode:
    """A notebook with the first two typical mistakes of the assignment at once."""
    from autograder.sample_class import reference_source

    first, second = code(assignment).samples[:2]
    source = reference_source(assignment, project, first)
    if source.count(second.old) == 1:
        source = source.replace(second.old, second.new)
    template = nbformat.read(project.template(assignment), as_version=4)
    return fill_template(template, source, master_answers(assignment, project))


@pytest.fixture(scope="module")
def graded(project, tmp_path_factory) -> dict[str, Path]:
    """Each assignment's sample class (correct, one mistake, blank, broken notebooks) and a
    two-mistakes notebook, graded in French; sgd_batch_size's last question graded by hand."""
    root = tmp_path_factory.mktemp("feedback_pages")
    folders = {}
    for assignment in ASSIGNMENTS:
        submissions = root / assignment
        write_sample_class(submissions, assignment, project, size=15)
        nbformat.write(_two_mistakes(project, assignment), submissions / "many.ipynb")
        folders[assignment] = root / f"{assignment}-graded"
        grade_class(assignment, [submissions], folders[assignment],
                    Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    out = root / "manual"
    _, table = export_question("sgd_batch_size", "q4_conclusion", [root / "sgd_batch_size"], out)
    with table.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        if row["student_id"] == "sgd001":
            row.update(points="2,5", comment=COMMENT)
    with table.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    gradebook = Gradebook.of_graded(folders["sgd_batch_size"])
    import_scores("sgd_batch_size", "q4_conclusion", table, gradebook)
    gradebook.close()
    return folders


def page(folder: Path, student: str, lang: str, suffix: str = "html", **options) -> str:
    write_feedback(folder, lang, **options)
    return (folder / "feedback" / f"{student}.{suffix}").read_text(encoding="utf-8")


def stored(folder: Path, student: str) -> dict:
    return json.loads((folder / "results" / f"{student}.json").read_text(encoding="utf-8"))


def _student_texts(result: dict) -> list[str]:
    """Texts the student's code produced (Python's error messages, the first lines of the
    cells they name): in no catalogue."""
    errors = result.get("cell_errors") or []
    found = [e.get(key) or "" for e in errors for key in ("error", "start")]

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in ("error", "start") and isinstance(inner, str):
                    found.append(inner)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(result.get("tests"))
    walk(result.get("status_message"))
    return sorted(set(found), key=len, reverse=True)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_page_holds_a_word_of_the_other_language(graded, assignment, lang):
    folder = graded[assignment]
    write_feedback(folder, lang)
    for path in sorted((folder / "feedback").glob("*.html")):
        text = visible(path.read_text(encoding="utf-8"))
        for produced in [COMMENT, path.stem, *_student_texts(stored(folder, path.stem))]:
            for shown in (produced, localized(produced, lang)):
                text = text.replace(re.sub(r"\s+", " ", shown), " ")
        text = re.sub(r"\(Expecting value: line \d+ column \d+ \(char \d+\)\)", " ", text)  # json's
        assert not foreign_words(text, lang), (path.name, foreign_words(text, lang), text)


def test_the_same_stored_result_renders_in_both_languages(graded):
    folder = graded["backprop_miniconv"]
    result = stored(folder, "bac003")  # error_sign, graded in French
    failed = [t for t in result["tests"] if not t["passed"]]
    assert failed and all(t["messages"] for t in failed)
    assert "attendu" in failed[0]["feedback"]  # rendered when graded, for the engines
    french = visible(page(folder, "bac003", "fr"))
    english = visible(page(folder, "bac003", "en"))
    assert "Signe inversé dans le gradient" in french and "attendu" in french
    assert "Sign flipped in the gradient" in english and "expected" in english
    assert "attendu" not in english and "expected" not in french
    assert "Retour de correction" in page(folder, "bac003", "fr", "md")
    assert "Grading feedback" in page(folder, "bac003", "en", "md")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_questions_are_titled_and_ordered_as_in_the_master(graded, assignment):
    folder = graded[assignment]
    master = load_assignment(assignment)
    student = f"{assignment[:3]}001"
    for lang in ("fr", "en"):
        text = visible(page(folder, student, lang))
        text = text[text.index(PAGE_LABELS[lang]["questions"]) :]  # the list of questions
        settings = load_settings(master.master)
        titles = [question_title(q, lang, settings) for q in master.autograded]
        positions = [text.find(title) for title in titles]
        assert -1 not in positions and positions == sorted(positions), (titles, text)
        internal = {q.name for q in master.questions} | {c.id for c in master.autograded
                                                         for c in c.checks}  # fmt: skip
        assert not {name for name in internal if re.search(rf"\b{name}\b", text)}, text


def test_the_named_mistake_comes_first_and_once_per_question(graded):
    folder = graded["mlp_softmax"]
    result = stored(folder, "mlp003")  # missing_batch_mean: five checks of one question
    named = [t for t in result["tests"] if t["misconception"] == "missing_batch_mean"]
    assert len(named) >= 4 and len({t["question"] for t in named}) == 1
    text = visible(page(folder, "mlp003", "fr"))
    explanation = "il manque le facteur 1/n"
    assert text.count(explanation) == 1 and text.count("Gradients non divisés par n") == 1
    section = text[text.index("Passe arrière") :]
    assert section.index(explanation) < section.index("∂L/∂Wh est faux")
    assert "valent 7 fois les valeurs attendues" in section  # a batch of 7: the missing 1/n


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_lines_read_as_sentences(graded, assignment):
    folder = graded[assignment]
    for lang in ("fr", "en"):
        write_feedback(folder, lang)
        for path in (folder / "feedback").glob("*.html"):
            text = visible(path.read_text(encoding="utf-8"))
            assert not re.search(r"\b1 points\b|\(1 points\)", text), text
            assert not re.search(r"n_b = \d\[\d\]|\)\[\d\]|(?<!\w)\[\d\] (est|is)", text), text
            assert "<tableau" not in text or lang == "fr"


def test_a_long_array_is_shortened_to_what_differs(graded):
    folder = graded["mlp_softmax"]
    html = page(folder, "mlp003", "en")
    text = visible(html)
    assert re.search(r"∂L/∂Wh is wrong: \d+ of its 15 values differ", text)
    assert re.search(r"∂L/∂Wh\[\d, \d\]: expected", text) and "more" in text
    assert "(shape (5, 3))" not in text  # no 12 first values of a 15-value array


def test_hand_graded_points_and_comments_appear_with_their_question(graded):
    folder = graded["sgd_batch_size"]
    html = page(folder, "sgd001", "fr")
    text = visible(html)
    auto = stored(folder, "sgd001")["score"]
    assert f"Note : {auto + 2.5:g} / 11".replace(".", ",") in text
    section = text[text.index("Question 4") :]
    assert section.startswith("Question 4 2,5 / 3 points · corrigée à la main")
    assert "Commentaire du correcteur" in section and "<b>aucune</b> comparaison" in section
    assert "&lt;b&gt;aucune&lt;/b&gt;" in html and "<b>aucune</b>" not in html
    english = visible(page(folder, "sgd001", "en"))
    assert "2.5 / 3 points · graded by hand" in english and "Grader's comment" in english
    other = visible(page(folder, "sgd002", "fr"))  # graded by hand for the class, not for it
    assert "Pas encore notées : Question 4." in other and "0 / 3 points" not in other
    markdown = page(folder, "sgd001", "fr", "md")
    assert "evil.example" in markdown and "<b>" not in markdown
    assert not re.search(r"(?<!\\)\](?=\()", markdown)  # no link: every "]" escaped


def test_questions_not_graded_by_hand_yet_are_listed_once(graded):
    text = visible(page(graded["mlp_softmax"], "mlp015", "en"))
    assert "Not graded yet: Questions 1 to 15." in text
    assert "Every hidden test passes." in text and "Score: 17 / 39" in text  # 22 by hand


def test_old_results_still_render(graded, tmp_path):
    """A gradebook written before findings were stored as data: the texts rendered at
    grading time are shown, the page still follows the notebook."""
    source = graded["mlp_softmax"]
    folder = tmp_path / "old"
    (folder / "results").mkdir(parents=True)
    gradebook = Gradebook.in_folder(folder)
    run = gradebook.start_run("mlp_softmax", "old", {})
    for path in sorted((source / "results").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("status_message")
        data["questions"] = {q: (v["score"], v["max_score"]) for q, v in data["questions"].items()}
        data["tests"] = [
            CheckResult(**{k: v for k, v in t.items() if k != "messages"}) for t in data["tests"]
        ]
        result = SubmissionResult(**data)
        gradebook.record(run, result)
        write_result(folder, result)
    gradebook.close()
    stored_result = stored(folder, "mlp003")
    assert stored_result["status_message"] is None and not stored_result["tests"][8]["messages"]
    text = visible(page(folder, "mlp003", "en"))  # graded in French: shown as stored
    assert "Backward pass" in text and "Gradients not divided by n" in text
    assert "∂L/∂Wh est faux" in text and "Notebook exécuté et corrigé." in text
    assert text.count("Known mistake (") == 0 and text.count("Erreur reconnue (") == 0


def test_hints_say_where_without_the_values(graded, tmp_path):
    folder = tmp_path / "hints"
    shutil.copytree(graded["backprop_miniconv"], folder)
    text = visible(page(folder, "bac003", "fr", reveal="hints"))
    assert "∂ℓ/∂w1 est faux." in text and "Entrée" in text
    assert not re.search(r"attendu [-\d\[]", text) and "obtenu" not in text
    assert "sans donner les valeurs attendues" in text


def test_exports_speak_the_language_asked(graded):
    from autograder.final_grade import load_class
    from autograder.lms_export import feedback_markdown, gradescope_results

    result = stored(graded["backprop_miniconv"], "bac003")  # graded in French
    gradescope = gradescope_results(result, "en")
    names = [t["name"] for t in gradescope["tests"]]
    assert "3 b. Backward pass (1/6)" in names and not any("backward_" in n for n in names)
    failed = [t["output"] for t in gradescope["tests"] if t["status"] == "failed"]
    named = [o for o, t in zip(failed, [t for t in result["tests"] if not t["passed"]],
                               strict=True) if t["misconception"] == "error_sign"]  # fmt: skip
    assert named and all(o.startswith("Sign flipped in the gradient.") for o in named)
    assert gradescope["output"].startswith("Notebook graded")
    for text in [gradescope["output"], *failed]:
        for produced in _student_texts(result):
            text = text.replace(produced, " ")
        assert not foreign_words(text, "en"), text
    graded_class = load_class(graded["backprop_miniconv"])
    moodle = feedback_markdown(graded_class, "bac003", "en")
    assert "3 b. Backward pass" in moodle and "Sign flipped in the gradient." in moodle
    assert "Passe arrière" in feedback_markdown(graded_class, "bac003", "fr")
