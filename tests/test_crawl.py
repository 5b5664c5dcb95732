"""Discover councils and publications from the fake Ofsted site (real structure, loopback only)."""

from __future__ import annotations

from datetime import date

import pytest

from etl.crawl import (
    SiteStructureError,
    classify,
    crawl,
    discover_councils,
    parse_date,
    parse_provider_page,
    parse_search_page,
)
from etl.http import PoliteSession
from tests.support.fakesite import FakeOfstedSite, Fault
from tests.support.site_fixtures import site_settings

pytestmark = pytest.mark.site(councils=7, rows_per_page=3)


def test_walks_every_search_page_until_a_short_or_empty_one(site, tmp_path):
    settings = site_settings(site, tmp_path)
    with PoliteSession.from_settings(settings) as session:
        councils = discover_councils(session, settings)
    assert sorted(c.urn for c in councils) == sorted(site.councils)
    # 7 councils at 3 a page: pages at 0, 3, then 6, shorter than the first: the last one
    assert site.requests["/search"] == 3
    site.add_council("90999", "Zedshire")  # 8 councils: 3, 3, 2
    site.add_council("90998", "Zedbury")  # 9: three full pages, then the empty one ends the walk
    site.reset_counters()
    with PoliteSession.from_settings(settings) as session:
        assert len(discover_councils(session, settings)) == 9
    assert site.requests["/search"] == 4


def test_council_names_are_decoded_and_new_councils_keep_their_own_urn(site, tmp_path):
    settings = site_settings(site, tmp_path)
    result = crawl(settings)
    names = {c.urn: c.name for c in result.councils}
    assert names["2532287"] == "Bournemouth, Christchurch & Poole"  # &amp; in the page
    assert names["2532283"] == "Dorset"
    assert names["2637539"] == "North Northamptonshire"
    assert all(c.url == f"{site.url}/provider/44/{c.urn}" for c in result.councils)


def test_every_publication_is_recorded_with_kind_title_date_and_absolute_url(site, tmp_path):
    site.add_publication("2532283", "jtai", date(2022, 3, 4))
    relative = site.add_publication("2532283", "monitoring_visit", date(2021, 5, 6), relative=True)
    result = crawl(site_settings(site, tmp_path))
    listed = {(p.urn, p.url): p for p in result.publications}
    expected = [(urn, site.file_url(p)) for urn, pubs in site.publications.items() for p in pubs]
    assert sorted(listed) == sorted(expected)
    dorset = [p for p in result.publications if p.urn == "2532283"]
    assert {p.kind for p in dorset} >= {"inspection", "focused_visit", "monitoring_visit", "jtai"}
    visit = next(p for p in dorset if p.url == relative)
    assert visit.title == "Monitoring visit, pdf - 06 May 2021"
    assert visit.published == date(2021, 5, 6) and visit.local_authority == "Dorset"
    assert all(p.url.startswith("http://") for p in result.publications)
    inspection = next(p for p in dorset if p.kind == "inspection")
    assert inspection.url.startswith(site.files_url)


def test_markup_variant_with_the_documented_classes_gives_the_same_listing(site, tmp_path):
    settings = site_settings(site, tmp_path)
    real = crawl(settings)
    site.markup = "variant"
    variant = crawl(settings)
    assert variant.councils == real.councils
    assert sorted(variant.publications, key=lambda p: p.url) == sorted(real.publications, key=lambda p: p.url)


def test_search_markup_changed_fails_loudly(site, tmp_path):
    site.markup = "changed"
    with pytest.raises(SiteStructureError, match="markup has probably changed"):
        crawl(site_settings(site, tmp_path))


def test_provider_markup_changed_fails_loudly(site, tmp_path):
    site.markup = "changed-provider"
    with pytest.raises(SiteStructureError, match="publication-link"):
        crawl(site_settings(site, tmp_path))


def test_search_page_503_then_success_is_retried(site, tmp_path):
    site.inject("/search", Fault.http(503), Fault.http(502))
    result = crawl(site_settings(site, tmp_path))
    assert len(result.councils) == 7
    assert site.requests["/search"] == 3 + 2


def test_an_unreadable_council_page_is_reported_and_others_still_read(site, tmp_path):
    broken = next(iter(site.councils))
    site.inject(f"/provider/44/{broken}", Fault.http(500, times=None))
    result = crawl(site_settings(site, tmp_path))
    assert len(result.errors) == 1 and broken in result.errors[0] and "HTTP 500" in result.errors[0]
    assert {p.urn for p in result.publications} == set(site.councils) - {broken}


def test_named_councils_are_found_in_the_search_listing_and_only_their_pages_read(site, tmp_path):
    result = crawl(site_settings(site, tmp_path), councils=["2532287"])
    assert [(c.urn, c.name, c.url) for c in result.councils] == [
        ("2532287", "Bournemouth, Christchurch & Poole", f"{site.url}/provider/44/2532287")
    ]
    assert result.councils[0].latest == site.latest("2532287"), 'its "Latest report" date, for the crawl state'
    provider_pages = [path for path in site.requests if path.startswith("/provider/")]
    assert provider_pages == ["/provider/44/2532287"] and site.requests["/search"] == 3  # 7 councils, 3 a page
    assert {p.urn for p in result.publications} == {"2532287"} and result.missing == []


def test_a_council_the_listing_lacks_is_said_at_once_and_the_others_are_read(site, tmp_path, caplog):
    """The search listing is the site's list of councils: a URN not in it is not on the site
    (no page of its own is tried); a named council whose page fails is noted, read next run."""
    broken, fine = list(site.councils)[:2]
    site.inject(f"/provider/44/{broken}", Fault.http(404, times=None))
    result = crawl(site_settings(site, tmp_path), councils=[fine, "80557", broken, fine])
    assert result.missing == ["80557"] and "no council 80557 on the site" in caplog.text
    assert site.requests["/provider/44/80557"] == 0
    assert [c.urn for c in result.councils] == [fine, broken]
    assert result.failed == [broken] and result.unread == [broken] and "HTTP 404" in result.errors[0]
    assert {p.urn for p in result.publications} == {fine}


def test_limit_reads_only_that_many_council_pages(site, tmp_path):
    result = crawl(site_settings(site, tmp_path), limit=2)
    assert len(result.councils) == 2
    assert sum(n for path, n in site.requests.items() if path.startswith("/provider/")) == 2


def test_requests_carry_the_descriptive_user_agent(site, tmp_path):
    crawl(site_settings(site, tmp_path, OFSTED_USER_AGENT="ofsted-ratings-test (ops@example.org)"), limit=1)
    assert site.user_agents == {"ofsted-ratings-test (ops@example.org)"}


def test_a_site_that_ignores_start_does_not_loop_forever(tmp_path):
    with FakeOfstedSite(councils=4, rows_per_page=2) as site:
        original = site.search_page
        site.search_page = lambda query: original({**query, "start": ["0"]})
        settings = site_settings(site, tmp_path)
        with PoliteSession.from_settings(settings) as session:
            councils = discover_councils(session, settings)
    assert len(councils) == 2 and site.requests["/search"] == 2


@pytest.mark.parametrize(
    "title, kind",
    [
        ("Children's services inspection, pdf - 01 July 2019", "inspection"),
        ("Children\u2019s services inspection, pdf - 01 July 2019", "inspection"),
        ("Focused visit, pdf - 04 May 2020", "focused_visit"),
        ("Monitoring visit, pdf - 02 March 2021", "monitoring_visit"),
        ("Joint targeted area inspection, pdf - 03 March 2019", "jtai"),
        ("Children's services focused visit, pdf - 02 August 2021", "focused_visit"),
        ("Children's services monitoring visit, pdf - 02 March 2021", "monitoring_visit"),
        ("Joint area child protection inspection, pdf - 30 January 2024", "jtai"),
        ("Area SEND full inspection, pdf - 12 July 2024", "area_send"),
        ("Area SEND inspection, pdf - 04 April 2022", "area_send"),
        ("Joint area SEND revisit, pdf - 04 April 2022", "area_send"),
        ("Local area special educational needs and disabilities inspection, pdf - 04 April 2018", "area_send"),
        (
            "Inspection of services for children in need of help and protection, children looked after "
            "and care leavers, pdf - 10 May 2016",
            "inspection",
        ),
        ("Something new, pdf - 01 January 2026", "other"),
    ],
)
def test_kinds_from_listing_titles(title, kind):
    assert classify(title) == kind


def test_dates_from_listing_titles():
    assert parse_date("Children's services inspection, pdf - 01 July 2019") == date(2019, 7, 1)
    assert parse_date("Monitoring visit, pdf - 2 Mar 2021") == date(2021, 3, 2)
    assert parse_date("Focused visit") is None


def test_parsers_tolerate_whitespace_entities_and_absolute_links():
    page = """<ul><li><h3><a href=" https://reports.example/provider/44/80487 ">
                 Barnet </a></h3></li>
              <li><h3><a href="/provider/44/2532287">Bournemouth, Christchurch &amp; Poole</a></h3></li></ul>"""
    councils = parse_search_page(page, "https://reports.example/search?start=0")
    assert [(c.urn, c.name, c.url) for c in councils] == [
        ("80487", "Barnet", "https://reports.example/provider/44/80487"),
        ("2532287", "Bournemouth, Christchurch & Poole", "https://reports.example/provider/44/2532287"),
    ]
    provider = """<a class="publication-link" href="https://files.example/v1/file/1">Children&#039;s
        <span class="nonvisual">  Children&#039;s services inspection, pdf -
        01 July 2019 </span></a>
        <a class="publication-link" href="https://files.example/v1/file/1">again
        <span class="nonvisual">Children's services inspection, pdf - 01 July 2019</span></a>"""
    pubs = parse_provider_page(provider, councils[0])
    assert len(pubs) == 1  # the same link listed twice is one publication
    assert pubs[0].title == "Children's services inspection, pdf - 01 July 2019"
    assert pubs[0].published == date(2019, 7, 1) and pubs[0].kind == "inspection"
