"""Secrets never leave the process: `user:pass@` is cut from URLs and known secret values are masked in text."""

import urllib.parse
from collections.abc import Iterable

MASK = "***"


def redact_url(url: str) -> str:
    """The URL without its `user:password@` part (kept as `***@` so a reader sees credentials were given).

    Everything from `://` to the last `@` goes, not only what a URL parser calls the user info: a password with
    `/`, `?` or `#` in it ends the parser's authority early and would otherwise be shown."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    return f"{scheme}://{MASK}@{rest.rsplit('@', 1)[1]}"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every URL's credentials and every known secret value (and its URL-encoded form) masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, MASK)
    return " ".join(redact_url(word) if "://" in word else word for word in text.split(" "))
