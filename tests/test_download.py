"""Download stage against the fake site's faults: incremental, robust, verified, quarantined."""

from __future__ import annotations

import hashlib
import time
from argparse import Namespace
from datetime import UTC, date, datetime, timedelta

import pytest

from etl.cli.crawl import command as crawl_command
from etl.config import Settings
from etl.crawl import crawl
from etl.download import download_new, verify_pdf
from etl.http import Fetched, RateLimiter, retry_after_seconds
from etl.landing import LandingStore
from tests.support.fakesite import FakeOfstedSite, Fault, minimal_pdf


def file_path(url: str) -> str:
    return "/v1/file/" + url.rsplit("/", 1)[-1]


def listing(settings):
    return crawl(settings).publications


def test_first_run_downloads_everything_and_a_repeat_run_nothing(site, settings):
    pubs = listing(settings)
    first = download_new(pubs, settings)
    assert len(first.stored) == len(pubs) == site.files_served and first.requests == len(pubs)
    store = LandingStore.from_settings(settings)
    assert {s.publication.url for s in store.stored_files()} == {p.url for p in pubs}
    stored = store.stored_files()[0]
    assert store.read(stored.sha256) == site.pdf_bytes(site.files[stored.publication.url.rsplit("/", 1)[-1]])
    assert stored.etag and stored.last_modified and stored.size > 0

    site.reset_counters()
    repeat = download_new(listing(settings), settings)
    assert repeat.stored == [] and repeat.skipped == len(pubs)
    assert repeat.requests == 0 and site.files_served == 0


def test_a_new_publication_between_runs_is_the_only_download(site, settings):
    download_new(listing(settings), settings)
    new_url = site.add_publication("2532283", "focused_visit", date(2026, 2, 3))
    site.reset_counters()
    result = download_new(listing(settings), settings)
    assert [s.publication.url for s in result.stored] == [new_url]
    assert result.stored[0].publication.kind == "focused_visit"
    assert site.files_served == 1 and result.requests == 1


def test_503_then_success_is_stored(site, settings):
    pubs = listing(settings)
    site.inject(pubs[0].url, Fault.http(503), Fault.http(500))
    result = download_new(pubs[:1], settings)
    assert len(result.stored) == 1 and result.quarantined == []
    assert site.requests[file_path(pubs[0].url)] == 3


def test_429_retry_after_is_honoured_up_to_the_cap(site, tmp_path):
    settings = Settings.from_env(site.env(OFSTED_LANDING=str(tmp_path), OFSTED_RETRY_AFTER_MAX="0.3"))
    pubs = listing(settings)
    site.inject(pubs[0].url, Fault.http(429, retry_after=30))
    started = time.monotonic()
    result = download_new(pubs[:1], settings)
    elapsed = time.monotonic() - started
    assert len(result.stored) == 1 and site.requests[file_path(pubs[0].url)] == 2
    assert 0.3 <= elapsed < 5  # waited the (capped) Retry-After, not the 30 s asked


def test_retry_after_as_seconds_or_http_date():
    from datetime import datetime

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_a_reset_connection_is_retried(site, settings):
    pubs = listing(settings)
    site.inject(pubs[0].url, Fault.reset())
    result = download_new(pubs[:1], settings)
    assert len(result.stored) == 1 and site.requests[file_path(pubs[0].url)] == 2


def test_a_truncated_body_is_retried_then_quarantined_with_its_bytes_then_recovered(site, settings):
    pubs = listing(settings)
    site.inject(pubs[0].url, Fault.truncate())  # once: the retry gets it whole
    assert len(download_new(pubs[:1], settings).stored) == 1

    site.inject(pubs[1].url, Fault.truncate(0.4, times=None))  # always cut off this run
    result = download_new(pubs[1:2], settings)
    assert result.stored == [] and len(result.quarantined) == 1
    q = result.quarantined[0]
    assert q.reason.startswith("truncated") and q.uri
    store = LandingStore.from_settings(settings)
    full = site.pdf_bytes(site.files[pubs[1].url.rsplit("/", 1)[-1]])
    assert store.read(q.uri) == full[: int(len(full) * 0.4)]  # the partial body kept for inspection
    assert store.known(pubs[1].url) is None

    site.faults.clear()  # the next day's run gets it
    later = download_new(pubs[1:2], settings, now=datetime.now(UTC) + timedelta(days=1))
    assert len(later.stored) == 1 and store.quarantined() == []
    assert store.read(q.uri)  # the rejected bytes are still there


def test_an_html_page_instead_of_a_pdf_is_quarantined_and_retried_when_asked(site, settings):
    pubs = listing(settings)
    site.inject(pubs[0].url, Fault.html(times=None))
    first = download_new(pubs, settings)
    assert len(first.stored) == len(pubs) - 1
    [q] = first.quarantined
    assert "not a PDF" in q.reason and "Report not found" in q.reason
    store = LandingStore.from_settings(settings)
    assert store.read(q.uri).lstrip().startswith(b"<!DOCTYPE html>")
    assert [x.publication.url for x in store.quarantined()] == [pubs[0].url]

    second = download_new(pubs, settings, retry_quarantined=True)  # still broken: attempts counted
    assert second.requests == 1 and store.quarantined()[0].attempts == 2

    site.faults.clear()
    third = download_new(pubs, settings, retry_quarantined=True)
    assert [s.publication.url for s in third.stored] == [pubs[0].url] and store.quarantined() == []


def test_a_file_cut_off_in_one_run_is_fetched_by_the_next(site, settings):
    """A passing fault costs one run, not a day: the next run, the same day, retries it first."""
    pubs = listing(settings)
    site.inject(pubs[0].url, Fault.truncate(0.5, times=None))
    first = download_new(pubs, settings)
    assert [q.publication.url for q in first.quarantined] == [pubs[0].url]
    site.faults.clear()
    second = download_new(pubs, settings)
    assert [s.publication.url for s in second.stored] == [pubs[0].url] and second.deferred == 0
    assert LandingStore.from_settings(settings).quarantined() == []


def test_a_report_not_found_page_is_fetched_once_more_then_waits_for_its_spacing(site, settings, monkeypatch):
    import etl.landing

    pubs = listing(settings)
    path = file_path(pubs[0].url)
    site.inject(pubs[0].url, Fault.html(times=None))
    day0 = datetime.now(UTC)
    fetches = []
    for day in (0, 0, 0, 1, 1, 2, 3):  # runs: three on the first day, then daily
        site.reset_counters()
        now = day0 + timedelta(days=day)
        monkeypatch.setattr(etl.landing, "now_utc", lambda now=now: now.replace(microsecond=0))  # the attempt's time
        result = download_new(pubs[:1], settings, now=now)
        fetches.append(site.requests[path])
        assert len(result.quarantined) + result.deferred == 1
    # attempt 1 (day 0), once more on the next run (attempt 2), then 1 day (day 1: attempt 3),
    # then 2 days (day 3: attempt 4)
    assert fetches == [1, 1, 0, 1, 0, 0, 1]
    assert LandingStore.from_settings(settings).quarantined()[0].attempts == 4


def test_a_link_to_a_host_not_allowed_is_refused_without_a_request(site, settings):
    evil = site.add_publication("2532283", "inspection", date(2025, 1, 2), host="localhost")
    pubs = listing(settings)
    assert evil in {p.url for p in pubs}  # listed (it is on the page) ...
    result = download_new(pubs, settings)
    [q] = result.quarantined  # ... but refused and reported
    assert q.publication.url == evil and "not in the allowed hosts" in q.reason and q.uri is None
    assert site.requests[file_path(evil)] == 0


def test_redirects_are_followed_only_to_allowed_hosts(site, settings):
    pubs = listing(settings)
    good, bad = pubs[0], pubs[1]
    site.inject(good.url, Fault.redirect(pubs[2].url.replace(file_path(pubs[2].url), file_path(good.url))))
    site.inject(bad.url, Fault.redirect(f"http://localhost:{site.files_url.rsplit(':', 1)[1]}{file_path(bad.url)}"))
    result = download_new([good, bad], settings)
    assert [s.publication.url for s in result.stored] == [good.url]
    [q] = result.quarantined
    assert q.publication.url == bad.url and "not in the allowed hosts" in q.reason
    assert site.requests[file_path(bad.url)] == 1  # the redirecting hop only


def test_http_404_is_quarantined_with_its_status(site, settings):
    pubs = listing(settings)
    site.inject(pubs[0].url, Fault.http(404, times=None))
    result = download_new(pubs[:1], settings)
    assert result.quarantined[0].reason == "HTTP 404" and site.requests[file_path(pubs[0].url)] == 1


def test_a_body_over_the_size_limit_is_cut_off_once_and_quarantined(site, tmp_path):
    pubs = listing(Settings.from_env(site.env()))
    size = len(site.pdf_bytes(site.files[pubs[0].url.rsplit("/", 1)[-1]]))
    limit = size // 2
    small = Settings.from_env(site.env(OFSTED_LANDING=str(tmp_path / "landing"), OFSTED_PARSE_MAX_BYTES=str(limit)))
    result = download_new(pubs[:1], small)
    q = result.quarantined[0]
    assert q.reason.startswith("too large") and "OFSTED_PARSE_MAX_BYTES" in q.reason
    assert site.requests[file_path(pubs[0].url)] == 1, "not retried: the same answer would come again"
    assert result.stored == [] and LandingStore(tmp_path / "landing").known(pubs[0].url) is None


def test_same_url_listed_twice_is_fetched_once_and_same_bytes_at_two_urls_stored_once(site, settings):
    pdf = minimal_pdf(["the same report"])
    a = site.add_publication("2532283", "inspection", date(2025, 1, 2), pdf=pdf)
    b = site.add_publication("2637539", "inspection", date(2025, 1, 2), pdf=pdf)
    pubs = [p for p in listing(settings) if p.url in (a, b)]
    result = download_new(pubs + pubs[:1], settings)
    assert len(result.stored) == 2 and result.requests == 2
    store = LandingStore.from_settings(settings)
    sha = hashlib.sha256(pdf).hexdigest()
    assert {s.publication.url for s in store.stored_files() if s.sha256 == sha} == {a, b}
    assert len(store.fs.glob(f"{store.root}/objects/*/{sha}.pdf")) == 1


@pytest.mark.parametrize(
    "body, complete, reason",
    [
        (b"", True, "empty body"),
        (b"<!DOCTYPE html><html><head><title>Report not found</title>", True, "not a PDF"),
        (b"%PDF-1.4\n1 0 obj\n", True, "incomplete PDF"),
        (b"%PDF-1.4\n1 0 obj\n", False, "truncated"),
    ],
)
def test_verify_rejects_what_is_not_a_complete_pdf(body, complete, reason):
    assert reason in verify_pdf(Fetched("u", 200, {}, body, complete=complete))


def test_verify_accepts_a_pdf_with_a_short_preamble_and_trailing_whitespace():
    pdf = b"\xef\xbb\xbf" + minimal_pdf(["x"]) + b"\r\n\x00\n"
    assert (
        verify_pdf(Fetched("u", 200, {"content-type": "application/octet-stream"}, pdf, expected_length=len(pdf)))
        is None
    )


def test_a_short_body_against_content_length_is_truncated():
    pdf = minimal_pdf(["x"])
    assert verify_pdf(Fetched("u", 200, {}, pdf, expected_length=len(pdf) + 10)).startswith("truncated")


def test_rate_limiter_spaces_requests_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    limiter = RateLimiter(50)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: limiter.wait(), range(11)))
    assert time.monotonic() - started >= 10 / 50 * 0.9


def test_crawl_command_prints_what_is_new(site, settings, capsys):
    assert crawl_command(Namespace(limit=2, council=None), settings) == 0
    out = capsys.readouterr().out
    assert "2 councils" in out and out.count("  new ") > 0 and "0 quarantined" in out
    site.add_publication("2532287", "monitoring_visit", date(2026, 4, 5))
    assert crawl_command(Namespace(limit=None, council=["2532287"]), settings) == 0
    out = capsys.readouterr().out
    assert out.count("  new ") == 1 and "Monitoring visit, pdf - 05 April 2026" in out


def test_crawl_command_reports_a_changed_site_with_a_clear_error(site, settings, capsys):
    site.markup = "changed"
    assert crawl_command(Namespace(limit=None, council=None), settings) == 2
    assert "markup has probably changed" in capsys.readouterr().err


def test_files_on_a_second_host_need_that_host_allowed(tmp_path):
    try:
        site = FakeOfstedSite(councils=1, files_host="127.0.0.2").start()
    except OSError:
        pytest.skip("cannot bind 127.0.0.2 here")
    with site:
        only_site = Settings.from_env(site.env(OFSTED_LANDING=str(tmp_path / "a"), OFSTED_ALLOWED_HOSTS=""))
        assert only_site.allowed_hosts == ("127.0.0.1", "files.ofsted.gov.uk")  # the default list
        refused = download_new(crawl(only_site).publications, only_site)
        assert refused.stored == [] and refused.requests == 0
        assert all("not in the allowed hosts" in q.reason for q in refused.quarantined)
        both = Settings.from_env(site.env(OFSTED_LANDING=str(tmp_path / "b")))  # 127.0.0.1 127.0.0.2
        assert len(download_new(crawl(both).publications, both).stored) == len(site.files)
