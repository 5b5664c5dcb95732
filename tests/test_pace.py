"""The crawler's manners over time, as the fake site records them: the configured rate across
sessions (one per task), quarantine retry spacing, a total deadline per download, and
revalidation of recent files (a re-issued report is stored as a new version)."""

from __future__ import annotations

import time
from argparse import Namespace
from datetime import UTC, date, datetime, timedelta

from etl.cli import build_parser
from etl.cli.crawl import command as crawl_command
from etl.crawl import crawl
from etl.download import download_new
from etl.landing import LandingStore
from tests.support.fakesite import Fault
from tests.support.site_fixtures import site_settings

RATE = 5.0


def file_path(url: str) -> str:
    return "/v1/file/" + url.rsplit("/", 1)[-1]


def test_the_site_sees_the_configured_rate_across_tasks_and_threads(site, tmp_path):
    """Crawl, then download in four batches, each with a session of its own (as tasks run one
    after another in one process under dag.test), four threads each: counted by the site's log."""
    settings = site_settings(site, tmp_path, OFSTED_REQUESTS_PER_SECOND=str(RATE), OFSTED_CONCURRENCY="4")
    pubs = crawl(settings).publications
    for batch in (pubs[i::4] for i in range(4)):
        download_new(batch, settings)
    times = sorted(t for t, _ in site.log)
    n, span = len(times), times[-1] - times[0]
    assert n == len(pubs) + len(site.councils) + 2  # pages (two search pages) and every file once
    # never above the rate, also where a new session (task) starts: were each session to open
    # with a request at once, the four batches would save four intervals
    assert site.window_max(1.0) <= RATE + 1
    assert span >= (n - 2) / RATE
    # and not far below it (generous: the machine may be busy)
    assert span <= (n - 1) / RATE * 1.5 + 0.5


def quarantined_forever(site, settings):
    pubs = crawl(settings).publications
    site.inject(pubs[0].url, Fault.html(times=None))
    return pubs[:1]


def test_a_quarantined_file_is_retried_next_run_then_after_1_2_4_days_capped(site, tmp_path, monkeypatch):
    settings = site_settings(site, tmp_path, OFSTED_QUARANTINE_RETRY_DAYS="3")
    pubs = quarantined_forever(site, settings)
    day0 = datetime.now(UTC)
    tried = []
    for day in range(12):
        today = day0 + timedelta(days=day)
        monkeypatch.setattr("etl.landing.now_utc", lambda today=today: today)  # when the attempt is recorded
        site.reset_counters()
        result = download_new(pubs, settings, now=today)
        if site.requests:
            tried.append(day)
            assert len(result.quarantined) == 1 and result.deferred == 0
        else:
            assert result.quarantined == [] and result.deferred == 1
    # the next run (day 1), then after 1, 2, then 3 days (4 is capped at OFSTED_QUARANTINE_RETRY_DAYS=3)
    assert tried == [0, 1, 2, 4, 7, 10]
    assert LandingStore.from_settings(settings).quarantined()[0].attempts == 6


def test_retry_quarantined_fetches_at_once_from_the_command_line(site, tmp_path, capsys):
    settings = site_settings(site, tmp_path)
    pubs = quarantined_forever(site, settings)
    download_new(pubs, settings)
    assert download_new(pubs, settings).requests == 1, "the next run tries once more"
    site.reset_counters()
    assert download_new(pubs, settings).requests == 0, "then, the same day: not yet due"
    args = build_parser().parse_args(["crawl", "--retry-quarantined"])
    assert args.retry_quarantined is True
    crawl_command(args, settings)
    assert site.requests[file_path(pubs[0].url)] == 1
    assert "1 quarantined" in capsys.readouterr().out
    site.reset_counters()
    crawl_command(Namespace(limit=None, council=None), settings)
    assert "0 quarantined, 1 quarantined and not yet due" in capsys.readouterr().out


def test_a_trickling_server_is_cut_off_at_the_download_deadline(site, tmp_path):
    """The read timeout (5 s here) applies per socket read: a server sending 64 bytes every
    0.2 s never trips it. The deadline ends the download, without retrying it."""
    settings = site_settings(site, tmp_path, OFSTED_DOWNLOAD_DEADLINE="0.6")
    pubs = crawl(settings).publications
    site.inject(pubs[0].url, Fault.trickle(0.2, times=None))
    started = time.monotonic()
    result = download_new(pubs[:1], settings)
    elapsed = time.monotonic() - started
    [q] = result.quarantined
    assert q.reason.startswith("deadline passed") and "OFSTED_DOWNLOAD_DEADLINE" in q.reason
    assert 0.5 <= elapsed < 2.0
    assert result.requests == 1, "a download past its deadline is not retried in the same run"
    assert LandingStore.from_settings(settings).known(pubs[0].url) is None


def test_recent_files_are_revalidated_and_a_reissued_one_stored_as_a_new_version(site, tmp_path):
    settings = site_settings(site, tmp_path)
    urn = next(iter(site.councils))
    recent = site.add_publication(urn, "focused_visit", date.today() - timedelta(days=10))
    pubs = crawl(settings).publications
    first = download_new(pubs, settings)
    old = next(s for s in first.stored if s.publication.url == recent)

    site.reset_counters()  # nothing changed: one conditional GET, answered 304
    again = download_new(pubs, settings)
    assert again.stored == [] and again.revalidated == 1 and again.skipped == len(pubs) - 1
    assert list(site.requests) == [file_path(recent)] and site.files_served == 0

    body = site.reissue(recent)
    site.reset_counters()
    reissued = download_new(pubs, settings)
    [new] = reissued.reissued
    assert reissued.stored == [new] and new.supersedes == old.sha256 and new.sha256 != old.sha256
    store = LandingStore.from_settings(settings)
    assert store.read(new.sha256) == body and store.known(recent).sha256 == new.sha256
    assert store.read(old.sha256), "the old version is kept"
    assert site.files_served == 1


def test_revalidation_uses_if_modified_since_when_there_is_no_etag(site, tmp_path):
    settings = site_settings(site, tmp_path)
    urn = next(iter(site.councils))
    recent = site.add_publication(urn, "focused_visit", date.today() - timedelta(days=3))
    pubs = [p for p in crawl(settings).publications if p.url == recent]
    store = LandingStore.from_settings(settings)
    stored = download_new(pubs, settings).stored[0]
    store.store(store.read(stored.sha256), stored.publication, last_modified=stored.last_modified)  # no ETag
    site.reset_counters()
    assert download_new(pubs, settings).revalidated == 1 and site.files_served == 0
    time.sleep(1.1)  # HTTP dates have whole seconds
    site.reissue(recent)
    assert len(download_new(pubs, settings).reissued) == 1


def test_listing_pages_are_revalidated_with_their_validators(site, tmp_path):
    settings = site_settings(site, tmp_path)
    pages = LandingStore.from_settings(settings)
    first = crawl(settings, pages=pages)
    site.reset_counters()
    again = crawl(settings, pages=pages)  # every page answered 304, read from the cache
    assert again.publications == first.publications and again.councils == first.councils
    assert site.not_modified == sum(site.requests.values()) == len(site.councils) + 2
    urn = next(iter(site.councils))
    new = site.add_publication(urn, "focused_visit", date(2026, 5, 1))
    site.reset_counters()
    changed = crawl(settings, pages=pages)  # that council's page changed: read in full, and so
    # did the search page that shows its "Latest report" date
    assert new in {p.url for p in changed.publications} and site.not_modified == len(site.councils)
