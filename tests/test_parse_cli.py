"""`ofsted parse --jsonl PATH...` through the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from tests.support.synth_reports import letter_pdf, not_found_html, report_pdf


def _ofsted() -> list[str]:
    exe = Path(sys.executable).with_name("ofsted")
    return [str(exe)] if exe.exists() else [shutil.which("ofsted") or "ofsted"]


def test_cli_prints_one_json_line_per_path_in_order(tmp_path):
    start, end = date(2021, 12, 6), date(2021, 12, 17)
    judgements = dict(
        overall_effectiveness="good",
        impact_of_leaders="good",
        help_and_protection="requires_improvement",
        in_care_and_care_leavers="good",
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "report.pdf").write_bytes(
        report_pdf("ilacs_2018", "Exampleshire", judgements, inspection_start=start, inspection_end=end)
    )
    (tmp_path / "a" / "missing.pdf").write_bytes(not_found_html())
    (tmp_path / "a" / "letter.pdf").write_bytes(
        letter_pdf("monitoring_visit", "Exampleshire", visit_start=start, visit_end=end)
    )
    paths = ["a/missing.pdf", "a/report.pdf", "a/letter.pdf", "a/not-there.pdf"]
    result = subprocess.run(
        _ofsted() + ["parse", "--jsonl", *paths], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in lines] == paths
    missing, report, letter, absent = lines
    assert missing["is_report"] is False and "Report not found" in missing["reason"]
    assert report["framework"] == "ilacs_2018" and report["judgements"] == judgements
    assert report["inspection_start"] == "2021-12-06" and report["lead_inspector"] == "Jane Smith"
    assert report["inspection_type"] == "standard"  # two weeks on site
    assert letter["kind"] == "monitoring_visit" and letter["judgements"] == {}
    assert letter["inspection_type"] is None  # ILACS inspections only
    assert absent["is_report"] is False and "cannot read" in absent["reason"]
