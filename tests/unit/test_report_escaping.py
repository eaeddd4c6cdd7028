"""Outside strings made harmless in Markdown, and the checklist template rendered in Jinja's sandbox."""

import re
from pathlib import Path

import pytest

from validator.errors import UsageError
from validator.report.chart_style import label_text
from validator.report.checklist import render_checklist
from validator.report.markdown import cell, code

HOSTILE = "a|b `x` ``y``\n<script>alert(1)</script>\x00\x1b[31m [click](http://evil) ![i](http://evil/i.png) $x^2$"


def test_cell_is_one_line_without_live_markup() -> None:
    text = cell(HOSTILE)
    assert "\n" not in text and "\x00" not in text and "\x1b" not in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert re.search(r"(?<!\\)\|", text) is None  # every pipe escaped: a table row is never split
    assert re.search(r"(?<!\\)`", text) is None  # no code span can open
    assert "](" not in text.replace("]\\(", "") and "![" not in text.replace("!\\[", "")


@pytest.mark.parametrize("text", [HOSTILE, "`", "``a``", "a ` b", "", "|"])
def test_code_span_cannot_be_closed_early(text: str) -> None:
    span = code(text)
    fence = re.match(r"`+", span).group(0)
    inner = span[len(fence) : -len(fence)]
    assert span.endswith(fence) and fence not in inner
    assert "\n" not in span and re.search(r"(?<!\\)\|", span) is None


def test_chart_labels_never_start_mathtext() -> None:
    label = label_text("GET /$price$\n/x", 100)
    assert "\n" not in label and re.search(r"(?<!\\)\$", label) is None


def test_checklist_template_runs_in_a_sandbox(tmp_path: Path) -> None:
    template = tmp_path / "evil.md.j2"
    template.write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(UsageError, match=r"evil\.md\.j2: \(template\): expected a checklist template that renders"):
        render_checklist(template, {})
    template.write_text("{{ decision }} {{ facts.performance[0].text }}")
    assert render_checklist(template, {"decision": "GO", "facts": {"performance": [{"text": "ok"}]}}) == "GO ok\n"
