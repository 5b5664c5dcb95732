"""The view's letters and area SEND outcomes (issue 17), on both engines: the England map's new
choices, areas for priority action on the changes page and in the Atom feeds, a council's SEND
outcome beside its grades."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from etl import changes, load, reference
from etl.records import Council, Visit
from etl.web import create_app
from etl.web.auth import token_viewer
from tests.support.warehouse_fixtures import make_publication, make_report, stored_file_for

ATOM = "{http://www.w3.org/2005/Atom}"
SLOUGH = Council("80553", "Slough", "https://reports.ofsted.gov.uk/provider/44/80553")
BARNET = Council("80487", "Barnet", "https://reports.ofsted.gov.uk/provider/44/80487")
SOLIHULL = Council("80554", "Solihull", "https://reports.ofsted.gov.uk/provider/44/80554")
RECENT = date.today() - timedelta(days=40)
ACTION = "Leaders have not ensured that care leavers have up-to-date pathway plans."


@pytest.fixture
def client(wh, warehouse_url):
    letter = replace(
        make_report(
            SLOUGH.urn, 1, None, RECENT - timedelta(days=30), kind="focused_visit", published=RECENT, la="Slough"
        ),
        visit=Visit(
            areas=("care_leavers",), priority_actions=2, priority_action_texts=(ACTION, "<b>Bold</b> @channel claim.")
        ),
    )
    send = make_report(
        BARNET.urn,
        2,
        "area_send_2023",
        date(2024, 11, 22),
        {"area_send_outcome": "systemic_failings"},
        kind="area_send",
        la="Barnet",
    )
    jtai = replace(
        make_report(
            SOLIHULL.urn,
            3,
            None,
            RECENT - timedelta(days=60),
            kind="jtai",
            published=RECENT - timedelta(days=5),
            la="Solihull",
        ),
        visit=Visit(
            areas=("help_and_protection",),
            priority_actions=2,
            theme="initial_need_and_risk",
            priority_action_texts=("Children wait too long at the front door.", "Managers do not oversee decisions."),
        ),
    )
    undated = replace(
        make_report(SOLIHULL.urn, 4, None, RECENT, kind="focused_visit", published=RECENT, la="Solihull"),
        inspection_start=None,
        inspection_end=None,
        review_flags=("visit dates not read: no sentence gives them",),
        visit=Visit(areas=("in_care",)),
    )
    records = [letter, send, jtai, undated]
    pubs = [
        make_publication(r.urn, n, r.published, kind=r.kind, la=r.local_authority)
        for n, r in ((1, letter), (2, send), (3, jtai), (4, undated))
    ]
    load.load_councils(wh, [SLOUGH, BARNET, SOLIHULL], "r")
    load.load_publications(wh, pubs, "r")
    load.load_downloads(wh, [stored_file_for(p) for p in pubs], [])
    load.load_reports(wh, records, "r")
    reference.sync(wh)
    changes.refresh(wh, "r")
    return TestClient(create_app(viewer=token_viewer(None), warehouse_url=lambda: warehouse_url))


def page(client, url) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def hex_label(soup: BeautifulSoup, name: str) -> str:
    return next(a.find("text").get_text() for a in soup.select("#hexmap a") if a["aria-label"].startswith(name + ":"))


def test_the_england_map_offers_the_area_send_outcome_and_recent_areas_for_priority_action(client):
    england = page(client, "/")
    options = [o.get_text() for o in england.select("select[name=area] option")]
    assert "Area SEND outcome" in options and "Areas for priority action in the last 12 months" in options
    send = page(client, "/?area=area_send_outcome")
    assert hex_label(send, "Barnet") == "SF" and hex_label(send, "Slough") == "–"
    counts = {li.find("span").get_text(): li.find("strong").get_text() for li in send.select(".counts li")}
    assert counts["Systemic failings"] == "1" and counts["Positive"] == "0"
    actions = page(client, "/?area=priority_actions")
    assert hex_label(actions, "Slough") == "2+" and hex_label(actions, "Barnet") == "0"
    assert client.get("/?area=nonsense").status_code == 400


def test_a_councils_area_send_outcome_is_shown_beside_its_grades(client):
    cards = {
        c.select_one(".card-label").get_text(): c.select_one(".grade").get_text()
        for c in page(client, "/councils/80487").select(".card")
    }
    assert cards["Area SEND outcome"] == "Systemic failings"


def test_priority_actions_on_the_changes_page_and_in_the_atom_feeds_escaped(client):
    changes_page = page(client, "/changes")
    heading = changes_page.find("h2", string="Areas for priority action")
    row = [td.get_text(" ", strip=True) for td in heading.find_next("table").tbody.tr.find_all("td")]
    assert row[1:4] == ["Slough", "Focused visit", "care leavers"]
    assert row[4].startswith("2 " + ACTION) and "<b>Bold</b>" in row[4]  # escaped, shown as text
    assert changes_page.find("b") is None
    assert page(client, "/changes?direction=improved").find("h2", string="Areas for priority action") is None
    for url in ("/changes.atom", "/councils/80553/changes.atom"):
        feed = ET.fromstring(client.get(url).content)
        [entry] = [
            e
            for e in feed.iter(f"{ATOM}entry")
            if "priority-action" in e.find(f"{ATOM}id").text and "Slough" in e.find(f"{ATOM}title").text
        ]
        assert entry.find(f"{ATOM}title").text == "Slough: 2 areas for priority action (focused visit: care leavers)"
        assert ACTION in entry.find(f"{ATOM}summary").text
    assert not [e for e in ET.fromstring(client.get("/councils/80487/changes.atom").content).iter(f"{ATOM}entry")]


def test_a_jtai_is_shown_by_its_theme_with_every_area_for_priority_action(client):
    theme = "the response to initial need and risk"
    visits = page(client, "/councils/80554").find("h2", id="visits").find_next("table")
    rows = {tr.find_all("td")[1].get_text(strip=True): tr.find_all("td") for tr in visits.tbody.find_all("tr")}
    jtai = rows["Joint targeted area inspection"]
    assert jtai[2].get_text(strip=True) == theme
    assert [li.get_text() for li in jtai[3].select("li")] == [
        "Children wait too long at the front door.",
        "Managers do not oversee decisions.",
    ]
    # a letter whose dates were not read shows them as not read, never as its publication date
    undated = rows["Focused visit"][0].get_text(" ", strip=True)
    assert undated.startswith("dates not read") and "ended" not in undated
    changes_page = page(client, "/changes").find("h2", string="Areas for priority action").find_next("table")
    row = [td.get_text(" ", strip=True) for td in changes_page.tbody.find_all("tr")[1].find_all("td")]
    assert row[1:4] == ["Solihull", "Joint targeted area inspection", theme]  # after Slough's, published later
    for url in ("/changes.atom", "/councils/80554/changes.atom"):
        feed = ET.fromstring(client.get(url).content)
        [entry] = [
            e
            for e in feed.iter(f"{ATOM}entry")
            if "priority-action" in e.find(f"{ATOM}id").text and "Solihull" in e.find(f"{ATOM}title").text
        ]
        assert entry.find(f"{ATOM}title").text == f"Solihull: 2 areas for priority action (joint inspection of {theme})"


def test_a_letter_held_for_its_dates_is_reviewed_as_a_letter_not_as_a_framework(client):
    review = page(client, "/reviews")
    [item] = [a for a in review.select("article.review") if "Solihull" in a.h2.get_text()]
    assert "Focused visit" in item.h2.get_text() and "framework unknown" not in item.get_text()
    assert "Held because: visit dates not read: no sentence gives them" in item.get_text(" ", strip=True)
    assert "inspection ended unknown" in item.get_text(" ", strip=True)
