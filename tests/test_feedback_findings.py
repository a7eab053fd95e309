"""Findings stored as data and rendered when shown: both languages from one stored result,
every label from the catalogues, long arrays shortened to what differs, reveal levels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from autograder import messages as messages_module
from autograder.assignment import load_assignment
from autograder.execution.plan import Answer
from autograder.feedback import (
    check_finding,
    component_label,
    differences,
    finding,
    finding_parts,
    joined_titles,
    load_settings,
    question_title,
    short_call,
)
from autograder.judging import checks_for, code, judge, reference_answers
from autograder.messages import (
    DIFFERENCES,
    FROZEN_FRENCH,
    HINTS,
    PAGE_LABELS,
    SINGULAR,
    TEMPLATES,
    Message,
    Shown,
    Translated,
    from_data,
    points_text,
    render,
    show,
    to_data,
)
from autograder.results import normalized

from .conftest import ASSIGNMENTS
from .test_gaming_common import verdicts, with_reference

# --- the catalogues' words ---------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_WORD = re.compile(r"[^\W\d_]+")


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(_PLACEHOLDER.sub(" ", text))}


def _catalogue_texts(lang: str) -> list[str]:
    texts = [t[lang] for table in (TEMPLATES, HINTS, SINGULAR, DIFFERENCES)
             for t in table.values() if lang in t]  # fmt: skip
    texts += list(PAGE_LABELS[lang].values())
    texts += [
        t[lang]
        for a in ASSIGNMENTS
        for m in code(a).mistakes.values()
        for t in (m.title, m.explanation)
    ]
    if lang == "fr":  # the texts frozen in findings, and the master's titles
        texts += [pattern.pattern for pattern, _ in FROZEN_FRENCH]
    else:
        texts += [english for _, english in FROZEN_FRENCH]
    for name in ASSIGNMENTS:
        assignment = load_assignment(name)
        settings = load_settings(assignment.master)
        texts += [question_title(q, lang, settings) for q in assignment.questions]
    return texts


def _identifiers() -> set[str]:
    """Words of code (function, argument and key names), the same in both languages."""
    found: set[str] = set()
    for name in ASSIGNMENTS:
        for check in checks_for(name).values():
            for call in check.calls:
                found |= words(call.function.replace("_", " "))
                found |= words(" ".join(call.kwargs).replace("_", " "))
    return found | {"tanh", "relu", "cache", "history", "losses", "params", "acc", "rng"}


def only_in(lang: str) -> set[str]:
    """Words of the ``lang`` catalogue that the other language's catalogue never uses."""
    other = "en" if lang == "fr" else "fr"
    mine = set().union(*(words(t) for t in _catalogue_texts(lang)))
    theirs = set().union(*(words(t) for t in _catalogue_texts(other)))
    return {w for w in mine - theirs - _identifiers() if len(w) >= 3}


def foreign_words(text: str, lang: str) -> set[str]:
    """The words of ``text`` that belong to the other language's catalogue only (code in
    backticks left out: it is the same in both languages)."""
    return words(re.sub(r"`[^`]*`", " ", text)) & only_in("en" if lang == "fr" else "fr")


def prose(found) -> str:
    """What a finding says in words: its input, a call, is code."""
    return " ".join([found.text, *found.details, found.note])


def test_the_catalogues_tell_the_languages_apart():
    assert {"attendu", "obtenu", "faux", "erreur"} <= only_in("fr")
    assert {"expected", "wrong", "got", "mistake"} <= only_in("en")


# --- one stored finding, two languages ----------------------------------------------------


def _flipped(value):
    """A wrong answer of the same shape: numbers scaled and shifted, decisions flipped."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 1.5 + 0.1
    if isinstance(value, np.ndarray):
        return value * 1.5 + 0.1
    if isinstance(value, tuple):
        return tuple(_flipped(v) for v in value)
    if isinstance(value, list):
        return [_flipped(v) for v in value]
    if isinstance(value, dict):
        return {k: _flipped(v) for k, v in value.items()}
    return value


def _stored(verdict) -> list[dict]:
    """The verdict as a result stores it, through JSON (results/*.json, the gradebook)."""
    return json.loads(json.dumps(list(finding(verdict))))


def test_one_stored_finding_renders_in_french_and_in_english():
    answers = dict(reference_answers("backprop_miniconv"))
    for key in [k for k in answers if k.startswith("backward/")]:
        answers[key] = Answer(-answers[key].value)
    verdict = judge("backprop_miniconv", "backward_dv1", answers)
    test = {"messages": _stored(verdict), "misconception": verdict.misconception, "feedback": ""}
    french, english = (check_finding(test, lang, "values") for lang in ("fr", "en"))
    assert "attendu" in french.text and "Entrée" in french.plain("fr")
    assert "expected" in english.text and "Input" in english.plain("en")
    assert not foreign_words(prose(french), "fr") and not foreign_words(prose(english), "en")
    french, english = french.plain("fr"), english.plain("en")
    assert french.split(" ")[0] == english.split(" ")[0] == "∂ℓ/∂v1"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_check_speaks_one_language_at_a_time(assignment):
    """Each check fails on wrong answers; what it says, stored then rendered, holds no word
    of the other language's catalogue (the labels the checks write are translated too)."""
    reference = reference_answers(assignment)
    wrong = {key: Answer(_flipped(answer.value)) for key, answer in reference.items()}
    failed = 0
    for check_id in checks_for(assignment):
        verdict = judge(assignment, check_id, wrong)
        if verdict.passed:
            continue
        failed += 1
        test = {"messages": _stored(verdict), "feedback": ""}
        for lang in ("fr", "en"):
            for reveal in ("hints", "values"):
                found = check_finding(test, lang, reveal)
                text = prose(found)
                assert text and not foreign_words(text, lang), (check_id, lang, text)
                assert not foreign_words(found.plain(lang).replace(found.input, ""), lang)
                assert "[0]" not in text and "[1]" not in text, text  # no "n_b = 1[0]"
    assert failed >= len(checks_for(assignment)) // 2


def test_hints_say_what_and_where_but_not_the_values():
    message = Message(
        "wrong_value",
        {"component": "∂L/∂Wh", "expected": show(np.arange(4.0)), "obtained": show(np.ones(4)),
         "gap": "2"},
    )  # fmt: skip
    on_input = Message("on_input", {"input": "backward(W, x, y)"})
    hint = finding_parts([message, on_input], "fr", "hints").plain("fr")
    assert hint == "∂L/∂Wh est faux. Entrée : backward(W, x, y)."
    values = finding_parts([message, on_input], "en", "values").plain("en")
    assert "expected [0., 1., 2., 3.]" in values and "got [1., 1., 1., 1.]" in values


def test_a_message_that_reveals_values_has_a_hint_form():
    revealing = {
        key for key, texts in TEMPLATES.items() if "{expected}" in texts["fr"] and "{obtained}"
        in texts["fr"] and not key.startswith(("wrong_kind", "wrong_shape"))
    }  # fmt: skip
    assert revealing - set(HINTS) == set()


# --- stored as data ------------------------------------------------------------------------


def test_messages_survive_json_with_their_values():
    array = np.arange(6.0).reshape(2, 3)
    message = Message(
        "not_run",
        {
            "reason": Message(
                "status_invalid", {"reason": Translated({"fr": "cassé", "en": "broken"})}
            )
        },
    )
    back = from_data(json.loads(json.dumps(to_data(message))))
    assert render(back, "fr").endswith("cassé.") and render(back, "en").endswith("broken.")
    shown = from_data(json.loads(json.dumps(to_data(Message("wrong_value", {
        "component": "W", "expected": show(array), "obtained": show(float("nan")), "gap": "1"})))))  # fmt: skip
    assert isinstance(shown.params["expected"], Shown)
    assert np.array_equal(shown.params["expected"].value, array)
    assert np.isnan(shown.params["obtained"].value)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "wrong_value",
        {"key": "no_such_message"},
        {"key": "wrong_value", "params": []},
        {"key": "not_run", "params": {"reason": {"something": 1}}},
        {"key": "not_run", "params": {"reason": [1, 2]}},
        json.loads('{"key": "not_run", "params": {"reason": ' * 20 + "0" + "}}" * 20),
    ],
)
def test_a_damaged_stored_message_is_refused(data):
    with pytest.raises(ValueError):
        from_data(data)


def test_a_damaged_finding_falls_back_to_the_stored_text():
    test = {"messages": [{"key": "wrong_value", "params": {}}], "feedback": "texte rendu"}
    assert check_finding(test, "en", "values").text == "texte rendu"
    old = {"feedback": "∂ℓ/∂w1 est faux.\nErreur reconnue (error_sign) : …", "misconception": "x"}
    assert check_finding(old, "fr", "values").text == "∂ℓ/∂w1 est faux."


def test_old_results_read_without_findings():
    old = {"student_id": "a", "status": "graded", "message": "Notebook exécuté et corrigé.",
           "tests": [{"name": "c", "question": "q", "score": 0, "max_score": 1, "passed": False,
                      "feedback": "faux", "misconception": None}]}  # fmt: skip
    result = normalized(old)
    assert result["tests"][0]["messages"] == [] and result["status_message"] is None
    damaged = normalized(
        {**old, "status_message": "x", "tests": [{**old["tests"][0], "messages": 3}]}
    )
    assert damaged["tests"][0]["messages"] == [] and damaged["status_message"] is None


# --- what a line says ------------------------------------------------------------------------


def test_long_arrays_are_shown_by_what_differs():
    expected = np.linspace(-1, 1, 21).reshape(7, 3)
    obtained = expected.copy()
    obtained[2, 1] += 0.5
    obtained[6, 0] -= 2.0
    message = Message(
        "wrong_value",
        {"component": "∂L/∂Wh", "expected": show(expected), "obtained": show(obtained), "gap": "2"},
    )
    head, details, note = differences(message, "fr")
    assert head == "∂L/∂Wh est faux : 2 valeurs sur 21 diffèrent (écart maximal 2)."
    assert details[0].startswith("∂L/∂Wh[2, 1] : attendu") and details[1].startswith("∂L/∂Wh[6, 0]")
    assert note == ""
    scaled = Message("wrong_value", {**message.params, "obtained": show(7 * expected)})
    head, details, note = differences(scaled, "en")
    assert "values differ" in head and details[-1] == "and 17 more"
    assert note == "All your values are 7 times the expected ones."


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("(w, nombre de mises à jour) pour n_b = 1[0]", "w pour n_b = 1"),
        ("(w, nombre de mises à jour) pour n_b = 1[1]", "nombre de mises à jour pour n_b = 1"),
        ("(L, acc)[0]", "L"),
        ("paramètres mis à jour['Wh']", "Wh (paramètres mis à jour)"),
        ("cache['a1']", "cache['a1']"),
        ("∂L/∂Wh[0, 0]", "∂L/∂Wh[0, 0]"),
        ("ŷ", "ŷ"),
    ],
)
def test_components_read_as_names(label, shown):
    assert component_label(label) == shown


def test_points_are_pluralised_in_each_language():
    assert [points_text(p, "fr") for p in (0, 1, 1.5, 2)] == [
        "0 point", "1 point", "1,5 point", "2 points"]  # fmt: skip
    assert [points_text(p, "en") for p in (0, 1, 1.5, 2)] == [
        "0 points", "1 point", "1.5 points", "2 points"]  # fmt: skip


def test_long_calls_are_shortened_keeping_the_keys():
    params = "{Wh: [" + "1.0, " * 40 + "2.0], bh: [" + "0.5, " * 40 + "0.5]}"
    call = f"backward({params}, <tableau (7, 3)>, y)"
    assert short_call(call) == "backward({Wh: …, bh: …}, <tableau (7, 3)>, y)"
    many = "backward({" + ", ".join(f"k{i}: [1.0, 2.0]" for i in range(40)) + "}, y)"
    assert short_call(many) == "backward({…}, y)"  # too many keys: none kept
    assert short_call("loss(1.0, 0.25)") == "loss(1.0, 0.25)"


def test_long_lists_of_losses_show_their_ends_and_length():
    text = show([float(v) for v in range(500)], brief=True)
    assert text == "[0, 1, 2, …, 498, 499] (500 valeurs)"
    english = render(Message("on_input", {"input": f"should_stop({text}, 10, 0.0)"}), "en")
    assert english == "Input: should_stop([0, 1, 2, …, 498, 499] (500 values), 10, 0.0)."


# --- titles from the master ----------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_questions_are_titled_from_the_master_in_both_languages(assignment):
    master = load_assignment(assignment)
    settings = load_settings(master.master)
    for question in master.questions:
        french, english = (question_title(question, lang, settings) for lang in ("fr", "en"))
        bold = re.match(r"\s*\*\*([^*]+)\*\*", question.prompt)
        assert bold and french == bold.group(1).strip().rstrip(".:").strip()
        assert not foreign_words(english, "en"), english
        assert question.name not in (french, english)


def test_numbered_titles_are_joined_as_ranges():
    titles = [f"Question {n}" for n in range(1, 14)] + ["Question 15", "Initialisation"]
    assert joined_titles(titles, "fr") == "Questions 1 à 13, Question 15, Initialisation"
    assert joined_titles(["Question 1", "Question 2"], "en") == "Question 1, Question 2"


def test_reveal_setting_is_read_and_checked(tmp_path):
    from autograder.feedback import FeedbackSettingsError, reveal_for

    master = load_assignment("sgd_batch_size").master
    assert load_settings(master).reveal == {"graded": "values", "check": "hints"}
    assert reveal_for(None, "graded") == "values" and reveal_for(None, "check") == "hints"
    fake = tmp_path / "x" / "x.ipynb"
    fake.parent.mkdir()
    (fake.parent / "feedback.yaml").write_text("reveal: {graded: hints}\n", encoding="utf-8")
    assert reveal_for(fake, "graded") == "hints" and reveal_for(fake, "check") == "hints"
    (fake.parent / "feedback.yaml").write_text("reveal: {graded: everything}\n", encoding="utf-8")
    with pytest.raises(FeedbackSettingsError, match=r"feedback\.yaml: reveal\.graded"):
        load_settings(fake)


def test_every_text_exists_in_both_languages_with_the_same_blanks():
    def blanks(text: str) -> set[str]:
        return set(_PLACEHOLDER.findall(text))

    for table in (TEMPLATES, HINTS, SINGULAR, DIFFERENCES):
        for key, texts in table.items():
            assert set(texts) == {"fr", "en"}, key
            assert blanks(texts["fr"]) == blanks(texts["en"]), key
    for key, texts in {**HINTS, **SINGULAR}.items():
        assert blanks(texts["fr"]) <= blanks(TEMPLATES[key]["fr"]), key  # same parameters
    assert PAGE_LABELS["fr"].keys() == PAGE_LABELS["en"].keys()
    for key in PAGE_LABELS["fr"]:
        assert blanks(PAGE_LABELS["fr"][key]) == blanks(PAGE_LABELS["en"][key]), key


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_input_a_student_is_judged_on_is_described_in_words(assignment):
    """Feedback says on which input in words, in both languages, never as a raw array."""
    for seed in (None, 5):
        for check in checks_for(assignment, seed).values():
            for call in check.calls:
                assert isinstance(call.about, Translated), (check.id, call.key)
                assert set(call.about.texts) == {"fr", "en"}
                assert "tableau" not in call.about.texts["en"]
                assert "<tableau" not in call.about.texts["fr"]  # a raw array, not words


def test_a_finding_names_its_input_in_words_in_the_language_asked():
    from autograder.execution.plan import run_plan

    loaded = code("sgd_batch_size")
    namespace = dict(vars(loaded.reference))
    namespace["batch_gradient"] = lambda w, xb, yb: 2 * loaded.reference.batch_gradient(w, xb, yb)
    answers = run_plan(
        list(checks_for("sgd_batch_size")["batch_gradient_value"].calls), namespace, {}
    )
    verdict = judge("sgd_batch_size", "batch_gradient_value", answers)
    french, english = (finding_parts(verdict.messages, lang) for lang in ("fr", "en"))
    assert french.input == "un batch de 1 exemple de l'énoncé (x = 1), w = 0.5"
    assert english.input == "a batch of 1 example of the sheet (x = 1), w = 0.5"
    assert french.input_in_words and english.input_in_words


def test_the_language_catalogues_have_the_same_keys_and_placeholders():
    """One catalogue per language (``autograder/locale``): a key or a ``{field}`` missing
    from one language would show a student a raw key or raise when rendered."""
    import yaml

    folder = Path(messages_module.__file__).with_name("locale")
    french, english = (
        yaml.safe_load((folder / f"{lang}.yaml").read_text(encoding="utf-8"))
        for lang in ("fr", "en")
    )
    assert french.keys() == english.keys()
    for section in french:
        assert french[section].keys() == english[section].keys(), section
        for key, text in french[section].items():
            assert set(_PLACEHOLDER.findall(text)) == set(
                _PLACEHOLDER.findall(english[section][key])
            ), (section, key)


def test_a_call_is_written_out_only_when_its_finding_is_read(monkeypatch):
    from autograder import checks as toolkit

    written = []
    real = toolkit.call_text
    monkeypatch.setattr(toolkit, "call_text", lambda call: written.append(call) or real(call))
    message = toolkit.on_input(toolkit.Call("k", "softmax", (np.arange(3.0),)))
    assert written == []  # a finding discarded unread (mistake matching) costs no text
    stored = messages_module.to_data(message)
    assert stored["params"]["call"] == "softmax([0., 1., 2.])" and len(written) == 1
    assert "softmax([0., 1., 2.])" in messages_module.render(message, "en")
    assert len(written) == 1  # written once, then kept


@pytest.mark.parametrize(
    ("returned", "said", "english"),
    [
        ("10**20000", "un entier trop grand pour un float64", "an integer too large"),
        ("np.zeros(3_000_000)", "un tableau de 3000000 valeurs", "an array of 3000000 values"),
    ],
)
def test_a_value_the_grader_cannot_read_is_not_called_an_error_raised(returned, said, english):
    """The function returned: the feedback says its value cannot be read, and why."""
    namespace = with_reference("sgd_batch_size", f"def predict(w, x):\n    return {returned}\n")
    verdict = verdicts("sgd_batch_size", namespace, None, ["predict_value"])["predict_value"]
    text = verdict.messages[0].render("fr")
    assert "a levé" not in text and "ne peut pas lire" in text and said in text, text
    assert english in verdict.messages[0].render("en")


@pytest.mark.parametrize(
    ("cell", "french", "english"),
    [
        ("def forward(params, X, activation='tanh'):\n    return undefined_thing(X), {}",
         "ne définit `undefined_thing`", "defines `undefined_thing`"),
        ("def forward(params, X, activation='tanh'):\n    params['Wh'] @ X\n",
         "une transposition manque", "is a transpose missing"),
        ("def forward(params, X):\n    return _right(params, X)\n",
         "n'a pas les paramètres du contrat", "does not have the contract's parameters"),
        ("def forward(params, X, activation='tanh'):\n    cache = {}.get('h')\n    return cache['h']",
         "une fonction sans `return` renvoie None", "a function without `return` returns None"),
    ],
)  # fmt: skip
def test_a_common_python_error_is_followed_by_what_it_usually_means(cell, french, english):
    namespace = with_reference("mlp_softmax", "_right = forward", cell)
    (verdict,) = verdicts("mlp_softmax", namespace, 7, ["forward_output"]).values()
    (message,) = verdict.messages
    assert french in render(message, "fr") and english in render(message, "en")
    assert render(message, "en").count(" — ") == 1


def test_an_uncommon_error_is_left_as_python_says_it():
    message = Message("raised", {"call": "f()", "error": "ValueError: math domain error"})
    assert render(message, "fr") == "`f()` a levé une erreur : ValueError: math domain error"


def test_a_remark_shared_by_a_question_s_findings_is_said_once():
    """A loop wrong on four inputs is wrong in the same way on each: the page says why
    once, under the first finding, and each finding still says what is wrong."""
    remark = Message("loop_wrong_both_ways", {"functions": "batch_gradient, predict"})
    findings = [
        [Message("not_finite", {"component": "w", "obtained": "nan"}), remark],
        [Message("not_finite", {"component": "n_updates", "obtained": "inf"}), remark],
        [remark],  # nothing else to say: the remark is what is wrong
    ]
    said: set[str] = set()
    texts = [finding_parts(messages, "fr", said=said).text for messages in findings]
    told = render(remark, "fr")
    assert told in texts[0] and texts[0].startswith("w contient NaN")
    assert told not in texts[1] and texts[1].startswith("n_updates contient NaN")
    assert texts[2] == _sentence_of(told)
    alone = finding_parts(findings[1], "fr").text  # without a page around it: all of it
    assert told in alone


def _sentence_of(text: str) -> str:
    return text if text.endswith((".", ":", ";", "!", "?", "…")) else text + "."
