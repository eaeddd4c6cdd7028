"""The judged run: everything the report stage renders, made by the pipeline from the run's files, so that the
report computes nothing and reads no file."""

from dataclasses import dataclass
from pathlib import Path

from validator.baseline.file import Baseline
from validator.judge.baseline_compare import Comparability
from validator.judge.judgement import Judgement
from validator.judge.observations import Observation
from validator.load.result import LoadResult
from validator.measure.checks import MeasurementChecks
from validator.measure.record import MetricsRecord
from validator.spec import Spec


@dataclass(frozen=True)
class RunArtifacts:
    """A judged run and what it was judged from."""

    run_dir: Path
    spec: Spec
    judgement: Judgement
    metrics: MetricsRecord
    load: LoadResult | None
    baseline: Baseline | None
    exit_code: int
    checks: MeasurementChecks | None = None  # doubts about the load's own measurement, if assessed
    comparability: Comparability | None = None  # the run's load against the baseline's
    loads: tuple[LoadResult, ...] = ()  # each run's load (run-<i>/load.json with load.repeat > 1), else the run's own
    observations: tuple[Observation, ...] = ()  # what the judge noticed beyond the gates
    reference: Baseline | None = None  # the pinned reference baseline of max_drift
