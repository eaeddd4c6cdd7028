"""PromQL text built from the spec: every label value and regex is quoted by one helper, never pasted raw."""

import re

_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    """`value` as a PromQL double-quoted string literal (backslashes, quotes and newlines escaped)."""
    return '"' + "".join(_ESCAPES.get(char, char) for char in value) + '"'


def matcher(label: str, operator: str, value: str) -> str:
    """One label matcher such as `code!~"5.."`; the label must be a valid name, the value is quoted."""
    if not _LABEL_NAME.match(label):
        raise ValueError(f"{label!r} is not a Prometheus label name")
    if operator not in ("=", "!=", "=~", "!~"):
        raise ValueError(f"{operator!r} is not a label matching operator")
    return f"{label}{operator}{quote(value)}"


def series(metric: str, *matchers: str) -> str:
    """`metric{m1,m2}` from already-built matchers (empty ones dropped), or the bare name."""
    kept = [m for m in matchers if m]
    return f"{metric}{{{','.join(kept)}}}" if kept else metric


def is_label_name(name: str) -> bool:
    return bool(_LABEL_NAME.match(name))


_METRIC_NAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")
_MATCHER_ITEM = re.compile(
    r"""\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)\s*"""
)


def is_metric_name(name: str) -> bool:
    return bool(_METRIC_NAME.match(name))


def check_matchers(text: str) -> str:
    """`text` when it is a list of label matchers (`job="api", code!~"5.."`) and nothing else; ValueError naming
    where it stops being one. One check for every selector from the spec, so no value can close the braces and
    append PromQL (`job="a"}[1m])) or vector(1) #`)."""
    position = 0
    while position < len(text.rstrip()):
        match = _MATCHER_ITEM.match(text, position)
        if match is None:
            raise ValueError(f"label matchers such as 'job=\"api\"'; this stops being one at {text[position:][:30]!r}")
        position = match.end()
        if position < len(text) and text[position] != ",":
            raise ValueError(f"label matchers separated by commas; this stops being one at {text[position:][:30]!r}")
        position += 1
    return text
