"""The lines slagate prints on the terminal: what the load will be, the verdict and where the report is."""

from validator.judge.verdict import Verdict
from validator.load.distributed import MasterOptions
from validator.prometheus.reading import Reading
from validator.report.decision import plan_line
from validator.report.decision import waiver_warnings as waiver_warnings  # re-exported for the CLI
from validator.spec import Spec
from validator.timing import Breakdown, Phase

EXIT_CODES_HELP = """\b
Exit codes:
  0  GO          all gates PASS (a short warning gate may be waived): [rollout] go plan,
                 standard by default: 5 → 25 → 50 → 100 %, 1 h holds
  3  CAUTION     no critical gate failed, something is WARN/FAIL/NO_DATA: [rollout] caution plan,
                 slow by default: 1 → 5 → 25 → 50 → 100 %, 4 h holds
                 (--caution-exit-code 0 makes CAUTION pass a CI step)
  1  NO-GO       a critical gate FAILed or had NO_DATA: do not roll out
  2  usage       bad arguments, spec, baseline or locustfile (one line names the file and key)
  4  could not evaluate   e.g. Prometheus or the target unreachable, a full disk; the verdict is NO-GO
  5  incomplete  stopped by Ctrl-C or SIGTERM: what was measured is kept, the verdict is NO-GO
"""


def describe_load(spec: Spec, master: MasterOptions | None) -> str:
    """The load about to run, in one line: model, users or rate, duration, and where the workers are."""
    load = spec.load
    shape = (
        f"{load.arrival_rate:g} req/s ({load.arrival}, up to {load.users} users)"
        if load.open_model
        else f"{load.users} users"
    )
    if master is not None and master.remote:
        where = f", {master.expect_workers} remote worker(s) via {master.bind_host}:{master.bind_port}"
    else:
        where = "" if load.workers == 1 and master is None else f", {load.workers} local worker process(es)"
    return f"{shape} for {load.duration:g} s{where}"


def verdict_summary(verdict: Verdict) -> str:
    """The decision and its rollout in one line (verdict.json's `verdict`)."""
    return f"{verdict.decision.value} — rollout {plan_line(verdict)}"


def verdict_line(verdict: Verdict) -> str:
    """The verdict and its rollout, as the last word of a run."""
    return f"verdict {verdict_summary(verdict)}"


def reading_lines(reading: Reading, spec: Spec) -> list[str]:
    """`slagate check`'s lines: each claim of the spec with what Prometheus has for it, problems marked."""
    lines = [f"check: {spec.path} against Prometheus at {spec.prometheus.shown_url}"]
    lines += [f"{'PROBLEM ' if f.problem else ''}{f.key}: {f.text}" for f in reading.findings]
    if not reading.facts.get("metadata_checked"):
        lines.append("note: /api/v1/metadata could not be read; metric types were not checked")
    problems = len(reading.problems)
    lines.append(f"{problems} problem{'s' if problems != 1 else ''}" + (": fix the spec before a run" if problems
                                                                          else ": the spec's reading holds so far"))
    return lines


PHASE_WORDS = {
    Phase.IMPORTS: "start-up and imports",
    Phase.INPUTS: "spec and baseline read",
    Phase.DEMO_START: "demo: target and Prometheus started",
    Phase.DEMO_SCRAPE: "demo: wait for the first scrape",
    Phase.PREFLIGHT: "preflight: locustfile, Prometheus, target",
    Phase.LOAD_START: "load: Locust set up",
    Phase.LOAD: "load: warm-up and steady window",
    Phase.LOAD_STOP: "load: users stopped, histograms collected",
    Phase.REPORT_IMPORTS: "imports for the report (charts, history)",
    Phase.SCRAPE_WAIT: "wait for a scrape after the window",
    Phase.QUERIES: "Prometheus queries and client figures",
    Phase.JUDGING: "judging: checks, gates, verdict",
    Phase.CHARTS: "charts",
    Phase.WRITING: "writing artifacts",
    Phase.DEMO_STOP: "demo: target and Prometheus stopped",
}
BREAKDOWN_TITLE = "where the time went (seconds, from the process's start):"


def breakdown_lines(breakdown: Breakdown) -> list[str]:
    """`--verbose`: one line per phase that ran, then what no phase accounts for and the totals; with a load, the
    seconds outside it, before its first request and after its end."""
    rows = [(PHASE_WORDS[phase], seconds) for phase, seconds in breakdown.seconds.items()]
    rows += [("other: run folder, progress lines, gaps", breakdown.other), ("total", breakdown.wall)]
    if breakdown.load_start is not None and breakdown.load_end is not None:
        rows += [
            ("outside the load", breakdown.outside_load),
            ("start → load start", breakdown.load_start),
            ("load end → verdict", breakdown.wall - breakdown.load_end),
        ]
    width = max(len(words) for words, _ in rows)
    return [BREAKDOWN_TITLE] + [f"  {words:<{width}}  {seconds:7.2f}" for words, seconds in rows]
