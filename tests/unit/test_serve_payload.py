"""`slagate serve`'s hook without HTTP: Flagger's payload checked field by field, and one load at a time."""

import json
import threading
from http import HTTPStatus

import pytest

from validator.cli.server import Answer, Hook, HttpError, OneLoad, parse_hook

FLAGGER = {"name": "podinfo", "namespace": "test", "phase": "Progressing", "checksum": "6f1d2c0", "metadata": {}}


def body(**changes: object) -> bytes:
    return json.dumps({**FLAGGER, **changes}).encode()


def test_flaggers_payload_is_read_with_the_versions_its_metadata_names() -> None:
    assert parse_hook(body()) == Hook("podinfo", "test", "6f1d2c0")
    chosen = parse_hook(body(metadata={"baseline": "1.4.0", "version": "1.5.0-rc.1"}, extra="ignored"))
    assert (chosen.baseline, chosen.version) == ("1.4.0", "1.5.0-rc.1")


@pytest.mark.parametrize(
    ("sent", "said"),
    [
        (b"{", "malformed JSON"),
        (b"\xff", "malformed JSON"),
        (b'"podinfo"', "expected a JSON object"),
        (body(checksum=None), "checksum: expected"),
        (body(checksum="a b"), "checksum: expected"),
        (body(name=7), "name: expected"),
        (body(namespace="te\nst"), "namespace: expected"),
        (body(metadata=["1.0.0"]), "metadata: expected an object"),
        (body(metadata={"file": "/etc/passwd"}), "metadata: unknown key 'file'"),
        (body(metadata={"baseline": "../1.0.0"}), "metadata.baseline: expected letters"),
        (body(metadata={"version": "1.0/evil"}), "metadata.version: expected letters"),
        (body(metadata={"baseline": 1}), "metadata.baseline: expected letters"),
    ],
)
def test_a_payload_that_is_not_flaggers_is_400_naming_the_field(sent: bytes, said: str) -> None:
    with pytest.raises(HttpError) as refused:
        parse_hook(sent)
    assert refused.value.status == HTTPStatus.BAD_REQUEST and said in refused.value.reason
    assert "\n" not in refused.value.reason


def test_one_checksum_is_one_validation_and_another_is_refused_while_it_runs() -> None:
    release, started, calls = threading.Event(), threading.Event(), []

    def validate(hook: Hook) -> Answer:
        calls.append(hook.checksum)
        started.set()
        release.wait(10)
        return Answer(HTTPStatus.OK, ("verdict GO",), remember=True)

    one_load = OneLoad(validate)
    hook = Hook("podinfo", "test", "a1")
    answers: list[Answer] = []
    callers = [threading.Thread(target=lambda: answers.append(one_load.answer(hook))) for _ in range(3)]
    callers[0].start()
    assert started.wait(10)
    for caller in callers[1:]:
        caller.start()
    refused = one_load.answer(Hook("podinfo", "test", "b2"))
    assert refused.status == HTTPStatus.CONFLICT and b"two loads never overlap" in refused.body
    release.set()
    for caller in callers:
        caller.join(10)
    assert calls == ["a1"] and len(answers) == 3 and len(set(answers)) == 1
    assert one_load.answer(hook) == answers[0] and calls == ["a1"]  # remembered: no second validation


def test_an_answer_not_to_remember_is_validated_again_on_retry() -> None:
    calls = []

    def validate(hook: Hook) -> Answer:
        calls.append(hook.checksum)
        return Answer(HTTPStatus.SERVICE_UNAVAILABLE, ("could not evaluate",))

    one_load = OneLoad(validate)
    for _ in range(2):
        assert one_load.answer(Hook("podinfo", "test", "a1")).status == HTTPStatus.SERVICE_UNAVAILABLE
    assert calls == ["a1", "a1"]


def test_a_defect_in_the_validation_is_a_500_in_one_line_never_a_hang() -> None:
    def validate(hook: Hook) -> Answer:
        raise RuntimeError("boom\nsecond line")

    answer = OneLoad(validate).answer(Hook("podinfo", "test", "a1"))
    assert answer.status == HTTPStatus.INTERNAL_SERVER_ERROR
    assert answer.body == b"slagate: internal error: RuntimeError: boom second line\n"


def test_off_loopback_a_token_is_required_unless_the_caller_cannot_send_one() -> None:
    from validator.cli.serve import _token

    with pytest.raises(SystemExit):
        _token(None, "0.0.0.0")
    assert _token(None, "0.0.0.0", unauthenticated=True) is None  # Flagger: a network policy keeps others out
    assert _token(None, "127.0.0.1") is None
