"""junit.xml read back as CI systems read it (junitparser): a case per gate and per measurement warning, FAIL and
NO_DATA as failures with the reason, WARN skipped, figures as properties, and suite counts that add up."""

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped

from tests.conftest import ROOT
from tests.unit.test_pipeline_stages import judged_run
from validator.report.junit import junit_xml

NO_GO = json.loads((ROOT / "reports/example/no-go/verdict.json").read_text())


def parse(text: str, tmp_path: Path) -> JUnitXml:
    path = tmp_path / "junit.xml"
    path.write_text(text)
    return JUnitXml.fromfile(str(path))


def cases(xml: JUnitXml) -> dict[str, object]:
    return {case.name: case for suite in xml for case in suite}


def test_each_gate_is_a_case_and_the_counts_add_up(tmp_path: Path) -> None:
    document = copy.deepcopy(NO_GO)
    document["gates"][3]["status"], document["gates"][3]["reason"] = "WARN", "straddles the bound"
    document["gates"][4]["status"], document["gates"][4]["reason"] = "NO_DATA", "no data: the query returned NaN"
    document["measurement"]["warnings"] = ["load generator saturated"]
    xml = parse(junit_xml(document, "run-1"), tmp_path)
    found = cases(xml)
    assert set(found) >= {g["name"] for g in document["gates"]} | {"measurement warning 1"}
    p99 = found["p99 latency"]
    assert isinstance(p99.result[0], Failure) and p99.result[0].type == "FAIL"
    assert p99.result[0].message == document["gates"][0]["reason"]
    assert isinstance(found["success rate"].result[0], Skipped)
    assert found["success rate"].result[0].message == "straddles the bound"
    assert found["throughput"].result[0].type == "NO_DATA"
    assert isinstance(found["measurement warning 1"].result[0], Skipped)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in xml:
        suite_cases = list(suite)
        counted = {
            "tests": len(suite_cases),
            "failures": sum(any(isinstance(r, Failure) for r in c.result) for c in suite_cases),
            "errors": sum(any(isinstance(r, Error) for r in c.result) for c in suite_cases),
            "skipped": sum(any(isinstance(r, Skipped) for r in c.result) for c in suite_cases),
        }
        assert counted == {key: getattr(suite, key) for key in counted}, suite.name
        totals = {key: totals[key] + counted[key] for key in totals}
    root = ET.fromstring((tmp_path / "junit.xml").read_text())
    assert {key: int(root.get(key)) for key in totals} == totals == {"tests": 6, "failures": 4, "errors": 0,
                                                                       "skipped": 2}  # fmt: skip


def test_figures_and_the_run_are_properties(tmp_path: Path) -> None:
    root = ET.fromstring(junit_xml(NO_GO, "run-7"))
    suite_properties = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    assert suite_properties["run_id"] == "run-7" and suite_properties["decision"] == "NO-GO"
    case = root.find("testsuite/testcase[@name='p99 latency']")
    properties = {p.get("name"): p.get("value") for p in case.find("properties")}
    gate = NO_GO["gates"][0]
    assert float(properties["measured.estimate"]) == gate["measured"]["estimate"]
    assert float(properties["change.high"]) == gate["change"]["high"]
    assert properties["severity"] == "critical" and properties["bound.max"] == "0.25"


def test_a_run_that_could_not_be_evaluated_is_an_error(tmp_path: Path) -> None:
    document = copy.deepcopy(NO_GO) | {"could_not_evaluate": "Prometheus at http://x is unreachable"}
    found = cases(parse(junit_xml(document, "r"), tmp_path))
    assert isinstance(found["could not evaluate"].result[0], Error)


def test_a_judged_run_writes_junit_beside_the_report(tmp_path: Path) -> None:
    lost = {"id": "w1", "index": 1, "requests_reported": 7, "last_report": None, "lost": True}
    outcome, verdict = judged_run(tmp_path, workers=[lost])
    xml = parse((outcome.run_dir / "junit.xml").read_text(), tmp_path)
    found = cases(xml)
    assert {g["name"] for g in verdict["gates"]} <= set(found)
    warnings = [name for name in found if name.startswith("measurement warning")]
    assert len(warnings) == len(outcome.measurement_warnings) >= 1
    assert all(not found[g["name"]].result for g in verdict["gates"] if g["status"] == "PASS")
