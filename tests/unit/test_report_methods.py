"""Words for interval methods: each structured method reads as the report's sentence."""

import json

import pytest

from validator.report.methods import describe, method_parameters
from validator.stats.intervals import BlockSpread, Method, MethodKind, PooledRuns, RunNoiseFloor

BLOCK = Method(MethodKind.BLOCK, windows=(60, 60), blocks=(3, 4), resamples=2000, spread=BlockSpread(1.1, 1.05, 35))


@pytest.mark.parametrize(
    ("method", "words"),
    [
        (
            Method(MethodKind.EXACT, auto=True, bucket_share=0.35),
            "auto → exact bootstrap percentile (order statistic over the bucket CDF); widened to bucket edges "
            "(35 % of the width is bucket width)",
        ),
        (
            BLOCK,
            "circular block bootstrap over 60+60 windows (block 3/4, 2000 resamples), spread ×1.16 (correlation "
            "beyond the blocks ×1.10, Student-t for 35 blocks ×1.05)",
        ),
        (
            Method(MethodKind.HIERARCHICAL, windows=(30, 28, 30), resamples=2000),
            "hierarchical bootstrap: 3 runs resampled with replacement, each run's 30/28/30 windows kept together "
            "(2000 resamples)",
        ),
        (
            Method(MethodKind.EXACT, auto=True, ratio=True, run_noise=RunNoiseFloor(False)),
            "auto → bootstrap percentile of the ratio (independent draws) of exact order-statistic draws; "
            "run-to-run noise not included (baseline holds one run)",
        ),
        (
            Method(MethodKind.BLOCK, ratio=True, windows=(60,), blocks=(2,), resamples=500),
            "ratio of independent circular block bootstrap over 60 windows (block 2, 500 resamples)",
        ),
        (
            Method(MethodKind.BETWEEN_RUNS, runs=PooledRuns(2, 3, 0.0005, 0.001, 0.0009129)),
            "Student t, each side's variance from the spread of the runs' own estimates (2 + 3 runs "
            "pooled, 3 df; one run's SD 0.05 %, raised to the least one run can vary, 0.10 %; standard error of the "
            "ratio 0.09 %)",
        ),
        (
            Method(MethodKind.BETWEEN_RUNS, runs=PooledRuns(3, 0, 0.02, 0.01, 0.0115)),
            "Student t from the spread of the candidate's 3 runs' own estimates (2 df; one run's SD 2.00 %; standard "
            "error 1.15 %)",
        ),
        (
            Method(MethodKind.NEWCOMBE, run_noise=RunNoiseFloor(True, 0.001, 3, 1, log_scale=False)),
            "Newcombe hybrid score (difference of Wilson intervals); widened by the baseline's run-to-run noise floor "
            "(σ 0.100 pp, 3 runs; 1 candidate run(s))",
        ),
        (
            Method(MethodKind.RATE_RATIO, run_noise=RunNoiseFloor(True, 0.03, 4, 2, log_scale=True)),
            "exact conditional binomial (Clopper-Pearson on count share); widened by the baseline's run-to-run noise "
            "floor (σ 3.00 %, 4 runs; 2 candidate run(s))",
        ),
        (Method(MethodKind.SINGLE_VALUE), "none (single PromQL value)"),
    ],
)
def test_each_method_reads_as_the_report_sentence(method: Method, words: str) -> None:
    assert describe(method) == words


def test_method_parameters_are_plain_json() -> None:
    document = json.loads(json.dumps(method_parameters(BLOCK)))
    assert document["kind"] == "block" and document["blocks"] == [3, 4]
    assert document["spread"] == {"correlation": 1.1, "calibration": 1.05, "blocks": 35}
