"""`[rollout.<plan>]` and `[[waivers]]`: the staged canary plans a verdict picks from, and the warning gates
people have agreed to let stand short until a date."""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from validator.spec.gates import GateSpec
from validator.spec.reader import Reader, choice, non_negative_duration, nonempty_string
from validator.spec.units import parse_fraction

PLAN_NAMES = ("standard", "slow", "very_slow")
DEFAULT_DECIDER = "release manager"
HOUR = 3600.0


@dataclass(frozen=True)
class Stage:
    """One canary step: the share of traffic on the candidate, how long it holds there, and who may promote it."""

    traffic_percent: float
    hold_s: float
    decides: str = DEFAULT_DECIDER


@dataclass(frozen=True)
class RolloutPlan:
    """A named sequence of stages; `none` (no stages) is the plan of a NO-GO."""

    name: str
    stages: tuple[Stage, ...] = ()

    @property
    def steps(self) -> tuple[float, ...]:
        """The traffic percentages, stage by stage."""
        return tuple(stage.traffic_percent for stage in self.stages)


NO_ROLLOUT = RolloutPlan("none")


def _plan(name: str, percents: tuple[float, ...], hold_h: float) -> RolloutPlan:
    return RolloutPlan(name, tuple(Stage(p, hold_h * HOUR) for p in percents))


DEFAULT_PLANS: dict[str, RolloutPlan] = {
    "standard": _plan("standard", (5, 25, 50, 100), 1),
    "slow": _plan("slow", (1, 5, 25, 50, 100), 4),
    "very_slow": _plan("very_slow", (1, 2, 5, 10, 25, 50, 100), 24),
}


@dataclass(frozen=True)
class RolloutSpec:
    """The plans by name, and which plan a GO and a CAUTION follow."""

    plans: Mapping[str, RolloutPlan] = field(default_factory=lambda: dict(DEFAULT_PLANS))
    go: str = "standard"
    caution: str = "slow"

    def plan_for(self, decision: str) -> RolloutPlan:
        """The plan of a decision value ("GO", "CAUTION"; anything else rolls nothing out)."""
        name = {"GO": self.go, "CAUTION": self.caution}.get(decision)
        return NO_ROLLOUT if name is None else self.plans[name]


@dataclass(frozen=True)
class Waiver:
    """A warning gate allowed to be short without keeping the verdict from GO, until `expires` (inclusive)."""

    gate: str
    reason: str
    approved_by: str
    expires: datetime.date

    def expired(self, today: datetime.date) -> bool:
        return today > self.expires


def rollout_section(table: Reader) -> RolloutSpec:
    """`[rollout]`: `go` and `caution` name a plan; `[rollout.standard|slow|very_slow]` override the defaults."""
    plans = {name: _plan_section(table.sub(name, required=False), name) for name in PLAN_NAMES}
    pick = choice(PLAN_NAMES)
    expected = " or ".join(f"'{name}'" for name in PLAN_NAMES)
    return RolloutSpec(
        plans,
        go=table.get("go", pick, expected, RolloutSpec.go),
        caution=table.get("caution", pick, expected, RolloutSpec.caution),
    )


def _plan_section(table: Reader, name: str) -> RolloutPlan:
    default = DEFAULT_PLANS[name]
    hold = table.get("hold", non_negative_duration, "a duration such as '1h'", None)
    decides = table.get("decides", nonempty_string, "a role or name, such as 'release manager'", DEFAULT_DECIDER)
    entries = table.get("stages", _list, "a list of stages, such as ['5%', '25%', '100%']", None)
    if entries is None:
        stages = tuple(Stage(s.traffic_percent, s.hold_s if hold is None else hold, decides) for s in default.stages)
        return RolloutPlan(name, stages)
    stages = tuple(
        _stage(table, i, entry, default.stages[0].hold_s if hold is None else hold, decides)
        for i, entry in enumerate(entries)
    )
    percents = [stage.traffic_percent for stage in stages]
    if not stages or percents != sorted(set(percents)) or percents[-1] != 100:
        raise table.fail("stages", "traffic shares that rise stage by stage and end at 100%", entries)
    return RolloutPlan(name, stages)


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError("a list of stages, such as ['5%', '25%', '100%']")
    return value


def _stage(table: Reader, index: int, entry: object, hold: float, decides: str) -> Stage:
    """One stage: a traffic share ('5%') or a table {traffic, hold, decides}."""
    if not isinstance(entry, Mapping):
        entry = {"traffic": entry}
    reader = table.child(entry, f"{table.key('stages')}[{index}]")
    return Stage(
        traffic_percent=round(reader.get("traffic", _percent, "a traffic share such as '5%'") * 100, 6),
        hold_s=reader.get("hold", non_negative_duration, "a duration such as '1h'", hold),
        decides=reader.get("decides", nonempty_string, "a role or name", decides),
    )


def _percent(value: object) -> float:
    share = parse_fraction(value)
    if not 0 < share <= 1:
        raise ValueError("a traffic share above 0% and at most 100%")
    return share


def waivers_section(root: Reader, gates: tuple[GateSpec, ...]) -> tuple[Waiver, ...]:
    """`[[waivers]]`: each names a *warning* gate of this spec, a reason, who approved it and when it expires."""
    entries = root.get("waivers", _tables, "a list of [[waivers]] tables", [])
    severities = {gate.name: gate.severity for gate in gates}
    waivers = []
    for i, entry in enumerate(entries):
        table = root.child(entry, f"waivers[{i}]")
        name = table.text("gate")
        if name not in severities:
            raise table.fail("gate", "the name of a gate in this spec: " + ", ".join(severities), name)
        if severities[name] != "warning":
            raise table.fail("gate", "a warning gate (a critical gate cannot be waived)", name)
        waivers.append(
            Waiver(
                gate=name,
                reason=table.text("reason"),
                approved_by=table.text("approved_by"),
                expires=table.get("expires", _date, "a date such as 2027-01-31"),
            )
        )
    return tuple(waivers)


def _tables(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ValueError("a list of [[waivers]] tables")
    return value


def _date(value: object) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("a date such as 2027-01-31")
