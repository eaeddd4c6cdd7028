"""`junit.xml`: the verdict as JUnit test results, for CI systems that show test reports (GitLab, Jenkins, …).

One test case per gate — FAIL and NO_DATA are failures with the reason as message, WARN is skipped with its
reason, PASS passes — and one per measurement warning (skipped: it keeps the verdict from GO without failing
a gate). A run that could not be evaluated, or was interrupted, is one test case with an error. Every figure
and interval is a property of its test case. Built from verdict.json's document, with the stdlib's XML.
"""

import math
import xml.etree.ElementTree as ET
from typing import Any

JUNIT_FILE = "junit.xml"
FAILING = ("FAIL", "NO_DATA")


def junit_xml(document: dict[str, Any], run_id: str) -> str:
    """The JUnit XML text of one verdict document (verdict.json)."""
    name = f"slagate {document['service']} {document.get('version') or ''}".strip()
    root = ET.Element("testsuites", name=name)
    gates = _suite(root, f"{name}: gates", document, run_id)
    for gate in document["gates"]:
        _gate_case(gates, gate, f"slagate.{document['service']}.gates")
    run = _suite(root, f"{name}: measurement", document, run_id)
    cls = f"slagate.{document['service']}.measurement"
    for why in ("incomplete", "could_not_evaluate"):
        if document.get(why):
            case = ET.SubElement(run, "testcase", classname=cls, name=why.replace("_", " "))
            ET.SubElement(case, "error", message=document[why], type=why.upper()).text = document[why]
    warnings = (document.get("measurement") or {}).get("warnings", [])
    for index, warning in enumerate(warnings, 1):
        case = ET.SubElement(run, "testcase", classname=cls, name=f"measurement warning {index}")
        ET.SubElement(case, "skipped", message=warning, type="WARN")
    if document.get("measurement") is not None and not warnings:
        ET.SubElement(run, "testcase", classname=cls, name="measurement checks")  # assessed, no warning
    for suite in (gates, run):
        _count(suite)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in (gates, run))))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(root: ET.Element, name: str, document: dict[str, Any], run_id: str) -> ET.Element:
    suite = ET.SubElement(root, "testsuite", name=name)
    properties = ET.SubElement(suite, "properties")
    facts = {
        "run_id": run_id,
        "decision": document["decision"],
        "exit_code": document["exit_code"],
        "rollout": document["rollout"]["strategy"],
        "baseline": (document.get("baseline") or {}).get("version"),
        "reference": (document.get("reference") or {}).get("version"),
    }
    for key, value in facts.items():
        _property(properties, key, value)
    return suite


def _gate_case(suite: ET.Element, gate: dict[str, Any], classname: str) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=gate["name"])
    properties = ET.SubElement(case, "properties")
    for key in ("metric", "severity", "status", "unit", "source"):
        _property(properties, key, gate[key])
    for bound, value in gate["bounds"].items():
        _property(properties, f"bound.{bound}", value)
    for side in ("measured", "baseline", "change", "reference", "drift"):
        for key, value in (gate.get(side) or {}).items():
            if key in ("estimate", "low", "high", "coverage", "kind"):
                _property(properties, f"{side}.{key}", value)
    for check in gate["checks"]:
        _property(properties, f"check {check['bound']}", f"{check['status']}: {check['reason']}")
    detail = "\n".join(f"{c['bound']}: {c['status']} — {c['reason']}" for c in gate["checks"]) or gate["reason"]
    if gate["status"] in FAILING:
        ET.SubElement(case, "failure", message=gate["reason"], type=gate["status"]).text = detail
    elif gate["status"] == "WARN":
        ET.SubElement(case, "skipped", message=gate["reason"], type="WARN")


def _property(properties: ET.Element, name: str, value: Any) -> None:
    if value is None:
        return
    text = repr(value) if isinstance(value, float) and math.isfinite(value) else str(value)
    ET.SubElement(properties, "property", name=name, value=text)


def _count(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(case.find("failure") is not None for case in cases)))
    suite.set("errors", str(sum(case.find("error") is not None for case in cases)))
    suite.set("skipped", str(sum(case.find("skipped") is not None for case in cases)))
