"""The whole product under Airflow: ofsted_ingest run with dag.test() against the fake site,
the embedded DuckDB warehouse and a webhook receiver for alerts. Runs follow one story:
a run stopped mid-download, the baseline, new reports that change grades while one alert target
is down, then nothing new while the kept deliveries go out."""

from __future__ import annotations

import signal
import time
from datetime import date
from urllib.parse import urlsplit

import pytest

from etl.warehouse import connect
from tests.support.airflow_fixtures import run_dag, start_dag
from tests.support.fakesite import FakeOfstedSite
from tests.support.synth_reports import letter_pdf, report_pdf
from tests.support.webhook import WebhookReceiver

pytestmark = [pytest.mark.xdist_group("airflow_e2e"), pytest.mark.timeout(1200)]

GRADES4 = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care_and_care_leavers")
GRADES5 = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")


def ilacs(framework, council, grades, end, keys):
    start = date.fromordinal(end.toordinal() - 11)
    return report_pdf(
        framework,
        council,
        dict(zip(keys, grades)),
        inspection_start=start,
        inspection_end=end,
        lead_inspector="Pat Inspector",
    )


def build_site() -> FakeOfstedSite:
    site = FakeOfstedSite(councils=0, publications=False)
    site.add_council("80487", "Barnet")
    site.add_publication(
        "80487",
        "inspection",
        date(2017, 7, 7),
        report_pdf(
            "sif",
            "Barnet",
            {
                k: "inadequate"
                for k in (
                    "overall_effectiveness",
                    "help_and_protection",
                    "looked_after_and_permanence",
                    "adoption_performance",
                    "care_leavers",
                    "leadership_management_governance",
                )
            },
            inspection_start=date(2017, 4, 24),
            inspection_end=date(2017, 5, 18),
            published=date(2017, 7, 7),
        ),
    )
    site.add_publication(
        "80487",
        "focused_visit",
        date(2018, 6, 1),
        letter_pdf("focused_visit", "Barnet", visit_start=date(2018, 4, 10), visit_end=date(2018, 4, 11)),
    )
    site.add_publication(
        "80487", "inspection", date(2019, 7, 1), ilacs("ilacs_2018", "Barnet", ["good"] * 4, date(2019, 5, 24), GRADES4)
    )
    site.add_council("2532287", "Bournemouth, Christchurch & Poole")
    site.add_publication(
        "2532287",
        "inspection",
        date(2024, 3, 1),
        ilacs(
            "ilacs_2023",
            "Bournemouth, Christchurch and Poole",
            ["requires_improvement", "requires_improvement", "inadequate", "good", "good"],
            date(2024, 1, 19),
            GRADES5,
        ),
    )
    site.add_council("2733698", "Westmorland and Furness")
    site.add_publication(
        "2733698",
        "inspection",
        date(2024, 5, 1),
        ilacs("ilacs_2023", "Westmorland and Furness", ["requires_improvement"] * 5, date(2024, 3, 15), GRADES5),
    )
    broken = site.add_publication("2733698", "monitoring_visit", date(2024, 9, 1), b"%PDF-never-served")
    site.inject(broken, *[site_fault_html() for _ in range(50)])
    site.broken = broken
    return site


def site_fault_html():
    from tests.support.fakesite import Fault

    return Fault.html()


def rows(url: str, sql: str, params=()) -> list[tuple]:
    with connect(url) as wh:
        return wh.fetchall(sql, params)


def run(home, env, label, timings, conf=None):
    started = time.perf_counter()
    done = run_dag(home, env, conf)
    timings[label] = time.perf_counter() - started
    assert done.returncode == 0, f"{label} failed:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    return done.stdout


def stop_mid_download(home, env, conf, timings) -> None:
    started = time.perf_counter()
    proc = start_dag(home, env, conf)
    try:
        for line in proc.stdout:  # the terminal's task lines: wait for the downloads
            if "> download[" in line:
                break
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    timings["stopped run"] = time.perf_counter() - started
    assert proc.returncode == 130, f"{out[-3000:]}\n{err[-3000:]}"
    assert "stopped (SIGTERM)" in out and "marked stopped" in out


def snapshot(url: str) -> dict[str, int]:
    return {
        t: rows(url, f"select count(*) from {t}")[0][0]
        for t in (
            "councils",
            "publications",
            "reports",
            "judgements",
            "rating_history",
            "change_events",
            "stored_files",
            "current_ratings",
            "publication_text",
        )
    }


def clean_run_snapshot(site, directory) -> dict[str, int]:
    """What one uninterrupted run (the same steps, without Airflow) loads from the same site."""
    from etl.config import Settings
    from etl.pipeline import run_once

    directory.mkdir()
    url = f"duckdb:///{directory / 'warehouse.duckdb'}"
    run_once(Settings.from_env(site.env(OFSTED_DATA_DIR=str(directory), OFSTED_WAREHOUSE_URL=url)))
    return snapshot(url)


def test_pipeline_story_baseline_repeat_change_and_retried_delivery(airflow_home, tmp_path):
    warehouse = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    timings: dict[str, float] = {}
    with build_site() as site, WebhookReceiver() as hook:
        ops = WebhookReceiver()
        env = site.env(
            OFSTED_DATA_DIR=str(tmp_path),
            OFSTED_LANDING=str(tmp_path / "landing"),
            OFSTED_WAREHOUSE_URL=warehouse,
            OFSTED_ALERT_URLS=hook.apprise_url,
            OFSTED_OPS_ALERT_URLS=ops.apprise_url,
        )

        # 0. a run stopped by SIGTERM in the middle of its downloads (two councils, slowly):
        # it ends within 10 s, marked stopped; what it stored is picked up by the next run
        stop_mid_download(
            airflow_home, {**env, "OFSTED_REQUESTS_PER_SECOND": "1"}, {"councils": ["80487", "2532287"]}, timings
        )
        assert rows(warehouse, "select status from pipeline_runs") == [("stopped",)]

        # 1. first run: every report loaded, history built, nothing alerted (baseline)
        out = run(airflow_home, env, "first run", timings)
        assert snapshot(warehouse) == clean_run_snapshot(site, tmp_path / "clean"), (
            "after the stopped run, the next one leaves the warehouse as an uninterrupted run"
        )
        assert "No tasks to run" not in out
        assert "=== ofsted_ingest" in out and "rating changes" in out
        assert rows(warehouse, "select count(*) from reports where framework is not null")[0][0] == 4
        assert rows(warehouse, "select count(*) from publications")[0][0] == 6
        # every page's text came from the parse tasks through the landing store, searchable
        assert rows(warehouse, "select count(*) from publication_text")[0][0] >= 4
        from etl import search

        with connect(warehouse) as wh:
            assert search.search(wh, '"local authority"').documents >= 4 and search.index_drift(wh) == []
        current = dict(rows(warehouse, "select area, grade from current_ratings where urn = ? ", ("80487",)))
        assert current["overall_effectiveness"] == "good"
        assert rows(warehouse, "select count(*) from rating_changes where urn = ?", ("80487",))[0][0] >= 1
        assert hook.messages == [], "changes found by the first run are the baseline: no alerts"
        assert "quarantined" in out and "Report not found" in out
        assert len(ops.messages) == 1 and "Report not found" in ops.messages[0]["message"]

        # 2. two new reports: BCP's changes two grades, Westmorland and Furness's declines one.
        # One message per report and target, with the facts; the second target is down: the run
        # succeeds, its deliveries are kept and operators told. The "Report not found" page
        # quarantined by the first run is fetched once more (a passing fault would have cleared).
        late = WebhookReceiver()
        late.down()
        env = {**env, "OFSTED_ALERT_URLS": f"{hook.apprise_url} {late.apprise_url}"}
        site.add_publication(
            "2532287",
            "inspection",
            date(2026, 2, 20),
            ilacs(
                "ilacs_2023",
                "Bournemouth, Christchurch and Poole",
                ["good", "requires_improvement", "good", "good", "good"],
                date(2026, 1, 16),
                GRADES5,
            ),
        )
        site.add_publication(
            "2733698",
            "inspection",
            date(2026, 3, 6),
            ilacs(
                "ilacs_2023",
                "Westmorland and Furness",
                [
                    "requires_improvement",
                    "requires_improvement",
                    "requires_improvement",
                    "inadequate",
                    "requires_improvement",
                ],
                date(2026, 1, 30),
                GRADES5,
            ),
        )
        site.reset_counters()
        run(airflow_home, env, "new reports", timings)
        assert site.files_served == 2 and site.requests[urlsplit(site.broken).path] == 1
        assert len(ops.messages) == 2 and "2 alert deliveries failed" in ops.messages[-1]["message"]
        assert len(hook.messages) == 2, hook.messages
        [bcp] = [m for m in hook.messages if "Bournemouth" in m["title"]]
        text = bcp["title"] + " " + bcp["message"]
        assert text.count("Bournemouth, Christchurch & Poole") >= 2  # the council as the site lists it
        assert "(+1 area)" in bcp["title"]
        assert "overall effectiveness" in text and "help and protection" in text
        assert "requires improvement → good" in text and "inadequate → good" in text
        assert "/v1/file/" in text and "20 February 2026" in text
        [wf] = [m for m in hook.messages if "Westmorland and Furness" in m["title"]]
        assert "declined" in wf["title"]
        failed = rows(warehouse, "select count(*) from alert_messages where status <> 'delivered'")[0][0]
        assert failed == 2 and late.messages == []

        # 3. nothing new: no file fetched (the quarantined page waits a day now), no new alert,
        # nothing for operators (a file still quarantined is not news); the kept deliveries
        # reach the target that is back, once
        late.up()
        site.reset_counters()
        run(airflow_home, env, "nothing new, retried delivery", timings)
        assert site.files_served == 0 and site.requests[urlsplit(site.broken).path] == 0
        assert len(ops.messages) == 2, "a file still quarantined is not reported to operators again"
        assert len(hook.messages) == 2
        assert sorted(m["title"] for m in late.messages) == sorted(m["title"] for m in hook.messages)
        assert rows(warehouse, "select count(*) from alert_messages where status <> 'delivered'")[0][0] == 0
        late.down()
    print("run times: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


def test_a_failing_task_notifies_the_operators(airflow_home, tmp_path):
    """Task-level on_failure_callback (set via default_args) fires on Airflow's final failure."""
    with WebhookReceiver() as ops:
        env = {
            "OFSTED_DATA_DIR": str(tmp_path),
            "OFSTED_SITE_URL": "http://127.0.0.1:9",
            "OFSTED_WAREHOUSE_URL": "postgresql://postgres@127.0.0.1:9/unreachable",
            "OFSTED_OPS_ALERT_URLS": ops.apprise_url,
            "OFSTED_RETRY_DELAY": "0.1",
        }
        done = run_dag(airflow_home, env, args=("--no-check",))  # the warehouse fails first
        assert done.returncode == 1, done.stdout[-3000:]
        assert "finished: failed" in done.stdout
        assert len(ops.messages) == 1, "one notice for the failed task, none for its retries"
        assert ops.messages[0]["title"] == "ofsted_ingest failed: begin"
        assert "after 3 tries" in ops.messages[0]["message"]
