"""Text made safe and uniform for the Markdown report: table cells, inline code and UTC times.

Strings from outside (error messages, exception texts, route names, label values, versions, the spec's names) go
through `cell` or `code` before they reach a template: one line, no control characters, nothing Markdown or an
HTML renderer would act on (a table-breaking `|`, a code span opened by a backtick, a link, a `<script>` tag).
"""

import re
from datetime import UTC, datetime

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BACKTICKS = re.compile(r"`+")


def one_line(text: object) -> str:
    """Control characters (newlines included) as spaces, runs of white space as one."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def cell(text: object) -> str:
    """Text safe as Markdown (a table cell, a list item): one line, `|` and backticks escaped, no HTML tag, no
    link syntax."""
    plain = one_line(text).replace("\\", "\\\\")
    plain = plain.replace("|", "\\|").replace("`", "\\`").replace("<", "&lt;").replace(">", "&gt;")
    return plain.replace("](", "]\\(").replace("![", "!\\[")


def code(text: object) -> str:
    """Text as an inline code span that no content can end early: the fence is one backtick longer than the
    longest run inside; `|` stays escaped so a table row is not split (GitHub reads `\\|` as `|` in code)."""
    plain = one_line(text).replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(plain)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if plain.startswith("`") or plain.endswith("`") or not plain else ""
    return f"{fence}{pad}{plain}{pad}{fence}"


def utc(timestamp: float) -> str:
    """An epoch time as ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
