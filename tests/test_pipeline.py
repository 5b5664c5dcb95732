"""The pipeline without Airflow (`ofsted run` / run_once) on both warehouse engines: the same
steps the DAG runs, against the fake site, with alerts to a local webhook receiver."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date, datetime

import pytest

from etl import pipeline
from etl.cli.run import EXIT_STOPPED
from etl.config import Settings
from etl.landing import LandingStore
from etl.warehouse import connect
from tests.support.fakesite import Fault
from tests.support.site_fixtures import site_settings
from tests.support.synth_reports import listing_pdf, report_pdf
from tests.support.webhook import WebhookReceiver

GRADES5 = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")


def count(url: str, sql: str) -> int:
    with connect(url) as wh:
        return wh.fetchone(sql)[0]


def snapshot(url: str) -> dict[str, int]:
    return {
        t: count(url, f"select count(*) from {t}")
        for t in ("councils", "publications", "reports", "judgements", "rating_history", "change_events")
    }


pytestmark = pytest.mark.site(councils=4, pdf_factory=listing_pdf)


def settings_for(site, tmp_path, warehouse_url, *alert_urls) -> Settings:
    return site_settings(site, tmp_path, OFSTED_WAREHOUSE_URL=warehouse_url, OFSTED_ALERT_URLS=" ".join(alert_urls))


def new_report(site, urn: str, grades: list[str]) -> None:
    site.add_publication(
        urn,
        "inspection",
        date(2026, 3, 20),
        report_pdf(
            "ilacs_2023",
            site.councils[urn],
            dict(zip(GRADES5, grades)),
            inspection_start=date(2026, 1, 26),
            inspection_end=date(2026, 2, 6),
        ),
    )


def test_first_run_is_baseline_then_new_reports_alert_once(site, tmp_path, warehouse_url):
    with WebhookReceiver() as hook:
        settings = settings_for(site, tmp_path, warehouse_url, hook.apprise_url)
        first = pipeline.run_once(settings)
        assert first.councils == 4 and first.downloaded == first.publications == first.parsed
        assert first.changes and first.alerts_sent == 0 and hook.messages == []
        before = snapshot(warehouse_url)

        again = pipeline.run_once(settings)
        assert (again.downloaded, again.parsed, again.changes, again.alerts_sent) == (0, 0, [], 0)
        assert snapshot(warehouse_url) == before, "a re-run with nothing new changes nothing"

        urn = next(iter(site.councils))
        new_report(site, urn, ["inadequate"] * 5)
        third = pipeline.run_once(settings)
        assert third.downloaded == 1 and len(third.changes) > 1
        assert third.alerts_sent == len(hook.messages) == 1, "one message for the report, listing every change"
        message = hook.messages[0]
        assert site.councils[urn] in message["title"] and "→ inadequate" in message["title"]
        assert message["message"].count("→ inadequate (declined)") == len(third.changes)
        assert pipeline.run_once(settings).alerts_sent == 0


def test_historic_alerts_on_request(site, tmp_path, warehouse_url):
    with WebhookReceiver() as hook:
        settings = settings_for(site, tmp_path, warehouse_url, hook.apprise_url)
        first = pipeline.run_once(settings, historic_alerts=True)
        with connect(settings.warehouse_url) as wh:
            graded = wh.fetchone("SELECT COUNT(*) FROM reports WHERE framework IS NOT NULL")[0]
            visits = wh.fetchone(
                "SELECT COUNT(*) FROM publications WHERE kind IN ('focused_visit', 'monitoring_visit', 'jtai')"
            )[0]
        assert first.alerts_sent == len(hook.messages) == graded + visits > 0, "one per report and visit"


def test_a_run_that_crashes_mid_way_loses_nothing_and_the_next_run_completes(
    site, tmp_path, warehouse_url, monkeypatch
):
    settings = settings_for(site, tmp_path, warehouse_url)
    reference = tmp_path / "reference"
    expected = snapshot_after_clean_run(site, reference, warehouse_url)

    def crash(*args, **kwargs):
        raise RuntimeError("worker lost mid-load")

    monkeypatch.setattr(pipeline, "detect_changes", crash)
    with pytest.raises(RuntimeError):
        pipeline.run_once(settings)
    monkeypatch.undo()
    assert count(warehouse_url, "select count(*) from pipeline_runs where status = 'failed'") == 1
    pipeline.run_once(settings)
    assert snapshot(warehouse_url) == expected


def test_files_quarantined_by_passing_faults_are_loaded_by_the_next_run(site, tmp_path, warehouse_url):
    """503s, 429s, resets and cut-off bodies that outlast the retries quarantine their files;
    with the faults gone, one more run (the same day) leaves the warehouse as a clean run's."""
    settings = settings_for(site, tmp_path, warehouse_url)
    expected = snapshot_after_clean_run(site, tmp_path / "reference", warehouse_url)
    faults = (
        Fault.http(503, times=None),
        Fault.http(429, retry_after=0, times=None),
        Fault.reset(times=None),
        Fault.truncate(0.5, times=None),
    )
    faulty = site.all_file_urls()[::3]
    for url, fault in zip(faulty, faults * len(faulty)):
        site.inject(url, fault)
    first = pipeline.run_once(settings)
    assert len(first.quarantined) == len(faulty) >= 4
    site.faults.clear()
    second = pipeline.run_once(settings)
    assert second.quarantined == [] and second.downloaded == len(faulty)
    assert snapshot(warehouse_url) == expected


def run_killed_after_download(settings, monkeypatch, chosen=lambda pubs: pubs) -> None:
    """A run whose download step stores (the chosen publications) and dies before reporting."""
    real_download = pipeline.download

    def killed_after_storing(settings, publications, **kwargs):
        real_download(settings, chosen(publications), **kwargs)
        raise SystemExit("worker killed")

    monkeypatch.setattr(pipeline, "download", killed_after_storing)
    with pytest.raises(SystemExit):
        pipeline.run_once(settings)
    monkeypatch.undo()


def test_files_stored_by_a_download_killed_before_reporting_are_recorded(site, tmp_path, warehouse_url, monkeypatch):
    """A worker killed after writing files to the landing store, but before its task returned
    them, must not lose those files: the retry skips them as already stored."""
    settings = settings_for(site, tmp_path, warehouse_url)
    reference = tmp_path / "reference"
    expected = snapshot_after_clean_run(site, reference, warehouse_url)
    run_killed_after_download(settings, monkeypatch, lambda pubs: pubs[:2])

    summary = pipeline.run_once(settings)
    listed = count(warehouse_url, "select count(*) from publications")
    assert summary.downloaded == listed, "the 2 orphaned files count as recorded this run"
    assert snapshot(warehouse_url) == expected
    assert count(warehouse_url, "select count(*) from stored_files") == listed


def test_an_unreadable_council_page_is_reported_and_read_next_run(site, tmp_path, warehouse_url):
    from dataclasses import replace

    with WebhookReceiver() as ops:
        settings = replace(settings_for(site, tmp_path, warehouse_url), ops_alert_urls=(ops.apprise_url,))
        urn, name = next(iter(site.councils.items()))
        site.inject(f"/provider/44/{urn}", Fault.http(500, times=None))
        first = pipeline.run_once(settings)
        assert [m["title"] for m in ops.messages] == [pipeline.OPERATORS_TITLE], "paged as the DAG pages"
        assert count(warehouse_url, f"select count(*) from publications where urn = '{urn}'") == 0
        site.faults.clear()
        second = pipeline.run_once(settings)
        assert len(ops.messages) == 1, "a run with nothing wrong pages no one"
    assert len(first.unread_pages) == 1 and first.unread_pages[0].startswith(f"{urn} {name}: ")
    assert any(line.startswith(f"  unread page  {urn}") for line in first.lines())
    assert first.downloaded == first.publications > 0, "the other councils are loaded"
    assert second.unread_pages == [] and second.downloaded == len(site.publications[urn]) > 0
    assert second.pages_read == 1, "the page that failed is read again next run, not left to the sweep"


def test_sigterm_stops_ofsted_run_which_is_marked_stopped_and_the_next_run_completes(site, tmp_path, warehouse_url):
    expected = snapshot_after_clean_run(site, tmp_path / "reference", warehouse_url)
    env = {
        **site.env(
            OFSTED_DATA_DIR=str(tmp_path), OFSTED_LANDING=str(tmp_path / "landing"), OFSTED_WAREHOUSE_URL=warehouse_url
        ),
        "PATH": "",
    }
    slow = {**env, "OFSTED_REQUESTS_PER_SECOND": "3"}  # downloads take several seconds
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "run"], env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        for line in proc.stderr:  # wait until the downloads have begun
            if "to fetch or revalidate" in line:
                break
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)  # stopped within 10 seconds
    finally:
        proc.kill()
    assert proc.returncode == EXIT_STOPPED, err[-3000:]
    assert "stopped" in err and "Traceback" not in err
    assert count(warehouse_url, "select count(*) from pipeline_runs where status = 'stopped'") == 1
    store = LandingStore.from_settings(Settings.from_env(env))
    landed = sum(store.known(url) is not None for url in site.all_file_urls())
    assert 0 < landed < len(site.all_file_urls()), "stopped mid-download"

    done = subprocess.run(
        [sys.executable, "-m", "etl.cli", "run"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert snapshot(warehouse_url) == expected
    assert count(warehouse_url, "select count(*) from pipeline_runs where status = 'running'") == 0


CLEAN_RUNS: dict[str, dict[str, int]] = {}  # engine -> snapshot: the `site` fixture's content never varies


def snapshot_after_clean_run(site, directory, warehouse_url) -> dict[str, int]:
    """What one clean run loads, measured in a separate warehouse of the same engine (once per
    engine and test process: several tests compare against it)."""
    engine = warehouse_url.split(":", 1)[0]
    if engine not in CLEAN_RUNS:
        CLEAN_RUNS[engine] = _clean_run(site, directory, engine)
    return CLEAN_RUNS[engine]


def _clean_run(site, directory, engine) -> dict[str, int]:
    if engine == "duckdb":
        url = f"duckdb:///{directory / 'w.duckdb'}"
        directory.mkdir()
        pipeline.run_once(settings_for(site, directory, url))
        return snapshot(url)
    from tests.support.warehouse_fixtures import fresh_postgres_url

    with fresh_postgres_url() as url:
        pipeline.run_once(settings_for(site, directory, url))
        return snapshot(url)


def test_ofsted_run_command_prints_what_it_loaded(site, tmp_path):
    env = site.env(OFSTED_DATA_DIR=str(tmp_path), OFSTED_LANDING=str(tmp_path / "landing"))
    done = subprocess.run(
        [sys.executable, "-m", "etl.cli", "run", "--limit", "2"],
        env={**env, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 councils" in done.stdout and "rating changes" in done.stdout
    assert f"duckdb:///{tmp_path / 'warehouse.duckdb'}" in done.stdout


def test_manual_run_parameters_limit_councils_backfill_from_a_date_and_reparse(site, tmp_path, warehouse_url):
    settings = settings_for(site, tmp_path, warehouse_url)
    urn = list(site.councils)[1]
    listed = site.publications[urn]
    since = sorted(p.published for p in listed)[1]
    run = pipeline.run_once(settings, councils=[urn], since=since)
    assert run.councils == 1 and run.publications == len(listed)
    assert run.downloaded == sum(p.published >= since for p in listed) < len(listed)
    assert count(warehouse_url, "select count(distinct urn) from reports") == 1
    before = snapshot(warehouse_url)
    reparsed = pipeline.run_once(settings, councils=[urn], since=since, reparse=True)
    assert (reparsed.downloaded, reparsed.parsed, reparsed.changes) == (0, run.downloaded, [])
    assert snapshot(warehouse_url) == before, "re-parsing with the same parser changes nothing"


def test_run_summary_names_council_publication_date_and_url_never_a_landing_path():
    from etl.pipeline import RunSummary, summarise_records
    from etl.records import ReportRecord

    landing = "/data/landing/ab/abcdef.pdf"
    held = ReportRecord(
        source=landing,
        is_report=True,
        framework="sif",
        local_authority="Barnet",
        urn="80487",
        published=date(2015, 8, 3),
        url="https://files.ofsted.gov.uk/v1/file/1",
        review_flags=("lscb: page-1 table says good, body says inadequate",),
        unread_areas=("overall_effectiveness",),
    )
    refused = ReportRecord(
        source=landing,
        is_report=False,
        reason="truncated PDF",
        urn="80487",
        url="https://files.ofsted.gov.uk/v1/file/2",
    )
    summary = RunSummary("r")
    summarise_records(summary, [held, refused])
    text = "\n".join(summary.lines())
    assert (
        "needs review Barnet (80487), published 2015-08-03, https://files.ofsted.gov.uk/v1/file/1: "
        "lscb: page-1 table says good, body says inadequate; overall_effectiveness: not read"
    ) in text
    assert (
        "not a report unknown council (80487), published date unknown, https://files.ofsted.gov.uk/v1/file/2: "
        "truncated PDF" in text
    )
    assert landing not in text


def test_a_reissued_report_supersedes_the_old_version_and_moves_the_ratings(site, tmp_path, warehouse_url, monkeypatch):
    """A correction under the same URL: stored as a new version, the old file and report kept and
    marked superseded; the history uses the correction (the old report's events are retracted).
    A download killed after storing the new version loses nothing."""
    from datetime import timedelta

    settings = settings_for(site, tmp_path, warehouse_url)
    urn = next(iter(site.councils))
    published = date.today() - timedelta(days=20)
    url = site.add_publication(
        urn,
        "inspection",
        published,
        report_pdf(
            "ilacs_2023",
            site.councils[urn],
            dict(zip(GRADES5, ["inadequate"] * 5)),
            inspection_start=published - timedelta(days=40),
            inspection_end=published - timedelta(days=30),
        ),
    )
    pipeline.run_once(settings)
    with connect(warehouse_url) as wh:
        [(old,)] = wh.fetchall("select sha256 from stored_files where url = ?", [url])

    site.reissue(
        url,
        report_pdf(
            "ilacs_2023",
            site.councils[urn],
            dict(zip(GRADES5, ["outstanding"] * 5)),
            inspection_start=published - timedelta(days=40),
            inspection_end=published - timedelta(days=30),
        ),
    )
    run_killed_after_download(settings, monkeypatch)
    # the listing's date does not move for a correction: the sweep reads the page within a day
    summary = pipeline.run_once(settings, now=datetime.now() + timedelta(hours=settings.sweep_hours))
    assert summary.downloaded == 1 and summary.retracted >= 1 and summary.changes

    with connect(warehouse_url) as wh:
        files = dict(wh.fetchall("select sha256, superseded_by from stored_files where url = ?", [url]))
        [new] = [sha for sha in files if sha != old]
        assert files == {old: new, new: None}
        assert dict(wh.fetchall("select report_id, superseded_by from reports where url = ?", [url])) == files
        grades = dict(wh.fetchall("select area, grade from current_ratings where urn = ?", [urn]))
        assert set(grades[a] for a in GRADES5) == {"outstanding"}
        # the old version's events are all retracted; the correction's events are current
        events = wh.fetchall("select report_id, retracted_at is not null from change_events where urn = ?", [urn])
        old_events = [retracted for r, retracted in events if r == old]
        assert old_events and all(old_events)
        assert [r for r, retracted in events if r == new and not retracted]
        # its text came through the parse stage (kept beside the file) and the load: only the
        # current version is searched, page by page, with a link to the page
        from etl.search import index_drift, search

        assert LandingStore.from_settings(settings).read_text(new)[0].startswith("Inspection of")
        hits = [
            h
            for h in search(wh, "outstanding", urn=urn, limit=1000, allowed_hosts=settings.allowed_hosts).hits
            if h.report_id in files
        ]
        assert hits and {h.report_id for h in hits} == {new} and hits[0].url == f"{url}#page={hits[0].page}"
        assert old not in {h.report_id for h in search(wh, "inadequate", urn=urn, limit=1000).hits}
        assert index_drift(wh) == []
        # the council page lists the report once, as its current version
        from etl.web import data

        story = data.council(wh, urn)
        assert [p["url"] for p in story["publications"]].count(url) == 1
        assert [(i["url"], i["framework"]) for i in story["inspections"]].count((url, "ilacs_2023")) == 1


def test_the_run_report_survives_xcom_and_pages_operators_by_one_rule():
    """The DAG's tasks hand their parts on as JSON; the report rebuilt from them is the one
    `ofsted run` builds: the same lines, the same paging and exit status."""
    import json

    from etl.pipeline import EXIT_COUNCILS_MISSING, RunSummary

    parts = [
        {
            "councils": 2,
            "missing_councils": [],
            "publications": 3,
            "unread_pages": [],
            "refused_links": [],
            "pages_read": 2,
            "new_publications": 3,
            "crawl_notes": [],
        },
        {"downloaded": 2, "quarantined": ["https://f/1: HTML page"], "newly_quarantined": 0},
        {
            "parsed": 2,
            "not_reports": [],
            "flagged": [],
            "priority_actions": [],
            "parse_retries": [],
            "unreadable": [],
            "held": 0,
        },
        {"changes": ["Barnet (80487) overall_effectiveness: good -> inadequate"], "retracted": 0},
        {"failed_checks": []},
        {"alerts_sent": 1, "alerts_failed": 0},
    ]
    built = RunSummary("r")
    for part in parts:
        built.add(json.loads(json.dumps(part)))
    passed_on = RunSummary.from_dict(json.loads(json.dumps(built.to_dict())))
    assert passed_on == built and passed_on.lines() == built.lines()
    assert "  quarantined  https://f/1: HTML page" in built.lines()
    # a file still quarantined from an earlier run is reported, but pages no one again
    assert not built.pages_operators() and built.exit_code() == 0
    for problem in (
        {"newly_quarantined": 1},
        {"unread_pages": ["80487 Barnet: HTTP 500"]},
        {"refused_links": ["x"]},
        {"not_reports": ["x"]},
        {"flagged": ["x"]},
        {"unreadable": ["x"]},
        {"alerts_failed": 1},
        {"failed_checks": ["x"]},
        {"missing_councils": ["no council 80557 on the site"]},
    ):
        assert RunSummary.from_dict(built.to_dict()).add(problem).pages_operators(), problem
    missing = RunSummary("r").add({"missing_councils": ["no council 80557 on the site"]})
    assert missing.exit_code() == EXIT_COUNCILS_MISSING != 0
    assert "  no council 80557 on the site" in missing.lines()
    # parse retries are reported each run, and page only once given up on (unreadable)
    assert not RunSummary("r").add({"parse_retries": ["x"]}).pages_operators()
