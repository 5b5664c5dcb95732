"""The allow-list checks the host the HTTP client will actually connect to: URLs that two URL
parsers read differently (a backslash before '@', control characters, whitespace) are refused
before anything is sent, whether they come from a page link or a redirect."""

from __future__ import annotations

from datetime import date

import pytest

from etl.crawl import crawl
from etl.download import download_new
from etl.http import host_allowed
from tests.support.fakesite import FakeOfstedSite, Fault
from tests.support.site_fixtures import site_settings

pytestmark = pytest.mark.site(councils=2)


@pytest.fixture
def other():
    """A second loopback server standing for another host: it must never be reached."""
    with FakeOfstedSite(councils=1) as s:
        yield s


@pytest.fixture
def settings(site, tmp_path):
    return site_settings(site, tmp_path, OFSTED_ALLOWED_HOSTS="127.0.0.1")


def smuggled(other: FakeOfstedSite, site: FakeOfstedSite, path: str) -> str:
    """`http://localhost:<other>\\@127.0.0.1:<files>/...`: urlsplit reads host 127.0.0.1,
    requests/urllib3 connect to localhost:<other>."""
    other_port = other.url.rsplit(":", 1)[1]
    files_port = site.files_url.rsplit(":", 1)[1]
    return f"http://localhost:{other_port}\\@127.0.0.1:{files_port}{path}"


def test_a_page_link_smuggling_another_host_is_refused_and_never_requested(site, other, settings):
    other_port = other.url.rsplit(":", 1)[1]
    evil = site.add_publication("2532283", "inspection", date(2025, 1, 2), host=f"localhost:{other_port}\\@127.0.0.1")
    pubs = crawl(settings).publications
    assert evil in {p.url for p in pubs}
    result = download_new(pubs, settings)
    [q] = result.quarantined
    assert q.publication.url == evil and "not a plain http(s) URL" in q.reason
    assert sum(other.requests.values()) == 0


def test_a_redirect_smuggling_another_host_is_refused_and_never_requested(site, other, settings):
    pubs = crawl(settings).publications
    target = pubs[0]
    site.inject(target.url, Fault.redirect(smuggled(other, site, "/v1/file/" + target.url.rsplit("/", 1)[-1])))
    result = download_new([target], settings)
    [q] = result.quarantined
    assert "not a plain http(s) URL" in q.reason
    assert sum(other.requests.values()) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://other.example\\@files.ofsted.gov.uk/x",
        "https://files.ofsted.gov.uk\\@other.example/x",
        "https://other.example\t@files.ofsted.gov.uk/x",
        "https://files.ofsted.gov.uk\n.other.example/x",
        "https://files.ofsted.gov.uk /x",
        "https://files.ofsted.gov.uk/x\x00",
    ],
)
def test_urls_the_parsers_read_differently_are_not_allowed(url):
    assert not host_allowed(url, ["files.ofsted.gov.uk"])


def test_plain_urls_are_still_allowed():
    assert host_allowed("https://files.ofsted.gov.uk/v1/file/50001", ["files.ofsted.gov.uk"])
    assert host_allowed("https://user@files.ofsted.gov.uk/x?a=b%20c", ["files.ofsted.gov.uk"])
    assert host_allowed("http://127.0.0.1:8080/v1/file/1", ["127.0.0.1:8080"])
    assert not host_allowed("http://127.0.0.1:8081/v1/file/1", ["127.0.0.1:8080"])
