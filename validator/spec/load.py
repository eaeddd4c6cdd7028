"""`[load]`: the synthetic load — a Locust scenario, how many users, how fast they arrive, for how long."""

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

from validator.spec.reader import Reader, at_most, choice, non_negative_duration, positive, positive_int
from validator.spec.units import parse_duration, parse_rate
from validator.stats.sequential import DEFAULT_SPENDING, SPENDING_CHOICES

Arrival = Literal["poisson", "fixed"]
ARRIVALS: tuple[Arrival, ...] = get_args(Arrival)
_SPENDING_EXPECTED = " or ".join(f"'{name}'" for name in SPENDING_CHOICES)
OPEN_MODEL_DEFAULT_USERS = 100  # open model: the pool of users that serve the timetable's slots

# Bounds on the size-like keys: far above any real pre-release load, low enough that a typo fails at once.
MAX_USERS = 100_000
MAX_RATE = 1_000_000.0  # requests or users per second
MAX_SECONDS = 86_400.0  # a load of at most a day
MAX_WORKERS = 256
MAX_REPEAT = 100
RATE_RANGE = f"a rate greater than zero and at most {MAX_RATE:,.0f}/s"
DURATION_RANGE = "a duration greater than zero and at most 24h"
WORKERS_RANGE = f"a whole number of worker processes from 1 to {MAX_WORKERS}, or 'auto' (one per core)"
RUNS_RANGE = f"a whole number of runs from 1 to {MAX_REPEAT}"


@dataclass(frozen=True)
class LoadSpec:
    """The synthetic load: a Locust scenario, how many users, how fast they arrive, for how long."""

    locustfile: Path
    users: int = 20
    spawn_rate: float = 20.0
    duration: float = 30.0
    warmup: float = 5.0
    workers: int = 1  # 1: in this process; N > 1: a Locust master plus N local worker processes
    arrival_rate: float | None = None  # open model (requests/s); None: closed model (users loop)
    arrival: Arrival = "poisson"  # open model timetable spacing
    ramp: float = 0.0  # open model: seconds of linear ramp from 0 to arrival_rate
    request_timeout: float | None = None  # a request not answered in this time fails (counted at this latency)
    repeat: int = 1  # k ≥ 2: k runs back to back, judged together (ratios from the spread of the runs' own estimates)
    auto_repeat: bool = False  # repeat = "auto": run again only while a bound is undecided, up to max_repeat
    min_repeat: int = 1  # repeat = "auto": runs before the first look
    max_repeat: int = 5  # repeat = "auto": the last look (`repeat` is set to it: the most runs it may take)
    spending: str = DEFAULT_SPENDING  # repeat = "auto": the error-spending function that sets each look's level

    @property
    def open_model(self) -> bool:
        return self.arrival_rate is not None


def load_section(table: Reader, base_dir: Path) -> LoadSpec:
    locustfile = base_dir / table.text("locustfile")
    if not locustfile.is_file():
        raise table.fail("locustfile", "a path to an existing locustfile (relative to the spec)", str(locustfile))
    arrival_rate = table.get("arrival_rate", at_most(positive(parse_rate, "a rate"), MAX_RATE, RATE_RANGE), "", None)
    default_users = LoadSpec.users if arrival_rate is None else OPEN_MODEL_DEFAULT_USERS
    users = table.get("users", at_most(positive_int, MAX_USERS, f"a whole number of users from 1 to {MAX_USERS}"), "",
                      default_users)
    default_spawn_rate = LoadSpec.spawn_rate if arrival_rate is None else float(users)  # open: whole pool at once
    load = LoadSpec(
        locustfile=locustfile,
        users=users,
        spawn_rate=table.get("spawn_rate", at_most(positive(parse_rate, "users per second"), MAX_RATE, RATE_RANGE), "",
                             default_spawn_rate),
        duration=table.get("duration", at_most(positive(parse_duration, "a duration"), MAX_SECONDS, DURATION_RANGE),
                           "", LoadSpec.duration),
        warmup=table.get("warmup", non_negative_duration, "", LoadSpec.warmup),
        workers=table.get("workers", at_most(_workers, MAX_WORKERS, WORKERS_RANGE), "", LoadSpec.workers),
        arrival_rate=arrival_rate,
        arrival=table.get("arrival", choice(ARRIVALS), "'poisson' or 'fixed'", LoadSpec.arrival),
        ramp=table.get("ramp", non_negative_duration, "", LoadSpec.ramp),
        request_timeout=table.get(
            "request_timeout", at_most(positive(parse_duration, "a duration"), MAX_SECONDS, DURATION_RANGE), "", None
        ),
        repeat=table.get("repeat", at_most(_repeat, MAX_REPEAT, f"{RUNS_RANGE} or 'auto'"), "", LoadSpec.repeat),
        min_repeat=table.get("min_repeat", at_most(positive_int, MAX_REPEAT, RUNS_RANGE), "", LoadSpec.min_repeat),
        max_repeat=table.get("max_repeat", at_most(positive_int, MAX_REPEAT, RUNS_RANGE), "", LoadSpec.max_repeat),
        spending=table.get("spending", choice(SPENDING_CHOICES), _SPENDING_EXPECTED, LoadSpec.spending),
    )
    load = _with_repeat(table, load)
    if load.warmup >= load.duration:
        raise table.fail("warmup", f"less than load.duration ({load.duration:g}s)", load.warmup)
    if load.arrival_rate is None:
        for key in ("arrival", "ramp"):
            if key in table.table:
                raise table.fail(key, "load.arrival_rate as well (it applies to the open model only)")
    elif load.ramp > load.warmup:
        raise table.fail("ramp", f"at most load.warmup ({load.warmup:g}s), so the steady window has the full rate")
    return load


def _repeat(value: object) -> int | str:
    if value == "auto":
        return "auto"
    return positive_int(value)


def _with_repeat(table: Reader, load: LoadSpec) -> LoadSpec:
    """`repeat = "auto"` as a flag with `repeat` = max_repeat; min_repeat, max_repeat and spending only with it."""
    if load.repeat != "auto":
        for key in ("min_repeat", "max_repeat", "spending"):
            if key in table.table:
                raise table.fail(key, 'load.repeat = "auto" as well (it applies to the automatic repeats only)')
        return load
    if load.min_repeat > load.max_repeat:
        raise table.fail("min_repeat", f"at most load.max_repeat ({load.max_repeat})", load.min_repeat)
    return replace(load, repeat=load.max_repeat, auto_repeat=True)


def _workers(value: object) -> int:
    if value == "auto":
        return os.cpu_count() or 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number of worker processes (at least 1) or 'auto' (one per core)")
    return value
