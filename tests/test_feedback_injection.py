"""Texts a student controls (error messages) reach Markdown, Moodle and Gradescope inert."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from autograder.lms_export import gradescope_results
from autograder.pages import markdown_text, write_feedback

from .conftest import grade_notebooks, notebook_with

PAYLOAD = "![p](http://evil.example/t.png) <script>alert(1)</script> [x](javascript:go) |a|b|"


def test_markdown_feedback_shows_the_payload_as_text(tmp_path):
    cells = [
        "def forward(W, x):\n"
        f"    raise ValueError({PAYLOAD!r})\n"
        "loss = backward = should_stop = train = forward"
    ]
    run, results = grade_notebooks("backprop_miniconv", {"eve": notebook_with(cells)}, tmp_path)
    assert results["eve"].score == 0
    write_feedback(run.out)
    markdown = (run.out / "feedback" / "eve.md").read_text(encoding="utf-8")
    assert "evil.example" in markdown
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    assert "evil.example" in html and "alert(1)" in html
    assert not re.search(r"<(img|a|script|table|del)\b", html)
    gradescope = gradescope_results(results["eve"].to_json(), feedback=markdown)
    assert gradescope["output_format"] == "html"
    assert "evil.example" in gradescope["output"]
    assert "<script>" not in gradescope["output"] and "<img" not in gradescope["output"]
    assert "href" not in gradescope["output"] and "\\(" not in gradescope["output"]


def test_markdown_text_escapes_only_what_markdown_reads():
    assert markdown_text("q3_passe (init_params)") == "q3_passe (init_params)"
    assert markdown_text("_x_ __y a_") == "\\_x\\_ \\_\\_y a\\_"
    assert markdown_text("2*3 [a](b) ![i](j)") == "2\\*3 \\[a\\](b) !\\[i\\](j)"
    assert markdown_text(1.5) == "1.5"
    assert markdown_text("<b>") == "\\<b\\>"


def test_code_spans_stay_code_in_markdown_and_stay_inert():
    """`predict(0.5, 3)` reads as code in an LMS comment, as on the HTML page; what is
    inside a span is shown as written, and an unpaired backtick is text."""
    from markdown_it import MarkdownIt

    said = markdown_text(
        "`predict(0.5, 3)` a levé une erreur <b> et `<img src=x onerror=alert(1)>` `x"
    )
    assert said == (
        "`predict(0.5, 3)` a levé une erreur \\<b\\> et `<img src=x onerror=alert(1)>` \\`x"
    )
    html = MarkdownIt("commonmark", {"html": False}).render(said)
    assert "<code>predict(0.5, 3)</code>" in html and "<img" not in html
    assert "<code>&lt;img src=x onerror=alert(1)&gt;</code>" in html and "`x" in html
