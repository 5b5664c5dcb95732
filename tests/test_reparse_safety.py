"""A failed parse (crash, time or memory limit, parser error) is not a verdict: it never
replaces a stored report, is retried on later runs, and after three tries is recorded as
unreadable and reported to operators. A re-parse that would lose what the stored parse had
(the report itself, or an area) is held for review and the stored judgements stay in force."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from etl import changes, load
from etl.records import ReportRecord
from tests.support.warehouse_fixtures import make_publication, make_report, snapshot, stored_file_for  # noqa: F401


def failed(record: ReportRecord, version: str, reason="parser process died (signal SIGABRT)") -> ReportRecord:
    return ReportRecord(
        source=record.source,
        is_report=False,
        failed=True,
        reason=reason,
        parser_version=version,
        urn=record.urn,
        url=record.url,
        sha256=record.sha256,
    )


def setup_history(wh):
    """Two inspections of council 1: a decline in help and protection (one change event)."""
    first = make_report("1", 1, "ilacs_2018", date(2019, 1, 1), {"help_and_protection": "good"})
    second = make_report(
        "1", 2, "ilacs_2023", date(2024, 1, 1), {"help_and_protection": "inadequate", "in_care": "good"}
    )
    files = [stored_file_for(make_publication("1", n, r.published)) for n, r in ((1, first), (2, second))]
    load.load_downloads(wh, files, [])
    load.load_reports(wh, [first, second], "r1")
    assert [e.area for e in changes.refresh(wh, "r1").new] == ["help_and_protection"]
    return first, second


def planned(wh, version: str) -> set[str]:
    return {f.sha256 for f in load.files_to_parse(wh, version)}


def state(wh) -> dict:
    return snapshot(wh, "reports", "judgements", "rating_history", "change_events")


def test_a_failed_reparse_keeps_the_report_its_judgements_and_its_history(wh):
    _, second = setup_history(wh)
    before = state(wh)
    result = load.load_reports(wh, [failed(second, "2.0")], "r2")
    refreshed = changes.refresh(wh, "r2")
    assert state(wh) == before and refreshed.retracted == [] and refreshed.new == []
    assert second.sha256 in planned(wh, "2.0")  # tried again next run
    assert result.retrying and "attempt 1 of 3" in result.retrying[0]


def test_a_failure_is_retried_then_recorded_unreadable_after_three_tries(wh):
    new = make_report("2", 1, "ilacs_2023", date(2024, 5, 1), {"help_and_protection": "good"})
    load.load_downloads(wh, [stored_file_for(make_publication("2", 1, new.published))], [])
    for attempt in (1, 2):
        result = load.load_reports(wh, [failed(new, "1.0")], f"r{attempt}")
        assert wh.fetchall("SELECT COUNT(*) FROM reports") == [(0,)]
        assert new.sha256 in planned(wh, "1.0") and result.unreadable == []
    result = load.load_reports(wh, [failed(new, "1.0")], "r3")
    assert wh.fetchall("SELECT is_report, reason FROM reports") == [
        (False, "unreadable after 3 attempts: parser process died (signal SIGABRT)")
    ]
    assert new.sha256 not in planned(wh, "1.0")
    assert len(result.unreadable) == 1 and "3 attempts" in result.unreadable[0]
    # a later parser version tries it afresh, and a good parse replaces the unreadable verdict
    assert new.sha256 in planned(wh, "2.0")
    load.load_reports(wh, [replace(new, parser_version="2.0")], "r4")
    assert wh.fetchall("SELECT is_report, parser_version FROM reports") == [(True, "2.0")]


def test_after_three_failed_reparses_the_stored_report_stays_and_is_not_planned_again(wh):
    _, second = setup_history(wh)
    before = state(wh)
    for attempt in (1, 2, 3):
        result = load.load_reports(wh, [failed(second, "2.0")], f"r{attempt + 1}")
    assert state(wh) == before
    assert second.sha256 not in planned(wh, "2.0")
    assert len(result.unreadable) == 1


def test_not_a_report_never_replaces_a_report_of_the_same_file(wh):
    _, second = setup_history(wh)
    before = state(wh)
    verdict = ReportRecord(
        source=second.source,
        is_report=False,
        reason="PDF is not an Ofsted report",
        parser_version="2.0",
        urn=second.urn,
        url=second.url,
        sha256=second.sha256,
    )
    result = load.load_reports(wh, [verdict], "r2")
    assert changes.refresh(wh, "r2").retracted == []
    assert state(wh) == before
    assert len(result.held) == 1 and "not a report" in result.held[0]
    assert second.sha256 not in planned(wh, "2.0")  # held until someone decides


def test_a_reparse_that_loses_an_area_is_held_for_review_and_keeps_the_old_judgements(wh):
    _, second = setup_history(wh)
    before = state(wh)
    lost = replace(second, parser_version="2.0", judgements={"help_and_protection": "inadequate"})
    result = load.load_reports(wh, [lost], "r2")
    assert changes.refresh(wh, "r2").retracted == []
    assert state(wh) == before
    assert len(result.held) == 1 and "in_care" in result.held[0]
    assert wh.fetchall("SELECT kind, parser_version FROM parse_holds") == [("review", "2.0")]
    # a person accepts the new parse: it replaces the stored one
    load.accept_held_parse(wh, second.sha256)
    assert wh.fetchall("SELECT area FROM judgements WHERE report_id = ?", [second.sha256]) == [("help_and_protection",)]
    assert wh.fetchall("SELECT COUNT(*) FROM parse_holds") == [(0,)]


def test_a_good_reparse_clears_an_earlier_failure(wh):
    _, second = setup_history(wh)
    load.load_reports(wh, [failed(second, "2.0")], "r2")
    load.load_reports(wh, [replace(second, parser_version="2.0")], "r3")
    assert wh.fetchall("SELECT COUNT(*) FROM parse_holds") == [(0,)]
    assert wh.fetchall("SELECT parser_version FROM reports WHERE report_id = ?", [second.sha256]) == [("2.0",)]
