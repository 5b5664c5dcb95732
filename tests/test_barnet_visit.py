"""Barnet as a test (issue 17): its focused visit of 23-24 June 2021 (published 2 August 2021),
on children in care, with no areas for priority action, shown on its page, in its alert and by
`ofsted query history 80487`, on both engines.

Two versions: one on a constructed record (proves the path on this branch), one on the real
letter in ../shared/corpus-visits/80487_barnet/ read by the parser (skips where that is absent;
it passes once the parser reads letters for what they say)."""

from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup

from etl import changes, load, reference
from etl.alert import send_alerts
from etl.alert.rules import council_directory, load_rules
from etl.cli import main
from etl.records import Council, ListingMeta, Publication, ReportRecord, Visit
from tests.conftest import CORPUS
from tests.support.warehouse_fixtures import make_report, stored_file_for

BARNET = Council("80487", "Barnet", "https://reports.ofsted.gov.uk/provider/44/80487")
LETTER_URL = "https://files.ofsted.gov.uk/v1/file/50167251"
LISTING = Publication(
    urn="80487",
    local_authority="Barnet",
    kind="focused_visit",
    title="Children's services focused visit, pdf - 02 August 2021",
    published=date(2021, 8, 2),
    url=LETTER_URL,
)
REAL_LETTERS = CORPUS.parent / "corpus-visits" / "80487_barnet"


def constructed_letter() -> ReportRecord:
    """The record the parser is to make of Barnet's letter (the contract's example)."""
    return ReportRecord(
        source="80487_barnet/children's services focused visit - 02 august 2021.pdf",
        is_report=True,
        kind="focused_visit",
        framework=None,
        local_authority="Barnet",
        inspection_start=date(2021, 6, 23),
        inspection_end=date(2021, 6, 24),
        published=date(2021, 8, 2),
        lead_inspector="Tara Geere",
        parser_version="test",
        urn="80487",
        url=LETTER_URL,
        sha256=stored_file_for(LISTING).sha256,
        visit=Visit(areas=("in_care",), priority_actions=0),
    )


def publish(wh, letter: ReportRecord) -> None:
    """Barnet's page first read with its 2019 inspection (the baseline), then a run that lists and
    reads the focused visit letter."""
    inspection = make_report(
        "80487",
        1,
        "ilacs_2018",
        date(2019, 5, 24),
        dict.fromkeys(
            ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care_and_care_leavers"), "good"
        ),
        la="Barnet",
    )
    load.start_run(wh, "first")
    load.load_councils(wh, [BARNET], "first")
    load.load_reports(wh, [inspection], "first")
    changes.refresh(wh, "first")
    load.finish_run(wh, "first")
    load.start_run(wh, "second")
    load.load_councils(wh, [BARNET], "second")
    load.load_publications(wh, [LISTING], "second")
    load.load_downloads(wh, [stored_file_for(LISTING)], [])
    load.load_reports(wh, [letter], "second")
    reference.sync(wh)
    changes.refresh(wh, "second")
    load.finish_run(wh, "second")


def assert_barnet_story(wh, warehouse_url, monkeypatch, capsys) -> None:
    from fastapi.testclient import TestClient

    from etl.web import create_app
    from etl.web.auth import token_viewer

    # its page: the Visits table
    client = TestClient(create_app(viewer=token_viewer(None), warehouse_url=lambda: warehouse_url))
    response = client.get("/councils/80487")
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    visits = page.find(id="visits").find_parent("section")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in visits.tbody.find_all("tr")]
    assert rows == [
        ["2021-06-23 to 2021-06-24 published 2021-08-02", "Focused visit", "children in care", "none", "PDF"]
    ]
    assert visits.find("a", string="PDF")["href"] == LETTER_URL

    # its alert (OFSTED_ALERT_URLS: everything)
    outbox = []
    send_alerts(
        wh,
        load_rules(council_directory(wh), urls=["json://127.0.0.1:9/all"]),
        council_directory(wh),
        send=lambda url, title, body, body_format="text": outbox.append((title, body)),
    )
    [(title, body)] = outbox
    assert title == "Ofsted: focused visit to Barnet published — children in care"
    assert body.startswith(
        "Ofsted carried out a focused visit to Barnet (London, URN 80487) from 23 to 24 June"
        " 2021, and published its letter on 2 August 2021."
    )
    assert "It looked at children in care. It sets out no areas for priority action." in body
    assert f"Read the report: {LETTER_URL}" in body

    # `ofsted query history 80487`
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    assert main(["query", "history", "80487"]) == 0
    out = capsys.readouterr().out
    history, _, letters = out.partition("\nVisits\n")
    assert "overall_effectiveness" in history and "good" in history
    line = next(row for row in letters.splitlines() if "focused_visit" in row).split()
    assert line[:2] == ["80487", "Barnet"]
    assert line[2:9] == ["focused_visit", "2021-06-23", "2021-06-24", "2021-08-02", "in_care", "0", "Tara"]


def test_barnet_focused_visit_on_its_page_alert_and_history_from_a_constructed_record(
    wh, warehouse_url, monkeypatch, capsys
):
    publish(wh, constructed_letter())
    assert_barnet_story(wh, warehouse_url, monkeypatch, capsys)


def test_barnet_focused_visit_read_from_the_real_letter(wh, warehouse_url, monkeypatch, capsys):
    letters = sorted(REAL_LETTERS.glob("*focused visit*2021*.pdf")) if REAL_LETTERS.is_dir() else []
    if not letters:
        pytest.skip(f"Barnet's real focused visit letter is not at {REAL_LETTERS}")
    from etl.parse import parse_file

    meta = ListingMeta(
        urn="80487",
        local_authority="Barnet",
        published=LISTING.published,
        url=LETTER_URL,
        kind="focused_visit",
        sha256=stored_file_for(LISTING).sha256,
    )
    record = parse_file(letters[0], meta)
    assert (record.kind, record.inspection_start, record.inspection_end, record.published) == (
        "focused_visit",
        date(2021, 6, 23),
        date(2021, 6, 24),
        date(2021, 8, 2),
    )
    assert record.visit is not None and (record.visit.areas, record.visit.priority_actions) == (("in_care",), 0)
    assert record.lead_inspector == "Tara Geere" and not record.review_flags
    publish(wh, record)
    assert_barnet_story(wh, warehouse_url, monkeypatch, capsys)
