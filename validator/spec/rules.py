"""`[rules]`: how the canary that follows is watched — the alert rules' window and hold times, the label that tells
canary from stable series on the dashboard, and an optional availability objective (`[rules.slo]`) for burn-rate
alerts. The per-route breakdown uses `[prometheus] route_label`."""

from dataclasses import dataclass

from validator.spec.reader import Reader, fraction_between, nonempty_string, positive
from validator.spec.units import parse_duration

OBJECTIVE_EXPECTED = "an availability objective below 100%, such as '99.9%'"


@dataclass(frozen=True)
class SloSpec:
    """An availability objective on the success rate: alerts fire on the error budget's burn rate."""

    objective: float  # e.g. 0.999: at most 0.1 % of requests may fail over the SLO period


@dataclass(frozen=True)
class RulesSpec:
    """The live watch of the canary: recording window, `for:` holds, the canary/stable label, the SLO."""

    window: float = 300.0  # each recording rule's range (seconds)
    hold: float = 120.0  # `for:` of a bound's alert: breached this long before it fires
    absent_hold: float = 300.0  # `for:` of a critical gate's no-data alert
    track_label: str | None = None  # the label telling canary from stable series (e.g. `track`, `version`)
    canary: str = "canary"  # its value on the canary's series
    stable: str = "stable"  # its value on the stable version's series
    slo: SloSpec | None = None


def rules_section(table: Reader) -> RulesSpec:
    duration = positive(parse_duration, "a duration")
    defaults = RulesSpec()
    slo_table = table.sub("slo", required=False)
    objective = slo_table.get("objective", fraction_between(0.0, 1.0, OBJECTIVE_EXPECTED), OBJECTIVE_EXPECTED, None)
    return RulesSpec(
        window=table.get("window", duration, "", defaults.window),
        hold=table.get("for", duration, "", defaults.hold),
        absent_hold=table.get("absent_for", duration, "", defaults.absent_hold),
        track_label=table.get("track_label", nonempty_string, "a label name such as 'track'", None),
        canary=table.text("canary", defaults.canary),
        stable=table.text("stable", defaults.stable),
        slo=None if objective is None else SloSpec(objective),
    )
