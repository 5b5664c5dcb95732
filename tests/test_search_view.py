"""The view's search (issue 24): the box on every page, `/search` with councils by name first,
then the pages of reports and letters that say the words, on both engines: marked snippets
escaped, links to the PDF's page through the link rule, filters, counts by year as a chart,
paging, and every bad query or filter said on the page."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from etl import reference, search
from tests.support.warehouse_fixtures import load_sample
from tests.test_view import client_for

HOSTILE = 'Return home interviews <script>alert("x")</script><img src=x onerror=alert(1)> are not used'


@pytest.fixture
def client(wh, warehouse_url):
    """The sample warehouse (Barnet's reports 2012-2024, a 2021 focused visit) with page text:
    a hostile page in Barnet's 2019 report, 25 matching pages in one of Buckinghamshire's, and
    a report whose link the link rule refuses."""
    reference.sync(wh)
    load_sample(wh)
    reports = {
        (urn, kind, published.year): rid
        for rid, urn, kind, published in wh.fetchall(
            "SELECT report_id, urn, kind, published FROM reports WHERE is_report"
        )
    }
    with wh.transaction():
        search.replace_text(
            wh,
            {
                reports[("80487", "inspection", 2019)]: ["Contents", HOSTILE],
                reports[("80487", "focused_visit", 2021)]: ["The visit found return home interviews late."],
                reports[("80442", "inspection", 2016)]: [f"Private fostering, page {n}." for n in range(1, 26)],
                reports[("80487", "inspection", 2012)]: ["return home interviews were rare"],
            },
        )
        wh.execute(
            "UPDATE reports SET url = 'javascript:alert(1)' WHERE report_id = ?",
            [reports[("80487", "inspection", 2012)]],
        )
    search.sync_index(wh)
    return client_for(warehouse_url)


def page(client, expect: int = 200, **params) -> BeautifulSoup:
    response = client.get("/search", params=params)
    assert response.status_code == expect, response.text[:800]
    assert "Traceback" not in response.text
    return BeautifulSoup(response.text, "html.parser")


def hits(soup: BeautifulSoup) -> list:
    return soup.select("ol.hits > li")


def test_every_page_has_the_search_box_labelled_for_screen_readers(client):
    for path in ("/", "/councils", "/councils/80487", "/changes", "/reviews", "/england/over-time", "/search"):
        form = BeautifulSoup(client.get(path).text, "html.parser").select_one("header form[role=search]")
        assert form is not None and form["action"] == "/search" and form["method"] == "get", path
        box = form.select_one("input[name=q]")
        assert form.select_one(f"label[for={box['id']}]").get_text(strip=True), "a label a screen reader reads"
        assert form.select_one("button[type=submit]"), "a button, so it works from the keyboard without Enter too"


def test_a_council_by_name_comes_first_and_a_typo_still_finds_it(client):
    soup = page(client, q="Barnet")
    first = soup.select_one(".found-councils li a")
    assert first["href"] == "/councils/80487" and first.text == "Barnet"
    soup = page(client, q="Barnt")
    assert soup.select_one(".found-councils li a")["href"] == "/councils/80487"
    # a council the reference knows but the warehouse has nothing on: named, no dead link
    leeds = page(client, q="Leeds").select_one(".found-councils li")
    assert leeds.a is None and "nothing in the warehouse yet" in leeds.text
    assert page(client, q="private fostering").select_one(".found-councils") is None, "words, not a council"


def test_text_hits_have_marked_escaped_snippets_and_links_to_the_pdf_page(client):
    soup = page(client, q='"return home interviews"')
    found = hits(soup)
    assert [h.select_one(".hit-head").get_text(" ", strip=True).split(" · ")[1:3] for h in found] == [
        ["Focused visit", "published 2021-03-13"],
        ["Inspection report", "published 2019-07-03"],
        ["Inspection report", "published 2012-07-11"],
    ], "newest first"
    hostile = found[1]
    assert [m.text for m in hostile.select("mark")] == ["Return home interviews"]
    assert hostile.select("script, img") == [] and '<script>alert("x")</script>' in hostile.select_one(".snippet").text
    assert hostile.select_one(".hit-head a[href='/councils/80487']")
    pdf = hostile.select_one(".hit-head .meta a")
    assert pdf["href"] == "https://files.ofsted.gov.uk/v1/file/804870003#page=2" and pdf.text == "page 2 of the PDF"
    refused = found[2].select_one(".hit-head .meta")
    assert not refused.select("a") and refused.text.endswith("· page 1"), "the link rule refused javascript:"
    assert "3 pages in 3 publications" in soup.text


def test_filters_narrow_the_hits(client):
    assert len(hits(page(client, q="interviews", kind="focused_visit"))) == 1
    assert len(hits(page(client, q="interviews", since="2019-01-01", until="2020-12-31"))) == 1
    assert len(hits(page(client, q="interviews", region="London"))) == 3
    assert hits(page(client, q="interviews", region="North East")) == []
    assert len(hits(page(client, q="fostering", council="Buckingham"))) == 20 and not hits(
        page(client, q="fostering", council="Barnet")
    ), "a council by name or its beginning"
    assert len(hits(page(client, q="interviews", council="Barnet"))) == 3
    assert (
        "No page of a report or letter says that with these filters" in page(client, q="interviews", kind="jtai").text
    )


def test_the_counts_by_year_as_a_chart_and_a_table(client):
    soup = page(client, q="interviews")
    chart = soup.select_one("svg#yearchart")
    bars = chart.select("rect.bar")
    assert [b.title.text for b in bars][0] == "2012: 1" and [b.title.text for b in bars][-1] == "2021: 1"
    assert len(bars) == 10, "every year from the first to the last, empty ones too"
    assert chart["role"] == "img" and "2019 1" in chart.title.text, "its figures for a screen reader"
    assert soup.select_one("details.history").select_one("td").text == "2021"


def test_paging_through_many_hits(client):
    first = page(client, q="fostering")
    assert len(hits(first)) == 20 and "25 pages in 1 publication" in first.text
    older = first.select_one("nav.pager a[rel=next]")
    assert older["href"] == "/search?q=fostering&page=2"
    second = page(client, q="fostering", page="2")
    assert len(hits(second)) == 5 and second.select_one("ol.hits")["start"] == "21"
    assert second.select_one("nav.pager a[rel=prev]") and not second.select_one("nav.pager a[rel=next]")
    assert len(hits(page(client, q="fostering", page="nonsense"))) == 20


@pytest.mark.parametrize(
    "params, said",
    [
        ({"q": '"unbalanced'}, "unbalanced quotes"),
        ({"q": "the of and"}, "only common words"),
        ({"q": "-fostering"}, "not only -exclusions"),
        ({"q": "x" * 501}, "the limit is 500"),
        ({"q": "fostering", "since": "last week"}, "since must be a date YYYY-MM-DD"),
        ({"q": "fostering", "kind": "gossip"}, "unknown kind 'gossip'"),
        ({"q": "fostering", "council": "Barnt"}, "no council named 'Barnt'; closest: Barnet (80487)"),
    ],
)
def test_a_query_that_cannot_be_searched_is_said_on_the_page(client, params, said):
    problem = page(client, 400, **params).select_one(".problem[role=alert]")
    assert said in problem.text
