"""Issue 26: hourly runs that read only the council pages that moved (the search listing's
"Latest report" dates, a rolling sweep as the safety net), operators told when runs stop
succeeding, the pipeline's counts as Airflow metrics, and how fresh the data is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from etl import pipeline
from etl.config import Settings
from etl.crawl import CrawlState, PageState, latest_report, pages_to_read, parse_search_page
from etl.freshness import Freshness, check_stale, freshness
from etl.records import Council
from etl.warehouse import connect
from tests.support.fakesite import FakeOfstedSite
from tests.support.site_fixtures import site_settings
from tests.support.synth_reports import listing_pdf, report_pdf
from tests.support.webhook import WebhookReceiver

NOW = datetime(2026, 3, 2, 9, 0)
GRADES5 = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")


def provider_reads(site) -> dict[str, int]:
    return {path.rsplit("/", 1)[-1]: n for path, n in site.requests.items() if path.startswith("/provider/")}


def settings_for(site, tmp_path, **env) -> Settings:
    return site_settings(
        site, tmp_path, **{"OFSTED_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}", **env}
    )


def discover_at(settings, when: datetime, run_id: str):
    """The crawl step of a run at `when` (the schema once: the rest of a run is not needed)."""
    if run_id == "r0":
        pipeline.begin(settings, run_id)
    return pipeline.discover(settings, run_id, now=when)


# -- the listing's line ------------------------------------------------------------------------
def test_the_latest_report_line_is_read_from_each_result_in_either_markup_and_may_be_missing():
    with FakeOfstedSite(councils=3) as site:
        urns = list(site.councils)
        site.latest_text[urns[1]] = " 1 March 2026 "
        site.latest_text.pop(urns[2], None)
        site.publications[urns[2]].clear()  # nothing published: no line
        for markup in ("real", "variant"):
            site.markup = markup
            page = site.search_page({"start": ["0"], "rows": ["100"]})
            councils = {c.urn: c for c in parse_search_page(page, site.url)}
            assert councils[urns[0]].latest == site.latest(urns[0]) and councils[urns[0]].latest
            assert councils[urns[1]].latest == "1 March 2026"
            assert councils[urns[2]].latest is None


def test_the_line_belongs_to_its_own_result_not_a_neighbours():
    from bs4 import BeautifulSoup

    html = """<ul><li><a href="/provider/44/1">One</a></li>
              <li><a href="/provider/44/2">Two</a><span>Latest report:</span> <time>2 May 2025</time></li></ul>"""
    one, two = parse_search_page(html, "http://site")
    assert (one.latest, two.latest) == (None, "2 May 2025")
    assert latest_report(BeautifulSoup("<div>Latest report: 3 June 2024</div>", "lxml")) == "3 June 2024"


# -- which pages a run reads -------------------------------------------------------------------
def listed(*latest) -> list[Council]:
    return [
        Council(str(80000 + i), f"Council {i}", f"http://site/provider/44/{80000 + i}", text)
        for i, text in enumerate(latest)
    ]


def read_before(councils, hours_ago: float = 1.0, **overrides) -> CrawlState:
    pages = {c.urn: PageState(c.latest, NOW - timedelta(hours=hours_ago)) for c in councils}
    pages.update(overrides)
    return CrawlState(pages, len(councils), NOW - timedelta(hours=1), 0.0)


def test_untrusted_dates_are_read_and_noted_moved_ones_read_the_rest_wait_for_the_sweep():
    before = listed("1 May 2025", "1 May 2025", "1 May 2025", "1 May 2025", "1 May 2025", "1 May 2025")
    state = read_before(before)
    now = listed("2 May 2025", "soon", "1 May 2027", "1 April 2025", "1 May 2025", None)
    plan = pages_to_read(now, state, NOW, 24)
    assert plan.reasons == {
        "80000": "moved",
        "80001": "untrusted date (not a date)",
        "80002": "untrusted date (in the future)",
        "80003": "untrusted date (earlier than the 01 May 2025 listed before)",
    }
    notes = "\n".join(plan.notes)
    assert "'soon' is not a date" in notes and "in the future" in notes and "earlier than" in notes
    assert "1 search result(s) without" in notes


def test_new_councils_and_pages_that_failed_are_read_next_run():
    councils = listed("1 May 2025", "1 May 2025", "1 May 2025")
    state = read_before(councils[:2], **{"80001": PageState("1 May 2025", NOW - timedelta(hours=2), failed=True)})
    assert pages_to_read(councils, state, NOW, 24).reasons == {"80001": "retry", "80002": "new"}


def test_a_listing_without_the_line_reads_every_page_and_says_so_once():
    councils = listed(None, None, None)
    plan = pages_to_read(councils, read_before(councils), NOW, 24)
    assert set(plan.reasons) == {c.urn for c in councils}
    assert len(plan.notes) == 1 and 'no "Latest report" dates' in plan.notes[0]


def test_a_short_listing_is_not_councils_gone():
    councils = listed("1 May 2025", "1 May 2025", "1 May 2025")
    state = read_before(councils)
    plan = pages_to_read(councils[:2], state, NOW, 24)
    assert plan.reasons == {} and "the warehouse knows 3" in plan.notes[0]


def test_the_sweep_reads_every_page_once_a_day_in_hourly_shares():
    councils = listed(*["1 May 2025"] * 155)
    state = CrawlState({c.urn: PageState(c.latest, NOW - timedelta(hours=24)) for c in councils}, 155, NOW, 0.0)
    reads: list[str] = []
    for hour in range(1, 25):
        when = NOW + timedelta(hours=hour)
        plan = pages_to_read(councils, state, when, 24)
        assert set(plan.reasons.values()) <= {"sweep"} and len(plan.reasons) in (6, 7)
        reads += plan.reasons
        state = CrawlState(
            {**state.pages, **{u: PageState("1 May 2025", when) for u in plan.reasons}}, 155, plan.swept_at, plan.carry
        )
    assert sorted(reads) == sorted(c.urn for c in councils), "each page once in 24 hourly runs"


# -- against the fake site ---------------------------------------------------------------------
def test_a_quiet_hour_costs_two_search_pages_and_its_share_of_the_sweep(tmp_path):
    with FakeOfstedSite(councils=48, rows_per_page=25, pdf_factory=listing_pdf) as site:
        settings = settings_for(site, tmp_path)
        first = discover_at(settings, NOW, "r0")
        assert first.pages_read == 48 and site.requests["/search"] == 2
        seen: dict[str, int] = {}
        for hour in range(1, 25):
            site.reset_counters()
            found = discover_at(settings, NOW + timedelta(hours=hour), f"r{hour}")
            assert site.requests["/search"] == 2 and found.pages_read == 2 == len(provider_reads(site))
            assert not [p for p in site.requests if p.startswith("/v1/file/")], "nothing new, nothing fetched"
            for urn in provider_reads(site):
                seen[urn] = seen.get(urn, 0) + 1
        assert len(seen) == 48 and set(seen.values()) == {1}, "every page read once in a day"
        with connect(settings.warehouse_url) as wh:
            assert wh.fetchone("SELECT count(*) FROM council_pages WHERE failed_at IS NULL")[0] == 48


def test_a_new_publication_reads_only_its_councils_page_and_alerts(tmp_path):
    with FakeOfstedSite(councils=4, pdf_factory=listing_pdf) as site, WebhookReceiver() as hook:
        settings = settings_for(site, tmp_path, OFSTED_ALERT_URLS=hook.apprise_url)
        site.now = NOW
        pipeline.run_once(settings, now=NOW)
        urn = list(site.councils)[2]
        site.add_publication(
            urn,
            "inspection",
            date(2026, 3, 2),
            report_pdf(
                "ilacs_2023",
                site.councils[urn],
                dict(zip(GRADES5, ["inadequate"] * 5)),
                inspection_start=date(2026, 1, 26),
                inspection_end=date(2026, 2, 6),
            ),
            appears=NOW + timedelta(minutes=30),
        )
        site.reset_counters()
        site.advance(hours=1)
        summary = pipeline.run_once(settings, now=NOW + timedelta(hours=1))
        assert provider_reads(site) == {urn: 1} and site.requests["/search"] <= 2
        assert summary.pages_read == 1 and summary.new_publications == 1 and summary.downloaded == 1
        assert summary.alerts_sent == len(hook.messages) == 1 and site.councils[urn] in hook.messages[0]["title"]


def test_a_letter_that_does_not_move_the_date_is_found_by_the_sweep_within_a_day(tmp_path):
    with FakeOfstedSite(councils=6, pdf_factory=listing_pdf) as site:
        site.letters_move_latest = False
        settings = settings_for(site, tmp_path, OFSTED_SWEEP_HOURS="6")
        site.now = NOW
        discover_at(settings, NOW, "r0")
        urn = list(site.councils)[4]
        url = site.add_publication(urn, "focused_visit", date(2026, 3, 2), appears=NOW + timedelta(minutes=10))
        found_at = None
        for hour in range(1, 7):
            site.advance(hours=1)
            found = discover_at(settings, NOW + timedelta(hours=hour), f"r{hour}")
            if any(p.url == url for p in found.publications):
                found_at = hour
                break
        assert found_at is not None and found_at <= settings.sweep_hours


def test_a_listing_without_the_line_reads_every_page_once_noted(tmp_path):
    with FakeOfstedSite(councils=5, pdf_factory=listing_pdf) as site:
        settings = settings_for(site, tmp_path)
        discover_at(settings, NOW, "r0")
        site.latest_report = False
        site.reset_counters()
        found = discover_at(settings, NOW + timedelta(hours=1), "r1")
        assert found.pages_read == 5 == len(provider_reads(site))
        assert len(found.notes) == 1 and "all 5 council pages read" in found.notes[0]


def test_a_short_listing_keeps_every_council(tmp_path):
    with FakeOfstedSite(councils=5, pdf_factory=listing_pdf) as site:
        settings = settings_for(site, tmp_path)
        discover_at(settings, NOW, "r0")
        del site.councils[list(site.councils)[0]]
        found = discover_at(settings, NOW + timedelta(hours=1), "r1")
        assert found.councils == 4 and any("the warehouse knows 5" in n for n in found.notes)
        with connect(settings.warehouse_url) as wh:
            assert wh.fetchone("SELECT count(*) FROM councils")[0] == 5
            assert wh.fetchone("SELECT count(*) FROM publications")[0] == sum(map(len, site.publications.values()))


# -- operators ---------------------------------------------------------------------------------
def add_run(wh, run_id: str, started: datetime, status: str) -> None:
    wh.execute(
        "INSERT INTO pipeline_runs (run_id, started_at, finished_at, status) VALUES (?, ?, ?, ?)",
        [run_id, started, started + timedelta(minutes=5), status],
    )


def test_the_staleness_notice_is_sent_once_then_the_recovery_once(wh):
    with WebhookReceiver() as hook:
        ops = [hook.apprise_url]
        assert check_stale(wh, ops, 6, NOW) is None, "a warehouse no run has started on is not stale"
        add_run(wh, "ok", NOW - timedelta(hours=8), "success")
        add_run(wh, "bad", NOW - timedelta(hours=2), "failed")
        assert check_stale(wh, ops, 12, NOW) is None
        assert check_stale(wh, ops, 6, NOW) == "ofsted_ingest: no successful run for 8 hours"
        assert check_stale(wh, ops, 6, NOW + timedelta(hours=1)) is None, "sent once"
        assert len(hook.messages) == 1 and "once" in hook.messages[0]["message"]
        add_run(wh, "ok2", NOW + timedelta(hours=2), "success")
        assert check_stale(wh, ops, 6, NOW + timedelta(hours=3)) == "ofsted_ingest: runs succeed again"
        assert check_stale(wh, ops, 6, NOW + timedelta(hours=4)) is None
        assert [m["title"] for m in hook.messages] == [
            "ofsted_ingest: no successful run for 8 hours",
            "ofsted_ingest: runs succeed again",
        ]
        assert check_stale(wh, ops, 6, NOW + timedelta(hours=9)).startswith("ofsted_ingest: no successful run")


def test_ofsted_freshness_tells_operators_from_outside_airflow(tmp_path, capsys):
    from etl.cli import main

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with WebhookReceiver() as hook:
        env = {"OFSTED_WAREHOUSE_URL": url, "OFSTED_OPS_ALERT_URLS": hook.apprise_url}
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            assert main(["freshness"]) == 1
            with connect(url) as wh:
                add_run(wh, "old", datetime.now() - timedelta(days=2), "success")
            assert main(["freshness"]) == 1 and main(["freshness"]) == 1
        out = capsys.readouterr().out
        assert "Checked" in out and len(hook.messages) == 1 and "no successful run" in hook.messages[0]["title"]


def test_a_run_due_while_another_was_in_flight_is_skipped(wh):
    from etl.load import overlapping_run

    add_run(wh, "long", NOW - timedelta(minutes=50), "success")  # 08:10 to 08:15
    assert overlapping_run(wh, "next", NOW - timedelta(minutes=48)) == "long"
    assert overlapping_run(wh, "next", NOW) is None
    wh.execute("INSERT INTO pipeline_runs (run_id, started_at, status) VALUES ('now', ?, 'running')", [NOW])
    assert overlapping_run(wh, "next", NOW + timedelta(minutes=1)) == "now"
    assert overlapping_run(wh, "next", NOW + timedelta(hours=7)) is None, "a run killed long ago stops counting"


def test_the_counts_reach_airflows_stats(monkeypatch):
    from airflow.sdk.observability import stats

    from etl import metrics

    sent: list[tuple[str, str, object]] = []

    class Recorder:
        def incr(self, stat, count=1, rate=1, *, tags=None):
            sent.append(("incr", stat, count))

        def timing(self, stat, dt, *, tags=None):
            sent.append(("timing", stat, dt))

    monkeypatch.setattr(stats, "_backend", None, raising=False)
    stats.initialize(factory=Recorder, export_legacy_names=False)
    try:
        metrics.emit(
            {"councils_read": 7, "publications_found": 1, "files_parsed": 1, "held": 0, "alerts_sent": 2}, 12.5
        )
    finally:
        stats.initialize(
            factory=stats.NoStatsLogger if hasattr(stats, "NoStatsLogger") else Recorder, export_legacy_names=False
        )
        monkeypatch.setattr(stats, "_backend", None, raising=False)
    assert ("incr", "ofsted_ingest.councils_read", 7) in sent and ("incr", "ofsted_ingest.alerts_sent", 2) in sent
    assert {s for _, s, _ in sent} == {f"ofsted_ingest.{n}" for n in (*metrics.COUNTS, "run_seconds")}
    assert ("timing", "ofsted_ingest.run_seconds", timedelta(seconds=12.5)) in sent
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.emit({"councils": 1})


# -- people --------------------------------------------------------------------------------------
def test_the_freshness_line():
    assert Freshness(None, None).line(NOW) == "Not checked yet · last new report none yet"
    line = Freshness(datetime(2026, 3, 2, 8, 2), date(2024, 7, 23)).line(NOW)
    assert line == "Checked 08:02 today · last new report 23 July 2024"
    assert Freshness(datetime(2026, 3, 1, 23, 5), None).line(NOW).startswith("Checked 23:05 yesterday")
    assert Freshness(datetime(2026, 2, 1, 7, 0), None).line(NOW).startswith("Checked 07:00 on 1 February 2026")


def test_freshness_reads_the_last_success_and_the_newest_publication(wh):
    from tests.support.warehouse_fixtures import load_sample

    load_sample(wh)
    add_run(wh, "ok", NOW, "success")
    add_run(wh, "later", NOW + timedelta(hours=1), "failed")
    fresh = freshness(wh)
    assert fresh.checked == max(
        wh.fetchone("SELECT max(finished_at) FROM pipeline_runs WHERE status = 'success'")[0],
        NOW + timedelta(minutes=5),
    )
    assert fresh.last_report == wh.fetchone("SELECT max(published) FROM publications")[0]


# -- Airflow: runs never overlap ------------------------------------------------------------------
@pytest.mark.xdist_group("airflow_e2e")
@pytest.mark.timeout(600)
def test_a_run_started_while_one_is_in_flight_is_skipped_not_queued(airflow_home, tmp_path):
    from tests.support.airflow_fixtures import run_dag, start_dag
    from tests.support.fakesite import Fault

    with FakeOfstedSite(councils=1, pdf_factory=listing_pdf) as site:
        site.inject("/search", Fault.delay(40, times=1))  # the first run's crawl takes a while
        url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
        env = site.env(
            OFSTED_DATA_DIR=str(tmp_path),
            OFSTED_LANDING=str(tmp_path / "landing"),
            OFSTED_WAREHOUSE_URL=url,
            OFSTED_READ_TIMEOUT="60",
        )
        first = start_dag(airflow_home, env)
        try:
            for line in first.stdout:
                if "> discover" in line:
                    break
            second = run_dag(airflow_home, env, timeout=300)
            out, err = first.communicate(timeout=300)
        finally:
            first.kill()
        assert first.returncode == 0, out[-3000:] + err[-3000:]
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert " skipped: " in second.stdout and "was in flight when it became due" in second.stdout
        with connect(url) as wh:
            assert wh.fetchone("SELECT count(*) FROM pipeline_runs")[0] == 1, "the second run never began"
        assert site.requests["/search"] <= 2, "one crawl only"


def test_people_see_the_line_in_query_summary_the_workbook_and_the_feeds(tmp_path, capsys, monkeypatch):
    import io

    import openpyxl

    from etl import export
    from etl.cli import main
    from etl.web import feeds
    from tests.support.warehouse_fixtures import load_sample

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with connect(url) as wh:
        from etl.warehouse import migrate

        migrate(wh)
        load_sample(wh)
        add_run(wh, "ok", datetime.now() - timedelta(hours=1), "success")
        line = freshness(wh).line()
        book = export.workbook(
            export.read_datasets(wh, export.SHEETS.values()), wh.engine, allowed_hosts=(), freshness=line
        )
    assert line.startswith("Checked ") and " · last new report " in line
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", url)
    assert main(["query", "summary"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == line
    assert main(["query", "summary", "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert out.err.strip() == line and line not in out.out, "csv and json carry data only on stdout"
    about = openpyxl.load_workbook(io.BytesIO(book))["About"]
    assert ["Freshness", line] in [[c.value for c in row[:2]] for row in about.iter_rows()]
    checked = datetime(2026, 3, 2, 10, 2)
    feed = feeds.atom_feed("t", "http://x/f", "http://x", [], str, lambda u: u, checked=checked).decode()
    assert f"<updated>{checked.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z</updated>" in feed
