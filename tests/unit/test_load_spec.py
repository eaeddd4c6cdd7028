"""The [load] keys of issue 3 (workers, arrival_rate, arrival, ramp) and [report] client_server_gap."""

import os
from pathlib import Path

import pytest

from tests.conftest import write_spec
from validator.spec import Spec, SpecError, load_spec


def spec_with(tmp_path: Path, load: str = "", extra: str = "") -> Spec:
    return load_spec(write_spec(tmp_path, load, extra), environ={})


def test_defaults_are_one_process_closed_model(tmp_path: Path) -> None:
    spec = spec_with(tmp_path)
    assert spec.load.workers == 1 and not spec.load.open_model
    assert spec.load.users == 20 and spec.load.spawn_rate == 20
    assert spec.client_server_gap == 2.0


def test_open_model_keys_and_pool_default(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, 'arrival_rate = "500/s"\narrival = "fixed"\nramp = "2s"\nworkers = "auto"')
    load = spec.load
    assert load.open_model and load.arrival_rate == 500 and load.arrival == "fixed" and load.ramp == 2
    assert load.users == 100 and load.spawn_rate == 100  # the pool starts at once
    assert load.workers == (os.cpu_count() or 1)


@pytest.mark.parametrize(
    ("load", "extra", "key", "expected"),
    [
        ("workers = 0", "", "load.workers", "'auto'"),
        ('workers = "many"', "", "load.workers", "'auto'"),
        ('arrival_rate = "-5/s"', "", "load.arrival_rate", "greater than zero"),
        ('arrival = "fixed"', "", "load.arrival", "load.arrival_rate as well"),
        ('arrival_rate = 10\narrival = "bursty"', "", "load.arrival", "'poisson' or 'fixed'"),
        ('arrival_rate = 10\nramp = "10s"', "", "load.ramp", "at most load.warmup"),
        ("", "[report]\nclient_server_gap = 0.5", "report.client_server_gap", "greater than 1"),
    ],
)
def test_bad_load_keys_name_file_key_and_expectation(
    tmp_path: Path, load: str, extra: str, key: str, expected: str
) -> None:
    with pytest.raises(SpecError) as caught:
        spec_with(tmp_path, load, extra)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'sla.toml'}: {key}: expected") and expected in message
