"""Parsing runs in a child process with a memory cap and a hard wall-clock kill: a hostile file
becomes that one file's failed result, and the rest of the batch is parsed."""

from __future__ import annotations

import json
import resource
import subprocess
from dataclasses import replace
from datetime import date

from etl.config import Settings
from etl.parse.isolate import ParsePool
from tests.support.hostile_pdfs import flate_bomb_pdf
from tests.support.synth_reports import letter_pdf, report_pdf
from tests.test_parse_cli import _ofsted

MiB = 1024 * 1024
SETTINGS = Settings.from_env({"OFSTED_PARSE_MAX_MEMORY": str(512 * MiB)})
JUDGEMENTS = dict(
    overall_effectiveness="good",
    impact_of_leaders="good",
    help_and_protection="requires_improvement",
    in_care_and_care_leavers="good",
)


def good_report() -> bytes:
    return report_pdf(
        "ilacs_2018", "Exampleshire", JUDGEMENTS, inspection_start=date(2021, 12, 6), inspection_end=date(2021, 12, 17)
    )


def test_a_memory_bomb_fails_alone_and_the_pool_goes_on():
    bomb = flate_bomb_pdf(60 * MiB)  # ~1.2 GB for pdfium uncapped
    with ParsePool(SETTINGS) as pool:
        before, hostile, after = (
            pool.parse_bytes(good_report(), "a.pdf"),
            pool.parse_bytes(bomb, "bomb.pdf"),
            pool.parse_bytes(good_report(), "b.pdf"),
        )
    assert before.judgements == JUDGEMENTS and after.judgements == JUDGEMENTS
    assert hostile.is_report is False and hostile.failed
    assert "memory" in hostile.reason and "OFSTED_PARSE_MAX_MEMORY" in hostile.reason


def test_a_parse_past_the_wall_clock_is_killed():
    slow = replace(SETTINGS, parse_timeout=0.2, parse_max_memory=2048 * MiB)
    with ParsePool(slow) as pool:
        killed = pool.parse_bytes(flate_bomb_pdf(30 * MiB), "slow.pdf")  # one native call of ~1 s
        fine = pool.parse_bytes(
            letter_pdf("monitoring_visit", "Exampleshire", visit_start=date(2022, 1, 3), visit_end=date(2022, 1, 4)),
            "letter.pdf",
        )
    assert killed.failed and killed.is_report is False and "time limit" in killed.reason
    assert fine.is_report and fine.kind == "monitoring_visit"


def test_the_pool_reuses_one_child_for_many_files():
    with ParsePool(SETTINGS) as pool:
        first = pool.parse_bytes(good_report(), "a.pdf")
        pid = pool.worker_pid
        for _ in range(3):
            pool.parse_bytes(good_report(), "a.pdf")
        assert pool.worker_pid == pid
    assert first.judgements == JUDGEMENTS


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (1536 * MiB, 1536 * MiB))  # a worker with 1.5 GiB


def test_ofsted_parse_survives_a_hostile_file_on_a_memory_limited_worker(tmp_path):
    (tmp_path / "a.pdf").write_bytes(good_report())
    (tmp_path / "bomb.pdf").write_bytes(flate_bomb_pdf(100 * MiB))  # ~2 GB for pdfium uncapped
    (tmp_path / "b.pdf").write_bytes(good_report())
    env = {"PATH": "/usr/bin:/bin", "OFSTED_PARSE_MAX_MEMORY": str(512 * MiB)}
    result = subprocess.run(
        _ofsted() + ["parse", "a.pdf", "bomb.pdf", "b.pdf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    a, bomb, b = [json.loads(line) for line in result.stdout.splitlines()]
    assert a["judgements"] == JUDGEMENTS and b["judgements"] == JUDGEMENTS
    assert bomb["source"] == "bomb.pdf" and bomb["is_report"] is False and bomb["failed"] is True


def test_a_hostile_file_in_a_run_fails_alone_is_retried_then_reported_unreadable(tmp_path, warehouse_url):
    """`ofsted run` end to end: the rest of the batch loads, the hostile file is tried on the
    next runs and, after the third failure, recorded as unreadable for the operators."""
    from etl import pipeline
    from etl.warehouse import connect
    from tests.support.fakesite import FakeOfstedSite
    from tests.support.synth_reports import listing_pdf

    with FakeOfstedSite(councils=2, pdf_factory=listing_pdf) as site:
        bomb = site.add_publication("2532283", "inspection", date(2025, 6, 1), flate_bomb_pdf(60 * MiB))
        settings = Settings.from_env(
            site.env(
                OFSTED_DATA_DIR=str(tmp_path),
                OFSTED_LANDING=str(tmp_path / "landing"),
                OFSTED_WAREHOUSE_URL=warehouse_url,
                OFSTED_PARSE_MAX_MEMORY=str(512 * MiB),
            )
        )
        first = pipeline.run_once(settings)
        second = pipeline.run_once(settings)
        third = pipeline.run_once(settings)
    with connect(warehouse_url) as wh:
        reports = dict(wh.fetchall("SELECT url, is_report FROM reports"))
        runs = wh.fetchall("SELECT DISTINCT status FROM pipeline_runs")
    assert first.parsed == first.downloaded == first.publications
    assert len(reports) == first.publications and reports[bomb] is False
    assert sum(reports.values()) == first.publications - 1  # every other file loaded
    assert [bomb in line for line in first.parse_retries] == [True] and first.unreadable == []
    assert second.parsed == 1 and "attempt 2 of 3" in second.parse_retries[0]
    assert third.parse_retries == [] and bomb in third.unreadable[0]
    assert runs == [("success",)]


def test_a_letters_visit_and_notes_come_back_from_the_child_process():
    from tests.support.synth_reports import focused_visit_pdf

    with ParsePool(SETTINGS) as pool:
        record = pool.parse_bytes(
            focused_visit_pdf(
                "Exampleshire", visit_start=date(2021, 6, 23), visit_end=date(2021, 6, 24), priority_style="unreadable"
            ),
            "l.pdf",
        )
    assert record.visit.areas == ("in_care",) and record.visit.priority_actions == 1
    assert record.visit.priority_action_texts == () and record.visit.focus.startswith("Inspectors looked at")
    assert record.review_notes and record.review_flags == ()
