"""The ratings view (etl/web) on both engines, served as `ofsted serve` serves it: each page
shows what the warehouse holds, filters, escapes untrusted text, the Atom feeds validate, and
the token rules of `ofsted serve` hold. (Airflow's authentication: tests/test_view_airflow.py.)"""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from etl import reference
from etl.records import Council
from etl.web import create_app
from etl.web.auth import token_viewer
from tests.support.warehouse_fixtures import load_sample

ATOM = "{http://www.w3.org/2005/Atom}"


def client_for(url: str, token: str | None = None) -> TestClient:
    return TestClient(create_app(viewer=token_viewer(token), warehouse_url=lambda: url))


@pytest.fixture
def client(wh, warehouse_url):
    reference.sync(wh)
    load_sample(wh)
    return client_for(warehouse_url)


def csrf(client: TestClient) -> str:
    """The review forms' token for this client's viewer, as the reviews page gives it (and the
    cookie it is tied to, which the client keeps)."""
    field = BeautifulSoup(client.get("/reviews").text, "html.parser").select_one("input[name=csrf]")
    assert field is not None, "no review form on the page"
    return field["value"]


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def table_rows(page: BeautifulSoup, selector: str = "table.data") -> list[list[str]]:
    table = page.select_one(selector)
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]


def test_england_map_has_a_hexagon_per_current_council_coloured_by_grade(client):
    page = soup(client.get("/"))
    hexes = page.select("#hexmap a.hex")
    assert len(hexes) == len(reference.hex_layout())  # every current council, inspected or not
    barnet = next(h for h in hexes if h["href"].endswith("/councils/80487"))
    assert barnet.polygon["class"] == ["fill-outstanding"] and barnet.text.strip().endswith("O")
    assert sum(1 for h in hexes if h.polygon["class"] == ["fill-none"]) == len(hexes) - 2  # Barnet, Bucks
    counts = {li.select_one(".grade").text: int(li.strong.text) for li in page.select(".counts li")}
    assert counts["Outstanding"] == 1 and counts["Requires improvement"] == 1
    # another area, and a region: cells outside it fade, counts are the region's
    page = soup(client.get("/", params={"area": "impact_of_leaders", "region": "London"}))
    barnet = next(h for h in page.select("#hexmap a.hex") if h["href"].endswith("/councils/80487"))
    assert "out" not in barnet["class"]
    assert sum(1 for h in page.select("#hexmap a.hex") if "out" not in h["class"]) == 33  # London's boroughs
    counts = {li.select_one(".grade").text: int(li.strong.text) for li in page.select(".counts li")}
    assert counts["Outstanding"] == 1 and counts.get("Good", 0) == 0  # Bucks (South East) not counted
    assert client.get("/", params={"area": "nonsense"}).status_code == 400


def test_councils_table_grades_previous_and_direction_with_filters(client):
    rows = table_rows(soup(client.get("/councils")))
    by_name = {r[0]: r for r in rows}
    assert len(rows) == 3
    barnet = by_name["Barnet"]
    assert barnet[1] == "London" and barnet[2].startswith("2024-03-08")
    assert barnet[3].startswith("Outstanding") and "improved from Good" in barnet[3]
    bath = by_name["Bath & North East Somerset, Council of"]
    assert bath[3].startswith("Requires improvement") and "declined from Good" in bath[3]
    assert by_name["King's Lynn % Test?"][1] == ""  # not in the reference: listed all the same
    filtered = lambda **p: [r[0] for r in table_rows(soup(client.get("/councils", params=p)))]  # noqa: E731
    assert filtered(region="London") == ["Barnet"]
    assert filtered(grade="inadequate") == ["King's Lynn % Test?"]
    assert filtered(grade="good", area="impact_of_leaders") == ["Bath & North East Somerset, Council of"]
    assert filtered(framework="ilacs_2018") == ["Bath & North East Somerset, Council of"]
    assert sorted(filtered(since="2023-01-01")) == ["Barnet", "King's Lynn % Test?"]
    assert client.get("/councils", params={"since": "yesterday"}).status_code == 400
    csv_text = client.get("/councils.csv", params={"region": "London"}).text
    assert csv_text.splitlines()[0].startswith("urn,local_authority,") and "Barnet" in csv_text
    assert len(csv_text.splitlines()) == 2
    workbook = client.get("/ofsted-ratings.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"  # the export's xlsx (a zip)
    import io

    import openpyxl

    summary = openpyxl.load_workbook(io.BytesIO(workbook.content))["Summary"]
    assert "Barnet" in [c.value for c in summary["B"]]


def test_council_page_tells_the_story(client):
    page = soup(client.get("/councils/80487"))
    assert page.h1.text == "Barnet"
    chart = page.select_one("svg#stepchart")
    lines = chart.select("path.line")
    assert {p.title.text for p in lines} >= {"Overall effectiveness", "Children in care", "Care leavers"}
    assert {t.text for t in chart.select("text.mark-label")} == {"LAC", "SIF", "ILACS 2018", "ILACS 2023"}
    history = table_rows(page, "details.history table")
    assert ["Overall effectiveness", "Inadequate", "2013-12-06", "2019-05-24", "SIF"] in history
    assert ["Overall effectiveness", "Good", "2019-05-24", "2024-03-08", "ILACS 2018"] in history
    publications = table_rows(page, "section[aria-labelledby=pubs] table")
    assert len(publications) == 5 and any(r[1] == "focused visit" and r[2] == "not graded" for r in publications)
    neighbours = table_rows(page, "section[aria-labelledby=neighbours] table")
    assert len(neighbours) == 10  # DfE's ten statistical neighbours, closest first
    assert [r[1] for r in neighbours] == [str(n) for n in range(1, 11)]
    head = [th.get_text(strip=True) for th in page.select("section[aria-labelledby=neighbours] thead th")]
    assert head == [
        "Council",
        "Rank",
        "Overall effectiveness",
        "Impact of leaders",
        "Help and protection",
        "Children in care",
        "Care leavers",
        "Area SEND outcome",
        "Last inspected",
    ]
    facts = dict(
        zip(
            [dt.get_text(strip=True) for dt in page.select("dl.facts dt")],
            [dd.get_text(strip=True) for dd in page.select("dl.facts dd")],
        )
    )
    assert facts["Lead inspector"] == "A Inspector"  # the latest graded inspection's
    assert facts["Framework"] == "ILACS 2023" and facts["Inspected"] == "2024-02-26 to 2024-03-08, published 2024-04-17"
    assert client.get("/councils/99999999").status_code == 404


def test_changes_page_filters_and_atom_feeds_validate(client, wh):
    everything = wh.fetchone("SELECT COUNT(*) FROM rating_changes")[0]
    assert len(table_rows(soup(client.get("/changes")))) == everything > 0
    declined = table_rows(soup(client.get("/changes", params={"direction": "declined", "region": "South East"})))
    assert declined and all("declined" in r[4] and r[1] == "Bath & North East Somerset, Council of" for r in declined)
    assert client.get("/changes", params={"direction": "sideways"}).status_code == 400

    feed = client.get("/changes.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    entries = root.findall(f"{ATOM}entry")
    assert root.tag == f"{ATOM}feed" and len(entries) == everything
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:ofsted-ratings:change:") for i in ids)
    assert all(e.findtext(f"{ATOM}updated").endswith("Z") for e in entries)
    barnet = ET.fromstring(client.get("/councils/80487/changes.atom").content).findall(f"{ATOM}entry")
    assert barnet and all(e.findtext(f"{ATOM}title").startswith("Barnet:") for e in barnet)
    london = ET.fromstring(client.get("/changes.atom", params={"region": "London"}).content)
    assert len(london.findall(f"{ATOM}entry")) == len(barnet)
    assert "in London" in london.findtext(f"{ATOM}title")


def test_untrusted_text_is_escaped_everywhere(client, wh):
    from etl import load

    hostile = "<script>alert('x')</script> & Co"
    load.load_councils(wh, [Council("80999", hostile, "https://reports.ofsted.gov.uk/provider/44/80999")])
    for path in ("/councils", "/councils/80999", "/changes", "/", "/england/over-time"):
        body = client.get(path).text
        assert "<script>alert" not in body, path
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in client.get("/councils/80999").text
    feed = ET.fromstring(client.get("/councils/80999/changes.atom").content)  # well-formed despite the name
    assert feed.findtext(f"{ATOM}title") == f"Ofsted ratings: {hostile}"


def test_serve_token_rules(warehouse_url):
    app = client_for(warehouse_url, token="s3cret-token")
    assert app.get("/changes").status_code == 401
    assert app.get("/england/over-time").status_code == 401 and app.get("/england/over-time.csv").status_code == 401
    assert app.get("/changes", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert app.get("/changes", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    first = app.get("/changes?token=s3cret-token&direction=improved", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/changes?direction=improved"
    assert "HttpOnly" in first.headers["set-cookie"] and "s3cret-token" not in first.headers["set-cookie"]
    assert app.get("/changes").status_code == 200  # the cookie now
    assert app.get("/static/view.css").status_code == 200  # no data in it


def test_serve_refuses_to_listen_beyond_loopback_without_a_token(monkeypatch, capsys):
    from etl.cli import main

    monkeypatch.delenv("OFSTED_VIEW_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "OFSTED_VIEW_TOKEN" in capsys.readouterr().err


def test_review_actions_change_the_next_refresh_and_need_edit_rights(wh, warehouse_url):
    from datetime import date

    from etl import changes, load
    from etl.load import report_id_for
    from etl.web.auth import Viewer
    from tests.support.warehouse_fixtures import make_report

    clean = make_report(
        "1",
        1,
        "ilacs_2018",
        date(2019, 1, 1),
        {"overall_effectiveness": "good", "help_and_protection": "good"},
        la="<b>Held</b> Council",
    )
    held = make_report(
        "1",
        2,
        "ilacs_2023",
        date(2024, 1, 1),
        {"help_and_protection": "inadequate"},
        flags=("help_and_protection: page-1 table says inadequate, body says good",),
        readings={"help_and_protection": {"table": "inadequate", "body": "good"}},
        la="<b>Held</b> Council",
    )
    load.load_reports(wh, [clean, held], "r")
    changes.refresh(wh, "r")
    rid = report_id_for(held)

    def grade_now():
        return wh.fetchone("SELECT grade FROM current_ratings WHERE urn = '1' AND area = 'help_and_protection'")[0]

    reader = TestClient(create_app(viewer=lambda: Viewer("reader", False), warehouse_url=lambda: warehouse_url))
    page = soup(reader.get("/reviews"))
    item = page.select_one(f"#r-{rid}")
    assert "held" in item.h2.text and "&lt;b&gt;Held" in str(item.h2)
    assert ["Help and protection", "Inadequate", "Good", "Inadequate", ""] in table_rows(item)
    assert not item.select("form")  # a read-only user sees the queue, not the buttons
    assert reader.post(f"/reviews/{rid}/accept", data={"why": "x"}).status_code == 403
    assert (
        reader.post(f"/reviews/{rid}/grades", data={"grade_help_and_protection": "good", "why": "x"}).status_code == 403
    )

    editor = client_for(warehouse_url)
    assert soup(editor.get("/reviews")).select_one(f"#r-{rid}").select("form")
    token = csrf(editor)
    bad = editor.post(
        f"/reviews/{rid}/grades", data={"grade_help_and_protection": "splendid", "why": "p.3", "csrf": token}
    )
    assert bad.status_code == 400 and "not a grade" in bad.text
    assert (
        editor.post(f"/reviews/{rid}/grades", data={"grade_help_and_protection": "good", "csrf": token}).status_code
        == 400
    )
    assert editor.post("/reviews/nope/accept", data={"why": "x", "csrf": token}).status_code == 404
    cross_site = editor.post(
        f"/reviews/{rid}/accept", data={"why": "x", "csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    done = editor.post(
        f"/reviews/{rid}/accept", data={"why": "the table is right", "csrf": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/reviews"
    assert grade_now() == "good"  # the decision waits for the next refresh
    changes.refresh(wh, "r")
    assert grade_now() == "inadequate"
    assert not soup(editor.get("/reviews")).select(f"#r-{rid}")  # resolved: off the queue


def test_successor_shows_its_predecessors_history_and_ilacs_2026_reads_not_judged(wh, warehouse_url):
    from datetime import date

    from etl import changes, load
    from tests.support.warehouse_fixtures import make_report

    load.load_councils(
        wh,
        [
            Council("121939", "Northamptonshire", "u1"),
            Council("2637539", "North Northamptonshire", "u2"),
            Council("80484", "Neighbour of North Northamptonshire", "u3"),
        ],
    )
    load.load_reports(
        wh,
        [
            make_report(
                "121939",
                1,
                "sif",
                date(2019, 11, 1),
                {"overall_effectiveness": "inadequate", "help_and_protection": "inadequate"},
                la="Northamptonshire",
            ),
            make_report(
                "2637539",
                1,
                "ilacs_2026",
                date(2026, 6, 5),
                {"impact_of_leaders": "good", "help_and_protection": "good", "in_care": "good", "care_leavers": "good"},
                la="North Northamptonshire",
            ),
        ],
        "r",
    )
    reference.sync(wh)
    changes.refresh(wh, "r")
    client = client_for(warehouse_url)
    page = soup(client.get("/councils/2637539"))
    history = table_rows(page, "details.history table")
    assert [
        "Help and protection",
        "Inadequate",
        "2019-11-01",
        "2021-04-01 (reorganised)",
        "SIF · as Northamptonshire",
    ] in history
    assert ["Help and protection", "Good", "2026-06-05", "now", "ILACS 2026"] in history
    assert any("as Northamptonshire" in c.title.text for c in page.select("#stepchart circle"))
    hexes = soup(client.get("/")).select("#hexmap a.hex")
    north = next(h for h in hexes if h["href"].endswith("/councils/2637539"))
    assert north.polygon["class"] == ["fill-not_judged"] and north["aria-label"].endswith("Not judged")
    assert not [h for h in hexes if h["href"].endswith("/councils/121939")]  # abolished: no cell
    # a neighbour's page: not judged (not "no data"), with when it was inspected
    neighbours = table_rows(soup(client.get("/councils/80484")), "section[aria-labelledby=neighbours] table")
    north = next(r for r in neighbours if r[0] == "North Northamptonshire")
    assert north[2:] == ["Not judged", "Good", "Good", "Good", "Good", "No data", "2026-06-05 ILACS 2026"]


def test_a_warehouse_without_schema_answers_503_with_the_remedy(empty_warehouse):
    client = client_for(empty_warehouse)
    for path in ("/", "/councils", "/councils/80487", "/changes", "/changes.atom", "/reviews"):
        answer = client.get(path)
        assert answer.status_code == 503 and "ofsted migrate" in answer.text, path


def reissue(wh):
    """Council 1's 2024 report re-issued under the same URL: the first file (with a note worth
    a review) superseded by a corrected one. Returns (old, new) report records."""
    from dataclasses import replace
    from datetime import date, datetime

    from etl import changes, load
    from tests.support.warehouse_fixtures import make_publication, make_report, stored_file_for

    load.load_councils(wh, [Council("1", "Council 1", "u1")])
    old = make_report(
        "1",
        2,
        "ilacs_2023",
        date(2024, 1, 1),
        {"help_and_protection": "inadequate"},
        notes=("help_and_protection: read from the body only (inadequate)",),
    )
    new = replace(old, sha256="f" * 64, judgements={"help_and_protection": "good"}, review_notes=())
    first = stored_file_for(make_publication("1", 2, old.published), fetched_at=datetime(2025, 1, 1))
    load.load_downloads(wh, [first, replace(first, sha256=new.sha256, fetched_at=datetime(2025, 2, 1))], [])
    load.load_reports(wh, [old, new], "r")
    changes.refresh(wh, "r")
    assert wh.fetchall("SELECT report_id, superseded_by FROM reports ORDER BY report_id") == [
        (old.sha256, new.sha256),
        (new.sha256, None),
    ]
    return old, new


def test_a_reissued_report_shows_once_on_the_council_page_and_not_in_the_review_queue(wh, warehouse_url):
    from etl.load import report_id_for

    old, new = reissue(wh)
    client = client_for(warehouse_url)
    page = soup(client.get("/councils/1"))
    publications = table_rows(page, "section[aria-labelledby=pubs] table")
    assert len(publications) == 1, publications
    assert len(page.select("#stepchart text.mark-label")) == 1  # one inspection mark
    assert client.get("/reviews").status_code == 200
    assert not soup(client.get("/reviews")).select(f"#r-{report_id_for(old)}")
    from etl import review

    assert review.list_reviews(wh) == [] and review.get_review(wh, report_id_for(old)).notes  # kept, not listed


def test_a_held_reparse_is_on_the_reviews_page_with_what_it_would_lose(wh, warehouse_url):
    from tests.support.warehouse_fixtures import held_reparse

    second = held_reparse(wh)
    item = soup(client_for(warehouse_url).get("/reviews")).select_one(f"#r-{second.sha256}")
    assert "reparse" in item.h2.text
    assert "Re-parse held (parser 2.0): parser 2.0 finds no in_care, which the stored parse (1.0) has" in item.text
    rows = table_rows(item)
    assert ["Help and protection", "—", "—", "Inadequate", "Requires improvement", ""] in rows
    assert ["Children in care", "—", "—", "Good", "No data", ""] in rows  # what the re-parse would lose
    assert item.select_one("form button").text == "Accept the re-parse"
    editor = client_for(warehouse_url)
    done = editor.post(f"/reviews/{second.sha256}/accept", data={"why": "in care is not judged", "csrf": csrf(editor)})
    assert done.status_code == 200 and not soup(done).select(f"#r-{second.sha256}")  # applied, off the queue
    assert wh.fetchall("SELECT area, grade FROM judgements WHERE report_id = ?", [second.sha256]) == [
        ("help_and_protection", "requires_improvement")
    ]


def test_england_over_time_chart_as_at_movement_and_csv(client):
    """On the sample (Barnet: SIF inadequate 2013, ILACS 2018 good, ILACS 2023 outstanding
    2024-03-08; "Bath" (URN 80442: Buckinghamshire, South East, in the reference): SIF good, ILACS
    2018 requires improvement 2022-11-18; King's
    Lynn, in no region: ILACS 2023 inadequate 2023-09-15), worked out by hand."""
    for choice in ("area_send_outcome", "priority_actions"):  # map choices with no grade shares: overall's
        other = soup(client.get("/", params={"area": choice}))
        href = next(a for a in other.select("a") if a.get_text().startswith("England over time"))["href"]
        assert "area=overall_effectiveness" in href and client.get(href).status_code == 200
    england_page = soup(client.get("/"))
    link = next(a for a in england_page.select("a") if a.get_text().startswith("England over time"))
    page = soup(client.get(link["href"].replace("&amp;", "&"), params={"as_at": "2024-06-30"}))
    assert page.h1.get_text(strip=True) == "England over time: overall effectiveness"
    chart = page.select_one("svg#sharechart")
    assert chart["role"] == "img" and chart.title.get_text().startswith("Overall effectiveness")
    assert {p["class"][1] for p in chart.select("polygon.band")} == {
        "fill-outstanding",
        "fill-good",
        "fill-requires_improvement",
        "fill-inadequate",
    }
    # three councils at most: every month greyed out, its counts said (along the top at 31 March, per month on hover)
    assert all("few" in p["class"] for p in chart.select("polygon.band"))
    march14 = next(r for r in chart.select("rect.month") if r.title.get_text().startswith("2014-03-31"))
    assert march14.title.get_text() == (
        "2014-03-31: 1 council graded (0 outstanding, 0 good, 0 requires improvement,"
        " 1 inadequate), fewer than 10: greyed out"
    )
    assert "few" in march14["class"] and [t.get_text() for t in chart.select("text.count")][:2] == ["1", "1"]
    march = table_rows(page, "details.history table")  # the chart's text alternative
    assert march[0] == ["2014-03-31", "1", "0", "0", "0", "1", "0", "0.0%"]  # Barnet's SIF inadequate
    assert ["2024-03-31", "3", "1", "0", "1", "1", "0", "33.3%"] in march
    as_at = {
        tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in page.select("#as-at tbody tr")
    }
    assert as_at["England"] == ["3", "1", "0", "1", "1", "0", "33.3%"]
    assert as_at["London"] == ["1", "1", "0", "0", "0", "0", "100.0%"]
    assert as_at["South East"] == ["1", "0", "0", "1", "0", "0", "0.0%"]
    assert as_at["North East"] == ["0", "0", "0", "0", "0", "0", "–"]
    movement = {tr.th.get_text(strip=True): tr for tr in page.select("#movement tbody tr")}
    assert movement["Improved"].td.get_text() == "1"  # Barnet good -> outstanding; the others once only
    assert [a["href"] for a in movement["Improved"].select("a")] == ["/councils/80487"]
    assert movement["Declined"].td.get_text() == "0"
    # a region, another area; the CSV: every month end since April 2012 for the chosen group
    page = soup(
        client.get(
            "/england/over-time", params={"region": "London", "area": "help_and_protection", "as_at": "2024-06-30"}
        )
    )
    assert "Help and protection in London" in page.select_one("svg#sharechart title").get_text()
    csv_link = next(a for a in page.select("a") if a.get_text() == "Every month as CSV")
    lines = client.get(csv_link["href"]).text.splitlines()
    assert (
        lines[0] == "group,as_at,area,councils,outstanding,good,requires_improvement,inadequate,not_judged,"
        "good_or_outstanding_pct"
    )
    assert lines[1] == "London,2012-04-30,help_and_protection,0,0,0,0,0,0,"
    assert "London,2024-03-31,help_and_protection,1,0,1,0,0,0,100.0" in lines
    for bad in ({"area": "nonsense"}, {"region": "Atlantis"}, {"as_at": "31/03/2024"}):
        assert client.get("/england/over-time", params=bad).status_code == 400, bad
    assert client.get("/england/over-time.csv", params={"area": "area_send_outcome"}).status_code == 400


def test_the_share_chart_greys_out_months_with_few_councils_graded():
    """December 2013 with 4 councils graded ("50% good") is greyed out, not drawn as shares of
    England; from 10 councils the bands are shares; the bands stay joined where that changes."""
    from datetime import date

    from etl.web.charts import FEW_GRADED, share_chart

    def month(day, good, ri):
        return {
            "as_at": day,
            "councils": good + ri,
            "outstanding": 0,
            "good": good,
            "requires_improvement": ri,
            "inadequate": 0,
            "not_judged": 0,
        }

    rows = [
        month(date(2013, 11, 30), 0, 0),
        month(date(2013, 12, 31), 2, 2),
        month(date(2014, 1, 31), 2, 3),
        month(date(2014, 2, 28), 6, 6),
        month(date(2014, 3, 31), 6, 7),
    ]
    chart = share_chart(rows, width=900)
    good = next(b for b in chart["bands"] if b["grade"] == "good")["polygons"]
    assert [p["few"] for p in good] == [True, False] and FEW_GRADED == 10
    first_x = lambda p: p["points"].split()[0].split(",")[0]  # noqa: E731
    greyed_end = good[0]["points"].split()[1].split(",")[0]
    assert first_x(good[1]) == greyed_end  # the shares start where the grey ends: no gap
    assert [m["few"] for m in chart["months"]] == [True, True, True, False, False]
    assert chart["counts"] == [
        {"x": chart["months"][-1]["x"] + chart["months"][-1]["width"], "councils": 13, "few": False}
    ]
