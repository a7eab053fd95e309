"""The instructor's forms refuse what would make a wrong grade or a silent surprise, and
say why in the page's language: dates out of order, hidden feedback that would never
come, an extension for nobody, an archive that is not one, an LMS file without its id."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

from autograder.late import load_policy
from autograder.messages import texts
from autograder.web.store import now

from .conftest import notebook_with
from .test_web import (  # noqa: F401  (fixtures)
    ASSIGNMENT,
    alice_graded_fixture,
    app_fixture,
    config_fixture,
    notebook_bytes,
    post,
    signed_in,
    submit,
)

CLASS = f"/instructor/assignments/{ASSIGNMENT}"


def alert(response) -> str:
    """The page's error line, unescaped."""
    found = re.search(r'role="alert">(.*?)</p>', response.text, re.S)
    return found.group(1).replace("&#39;", "'").replace("&#34;", '"') if found else ""


def moment(hours: float) -> str:
    return (now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_settings_refuse_dates_out_of_order_and_feedback_that_would_never_come(app):
    prof = signed_in(app, "prof")
    cases = [
        ({"opens_at": moment(48), "deadline": moment(24)}, "L'ouverture doit précéder"),
        ({"deadline": moment(24), "closes_at": moment(1)}, "La fermeture doit suivre la date"),
        ({"opens_at": moment(5), "closes_at": moment(1)}, "La fermeture doit suivre l'ouverture"),
        ({"deadline": "demain"}, "Date invalide : Date limite."),
        ({"per_day": "2.5"}, "Nombre invalide : Dépôts par 24 heures"),
        ({}, "le retour des tests cachés ne viendrait jamais"),  # hidden, no deadline
    ]
    for form, said in cases:
        refused = post(prof, f"{CLASS}/settings", form)
        assert refused.status_code == 400 and said in alert(refused), (form, alert(refused))
    assert app.state.store.settings(ASSIGNMENT).deadline is None  # nothing was saved
    hidden = {"deadline": moment(24), "closes_at": moment(48)}
    assert post(prof, f"{CLASS}/settings", hidden).status_code == 303
    released = {"released": "on"}  # no deadline, but released: the feedback is there
    assert post(prof, f"{CLASS}/settings", released).status_code == 303


def test_extensions_are_for_known_students_after_the_deadline_and_can_be_removed(app):
    prof = signed_in(app, "prof")
    post(prof, f"{CLASS}/settings", {"deadline": moment(-2), "instant_feedback": "on"})
    typo = post(prof, f"{CLASS}/late", {"student": "alcie", "extension": moment(24)})
    assert typo.status_code == 400 and "« alcie » n'est ni un compte étudiant" in alert(typo)
    earlier = post(prof, f"{CLASS}/late", {"student": "alice", "extension": moment(-5)})
    assert earlier.status_code == 400 and "au-delà de la date limite" in alert(earlier)
    for student in ("alice", "bob"):
        added = post(prof, f"{CLASS}/late", {"student": student, "extension": moment(24)})
        assert added.status_code == 303
    folder = app.state.config.graded(ASSIGNMENT)
    assert set(load_policy(folder).extensions) == {"alice", "bob"}
    page = prof.get(CLASS).text
    assert 'name="remove" value="alice"' in page and '<option value="bob">' in page
    assert post(prof, f"{CLASS}/late", {"remove": "alice"}).status_code == 303
    assert set(load_policy(folder).extensions) == {"bob"}
    penalty = {"percent": "10", "unit": "day", "cap": "50"}
    assert post(prof, f"{CLASS}/late", penalty).status_code == 303
    policy = load_policy(folder)
    assert (policy.percent_per_unit, policy.cap_percent, set(policy.extensions)) == (
        10, 50, {"bob"})  # fmt: skip
    over = post(prof, f"{CLASS}/late", {"percent": "150"})
    assert over.status_code == 400 and "Pourcentage invalide" in alert(over)


def test_a_refused_form_says_why_beside_it_and_keeps_what_was_typed(app):
    prof = signed_in(app, "prof")
    typed = {"deadline": moment(24), "closes_at": moment(1), "per_day": "3", "lms_id": "x9"}
    refused = post(prof, f"{CLASS}/settings", typed).text
    said = refused.index('id="form-error"')
    assert refused.index('<h2 id="settings">') < said < refused.index(f'action="{CLASS}/settings"')
    assert refused.count('role="alert"') == 1  # beside the form, not also at the top
    for field, value in typed.items():
        assert f'name="{field}" value="{value}"' in refused, field
    post(prof, f"{CLASS}/settings", {"deadline": moment(-2), "instant_feedback": "on"})
    no_date = post(prof, f"{CLASS}/late", {"student": "alice", "extension": ""})
    assert no_date.status_code == 400
    assert alert(no_date) == "Indiquez la date limite de la prolongation."
    assert 'name="student" list="known-students" autocomplete="off" required value="alice"' in (
        no_date.text
    )
    over = post(prof, f"{CLASS}/late", {"percent": "150", "unit": "hour", "cap": "30"}).text
    assert 'name="percent" value="150"' in over and 'value="hour" selected' in over
    assert 'name="cap" value="30"' in over


def test_saving_the_late_policy_says_what_it_now_is(app):
    prof = signed_in(app, "prof")
    post(prof, f"{CLASS}/settings", {"deadline": moment(-2), "instant_feedback": "on"})
    saved = post(prof, f"{CLASS}/late", {"percent": "12,5", "unit": "day", "cap": "50"})
    page = prof.get(saved.headers["location"]).text
    said = page.index("Enregistré : 12,5 % de pénalité par jour commencé de retard, au plus 50 %")
    assert page.index('<h2 id="late">') < said < page.index(f'action="{CLASS}/late"')  # beside it
    emptied = post(prof, f"{CLASS}/late", {"percent": "", "unit": "day", "cap": ""})
    assert load_policy(app.state.config.graded(ASSIGNMENT)).percent_per_unit == 0
    assert "Enregistré : aucune pénalité de retard" in prof.get(emptied.headers["location"]).text


def test_a_file_that_is_not_a_zip_is_refused_and_not_kept(app):
    prof = signed_in(app, "prof")
    files = {"archive": ("notes.pdf", b"%PDF-1.7 not a zip", "application/pdf")}
    refused = post(prof, f"{CLASS}/runs", files=files)
    assert refused.status_code == 400 and "« notes.pdf » n'est pas une archive zip" in alert(
        refused
    )
    assert not app.state.runs
    kept = app.state.config.graded(ASSIGNMENT) / "archives"
    assert not any(kept.iterdir())


def test_exports_and_rosters_explain_in_the_pages_words(app):
    prof = signed_in(app, "prof")
    canvas = prof.get(f"{CLASS}/export/canvas")
    said = alert(canvas)
    assert canvas.status_code == 400 and "Canvas a besoin de l'identifiant de l'item" in said
    assert "--" not in said and "/tmp" not in said  # no flag, no server path
    empty = post(prof, "/instructor/students/roster",
                 files={"roster": ("liste.csv", b"", "text/csv")})  # fmt: skip
    assert "« liste.csv » est vide" in alert(empty) and "/tmp" not in empty.text
    no_id = post(prof, "/instructor/students/roster",
                 files={"roster": ("liste.csv", b"student_id,email\n,x@y.fr\n", "text/csv")})  # fmt: skip
    assert "« liste.csv », ligne 2 : la colonne « student_id » est vide" in alert(no_id)
    twice = post(prof, "/instructor/students/roster",
                 files={"roster": ("liste.csv", b"student_id,email,Email\nx,x@y.fr,z@y.fr\n", "text/csv")})  # fmt: skip
    assert "« liste.csv » nomme deux fois la colonne « Email » : gardez-en une." in alert(twice)


def roster(app, text: str):
    return post(signed_in(app, "prof"), "/instructor/students/roster",
                files={"roster": ("liste.csv", text.encode(), "text/csv")})  # fmt: skip


def test_a_roster_giving_one_id_or_one_email_to_two_accounts_is_refused_naming_the_rows(app):
    """Signing in by email opens the one account with that address: a second one, in any
    case, would lock the first out (alice could no longer sign in with alice@u.fr). Two rows
    for one id would leave which email and name hold to their order. Nothing is imported."""
    before = {u.login: u.email for u in app.state.store.students()}
    header = "student_id,first_name,email\n"
    cases = [
        (header + "carol,Carol,carol@u.fr\neve,Eve,CAROL@u.fr\n",
         "« liste.csv », lignes 2 et 3 : carol et eve ont la même adresse, CAROL@u.fr "
         "(majuscules comprises) : la connexion par adresse n'ouvrirait aucun des deux comptes"),
        (header + "carol,Carol,carol@u.fr\neve,Eve,Alice@Example.org\n",
         "« liste.csv », ligne 3 : l'adresse Alice@Example.org est déjà celle du compte alice"),
        (header + "carol,Carol,carol@u.fr\ndan,Dan,dan@u.fr\ncarol,Caro,caro@u.fr\n",
         "« liste.csv », lignes 2 et 4 : le student_id carol y est deux fois ; gardez une ligne "
         "par étudiant."),
    ]  # fmt: skip
    for text, said in cases:
        refused = roster(app, text)
        assert refused.status_code == 400 and said in alert(refused), alert(refused)
    assert {u.login: u.email for u in app.state.store.students()} == before
    # alice's own row may change her email's case, and bob may take alice's old address
    # when the same roster gives alice another: no two accounts share one afterwards
    swapped = header + "alice,Alice,bob@example.org\nbob,Bob,ALICE@example.org\n"
    assert roster(app, swapped).status_code == 303
    store = app.state.store
    assert (store.user_by_login("bob@example.org").login,
            store.user_by_login("alice@example.org").login) == ("alice", "bob")  # fmt: skip


def test_the_language_survives_signing_out(app):
    alice = signed_in(app, "alice")
    post(alice, "/language", {"lang": "en", "next": "/assignments"})
    assert post(alice, "/logout").status_code == 303
    assert '<html lang="en">' in alice.get("/login").text


def raised_reasons() -> set[str]:
    """Every ``reason`` the library gives an error it raises: the second argument of a call
    to a class named ``...Error``."""
    reasons = set()
    for path in (Path(__file__).parent.parent / "autograder").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id.endswith("Error") and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant)):  # fmt: skip
                reasons.add(node.args[1].value)
    return reasons


def test_every_error_reason_has_its_sentence_in_both_languages():
    french, english = texts("errors", "fr"), texts("errors", "en")
    assert french.keys() == english.keys()
    raised = raised_reasons()
    assert {"times_file_dates", "roster_empty", "lms_id_needed", "csv_columns"} <= raised
    assert raised <= french.keys()


def test_points_on_appeal_and_an_excusal_are_given_on_the_student_s_page(app, alice_graded):
    """The instructor gives points on appeal and excuses from alice's page, as `dlgrade
    manual import-overrides` and `manual excuse` do: points out of range or not a number
    are refused beside the form, what was typed kept; alice's page then shows them."""
    prof, alice = signed_in(app, "prof"), signed_in(app, "alice")
    page = f"{CLASS}/students/alice"
    book = app.state.gradebook
    result = book.latest_results(ASSIGNMENT)[0]
    question, earned = next(
        (name, q) for name, q in result["questions"].items() if q["score"] < q["max_score"]
    )
    top = earned["max_score"]
    for points, said in (("beaucoup", "« beaucoup » n'est pas un nombre de points."),
                         (f"{top + 1:g}", f"il en faut entre 0 et {top:g}")):  # fmt: skip
        refused = post(prof, f"{CLASS}/appeal", {"student": "alice", "question": question,
                                                 "points": points, "comment": "vu en TD"})  # fmt: skip
        assert refused.status_code == 400 and said in alert(refused), alert(refused)
        assert f'value="{points}"' in refused.text and "vu en TD</textarea>" in refused.text
    assert book.overrides(ASSIGNMENT) == {}
    given = post(prof, f"{CLASS}/appeal", {"student": "alice", "question": question,
                                           "points": f"{top:g}".replace(".", ","), "comment": "vu en TD"})  # fmt: skip
    assert given.status_code == 303 and given.headers["location"] == f"{page}?saved=appeal#review"
    assert book.overrides(ASSIGNMENT) == {"alice": {question: (top, "vu en TD")}}
    shown = prof.get(page).text
    assert 'id="appeals"' in shown and "vu en TD" in shown
    post(prof, f"{CLASS}/settings", {"released": "on"})
    own = alice.get(f"/attempts/{alice_graded}").text
    assert "vu en TD" in own  # her page counts the points given on appeal
    assert post(prof, f"{CLASS}/appeal", {"student": "alice", "question": question,
                                          "points": ""}).status_code == 303  # fmt: skip
    assert book.overrides(ASSIGNMENT) == {}

    excused = post(prof, f"{CLASS}/excuse", {"student": "alice", "comment": "certificat médical"})
    assert excused.status_code == 303 and book.excused(ASSIGNMENT) == {
        "alice": "certificat médical"
    }
    assert "Dispensé·e de ce devoir : certificat médical" in prof.get(page).text
    assert "certificat médical" in alice.get(f"/attempts/{alice_graded}").text
    bob = signed_in(app, "bob")  # a classmate with a grade: the column holds numbers
    submit(bob, notebook_bytes(notebook_with(["x = 1"], ASSIGNMENT)))
    app.state.worker.grade_queued()
    table = prof.get(CLASS)  # the class table has no total for her, and says why
    assert table.status_code == 200 and "dispensé·e" in table.text
    row = re.search(r"<tr><td><a [^>]*/students/alice\">.*?</tr>", table.text, re.S).group(0)
    assert "nan" not in row and "<td class=\"num\">–</td>" in row, row  # cycle19 #7
    assert post(prof, f"{CLASS}/excuse", {"student": "alice", "undo": "1"}).status_code == 303
    assert book.excused(ASSIGNMENT) == {}
