"""Secrets never leave the process: every line printed and every file written passes through `redact`.

The secrets this process knows (URL credentials, Prometheus passwords, tokens and secret headers) are kept in
one registry as they are read; `redact` masks each in every form it can take on the way out: plain,
URL-encoded, as `Basic base64(user:password)`, as a bearer token, and escaped inside a JSON string. Any
`user:password@` in a URL is cut too, whether the password is known or not.
"""

import base64
import io
import json
import re
import urllib.parse
from collections.abc import Iterable
from typing import TextIO

MASK = "***"
SHORTEST = 3  # shorter values (a one-letter user name) would mask ordinary text; they are never passwords alone

_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s\"'<>`]*@")  # up to the last @ before a space or quote
_known: list[str] = []  # every form of every secret registered in this process, longest first (a form inside a
# longer one is masked after it)


def redact_url(url: str) -> str:
    """The URL without its `user:password@` part (kept as `***@` so a reader sees credentials were given).

    Everything from `://` to the last `@` goes, not only what a URL parser calls the user info: a password with
    `/`, `?` or `#` in it ends the parser's authority early and would otherwise be shown."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    return f"{scheme}://{MASK}@{rest.rsplit('@', 1)[1]}"


def forms(secret: str) -> set[str]:
    """The ways `secret` can appear in text: as is, URL-encoded, and each of those escaped in a JSON string."""
    plain = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), urllib.parse.unquote(secret)}
    return {form for text in plain for form in (text, json.dumps(text, ensure_ascii=False)[1:-1])}


def keep_secret(*secrets: str) -> None:
    """Register secret values (passwords, tokens, header values) so that nothing written shows them."""
    for secret in secrets:
        if secret and len(secret) >= SHORTEST:
            added = {form for form in forms(secret) if len(form) >= SHORTEST}
            _known[:] = sorted(added.union(_known), key=len, reverse=True)


def keep_credentials(user: str, password: str) -> None:
    """Register a basic-auth pair: the password, and `user:password` plain and base64 (its Authorization form)."""
    keep_secret(password)
    if password:
        pair = f"{user}:{password}"
        keep_secret(pair, base64.b64encode(pair.encode()).decode("ascii"))


def keep_url_credentials(url: str) -> None:
    """Register the `user:password@` of a URL (both as written and percent-decoded), when it has one."""
    _, separator, rest = url.partition("://")
    if separator and "@" in rest:
        user, _, password = rest.rsplit("@", 1)[0].partition(":")
        keep_credentials(user, password)
        keep_credentials(urllib.parse.unquote(user), urllib.parse.unquote(password))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret (and `secrets`) masked in each of its forms, and every URL's credentials cut."""
    extra = {form for secret in secrets if secret and len(secret) >= SHORTEST for form in forms(secret)}
    for form in sorted(extra.union(_known), key=len, reverse=True) if extra else _known:
        if form in text:
            text = text.replace(form, MASK)
    return _CREDENTIALS.sub(rf"\1{MASK}@", text) if "://" in text else text


class RedactingStream(io.TextIOBase):
    """A text stream that redacts each write before passing it on (installed over stdout and stderr by the CLI)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding
