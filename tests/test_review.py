"""Reviews (etl/review.py): what is listed, what a reviewer sees, and that accepting or
setting grades moves the rating history at the next refresh, on both engines."""

from __future__ import annotations

from datetime import date

import pytest

from etl import changes, load, review
from etl.cli import review as review_cli
from etl.load import report_id_for
from tests.support.warehouse_fixtures import held_reparse, make_report


def current(wh, urn):
    return dict(wh.fetchall("SELECT area, grade FROM current_ratings WHERE urn = ?", [urn]))


def seed(wh):
    """Council 1: a clean 2019 report, then a 2024 report in each review state."""
    clean = make_report(
        "1", 1, "ilacs_2018", date(2019, 1, 1), {"overall_effectiveness": "good", "help_and_protection": "good"}
    )
    held = make_report(
        "1",
        2,
        "ilacs_2023",
        date(2024, 1, 1),
        {"help_and_protection": "inadequate"},
        flags=("help_and_protection: page-1 table says inadequate, body says good",),
        readings={"help_and_protection": {"table": "inadequate", "body": "good"}},
    )
    noted = make_report(
        "2",
        1,
        "ilacs_2023",
        date(2024, 2, 1),
        {"in_care": "good"},
        notes=("in_care: read from the body only (good)",),
        readings={"in_care": {"table": None, "body": "good"}},
    )
    unread = make_report(
        "3", 1, "sif", date(2016, 1, 1), {"help_and_protection": "good"}, unread=("overall_effectiveness",)
    )
    load.load_reports(wh, [clean, held, noted, unread], "r")
    return clean, held, noted, unread


def test_list_shows_held_not_read_and_noted_reports_with_what_the_parser_saw(wh):
    clean, held, noted, unread = seed(wh)
    items = review.list_reviews(wh)
    assert [(i.report_id, i.status) for i in items] == [
        (report_id_for(held), "held"),
        (report_id_for(unread), "not_read"),
        (report_id_for(noted), "noted"),
    ]
    first = items[0]
    assert (first.urn, first.council, first.published, first.url, first.framework) == (
        "1",
        "Council 1",
        held.published,
        held.url,
        "ilacs_2023",
    )
    assert first.readings == {"help_and_protection": {"table": "inadequate", "body": "good"}}
    assert first.flags == held.review_flags and first.judgements == {"help_and_protection": "inadequate"}
    assert items[1].unread_areas == ("overall_effectiveness",)
    assert review.get_review(wh, report_id_for(clean)).status == "clear"  # nothing to act on, not listed
    assert review.get_review(wh, "nope") is None


def test_accept_records_who_and_why_and_counts_a_held_report_at_the_next_refresh(wh):
    clean, held, _, _ = seed(wh)
    changes.refresh(wh, "r")
    assert current(wh, "1")["help_and_protection"] == "good"
    review.accept(wh, report_id_for(held), who="ann", why="the table is right")
    item = review.get_review(wh, report_id_for(held))
    assert (item.status, item.resolved_by, item.resolution_note) == ("resolved", "ann", "the table is right")
    assert report_id_for(held) not in [i.report_id for i in review.list_reviews(wh)]
    assert report_id_for(held) in [i.report_id for i in review.list_reviews(wh, include_resolved=True)]
    assert current(wh, "1")["help_and_protection"] == "good"  # not before the refresh
    changes.refresh(wh, "r")
    assert current(wh, "1")["help_and_protection"] == "inadequate"


def test_set_grades_fills_an_unread_area_and_keeps_earlier_grades(wh):
    *_, unread = seed(wh)
    rid = report_id_for(unread)
    changes.refresh(wh, "r")
    assert current(wh, "3") == {"help_and_protection": "good", "overall_effectiveness": "not_read"}
    review.set_grades(wh, rid, {"overall_effectiveness": "Requires improvement"}, who="ann", why="p.1 headline")
    review.set_grades(wh, rid, {"help_and_protection": "outstanding"}, who="bob", why="body p.7")
    item = review.get_review(wh, rid)
    assert item.reviewed == {"overall_effectiveness": "requires_improvement", "help_and_protection": "outstanding"}
    assert (item.resolved_by, item.resolution_note) == ("bob", "body p.7")
    changes.refresh(wh, "r")
    assert current(wh, "3") == {"help_and_protection": "outstanding", "overall_effectiveness": "requires_improvement"}


@pytest.mark.parametrize(
    "grades, who, why, message",
    [
        ({"in_care": "good"}, "ann", "x", "'in_care' is not an area of the sif framework; its areas are: overall"),
        ({"help_and_protection": "great"}, "ann", "x", "'great' is not a grade; grades are: outstanding"),
        ({}, "ann", "x", "no grades given"),
        ({"help_and_protection": "good"}, " ", "x", "say who"),
        ({"help_and_protection": "good"}, "ann", "", "say why"),
    ],
)
def test_set_grades_refuses_bad_input_with_a_clear_message_and_changes_nothing(wh, grades, who, why, message):
    *_, unread = seed(wh)
    with pytest.raises(ValueError, match=message):
        review.set_grades(wh, report_id_for(unread), grades, who=who, why=why)
    assert wh.fetchall("SELECT * FROM review_resolutions") == []
    assert wh.fetchall("SELECT * FROM review_judgements") == []


def test_accepting_an_unknown_report_is_a_clear_error(wh):
    with pytest.raises(ValueError, match="no report 'nope'"):
        review.accept(wh, "nope", who="ann", why="x")


# -- `ofsted review` -------------------------------------------------------------------
@pytest.fixture
def seeded(warehouse_url, monkeypatch):
    from etl.warehouse import connect

    with connect(warehouse_url) as wh:
        reports = seed(wh)
        changes.refresh(wh, "r")
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("USER", "tester")
    return warehouse_url, reports


def ofsted(capsys, *argv):
    from etl.cli import main

    code = main(["review", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_review_list_names_council_date_url_and_what_table_and_body_said(seeded, capsys):
    _, (clean, held, noted, unread) = seeded
    code, out, _ = ofsted(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"held      {report_id_for(held)[:12]}  ilacs_2023")
    assert f"Council 1 (1), published {held.published}, {held.url}" in lines[0]
    assert "  help_and_protection: table inadequate, body good" in lines
    assert "  not read: overall_effectiveness" in lines
    assert "  note: in_care: read from the body only (good)" in lines
    assert lines[-1] == "3 report(s) to review"
    assert ".pdf" not in out  # names reports by URL, never by a file path


def test_review_show_accept_and_set_record_who_and_why_and_move_the_history_at_refresh(seeded, capsys):
    url, (_, held, _, unread) = seeded
    code, out, _ = ofsted(capsys, "show", report_id_for(held)[:10])
    assert code == 0 and out.startswith(f"held      {report_id_for(held)}")

    code, out, _ = ofsted(capsys, "accept", report_id_for(held)[:12], "--why", "table checked")
    assert code == 0 and "resolved" in out and "by tester: table checked" in out
    assert "next changes refresh" in out

    code, out, _ = ofsted(
        capsys,
        "set",
        report_id_for(unread)[:12],
        "overall_effectiveness=requires improvement",
        "--by",
        "ann",
        "--why",
        "headline on p.1",
    )
    assert code == 0 and "set by reviewer: overall_effectiveness = requires_improvement" in out

    from etl.warehouse import connect

    with connect(url) as wh:
        changes.refresh(wh, "r2")
        assert current(wh, "1")["help_and_protection"] == "inadequate"
        assert current(wh, "3")["overall_effectiveness"] == "requires_improvement"
        assert wh.fetchall("SELECT resolved_by, note FROM review_resolutions ORDER BY resolved_by") == [
            ("ann", "headline on p.1"),
            ("tester", "table checked"),
        ]
    code, out, _ = ofsted(capsys, "list")
    assert out.splitlines()[-1] == "1 report(s) to review"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["set", "{unread}", "overall_effectiveness", "--why", "x"], "write AREA=GRADE"),
        (["set", "{unread}", "in_care=good", "--why", "x"], "'in_care' is not an area of the sif framework"),
        (["set", "{unread}", "overall_effectiveness=great", "--why", "x"], "'great' is not a grade"),
        (["show", "abc"], "is not a report id"),
        (["show", "ffffffffff"], "no report 'ffffffffff'"),
    ],
)
def test_review_commands_refuse_bad_input_with_a_clear_message(seeded, capsys, argv, message):
    _, (*_, unread) = seeded
    argv = [a.format(unread=report_id_for(unread)[:12]) for a in argv]
    code, out, err = ofsted(capsys, *argv)
    assert code == 2 and message in err and out == ""


def test_a_record_naming_an_unread_area_outside_its_framework_is_refused(wh):
    bad = make_report("1", 1, "ilacs_2026", date(2026, 6, 1), {"in_care": "good"}, unread=("overall_effectiveness",))
    with pytest.raises(ValueError, match="unread area 'overall_effectiveness' is not judged under ilacs_2026"):
        load.load_reports(wh, [bad], "r")
    assert wh.fetchall("SELECT * FROM reports") == []


# -- from the PDF to the rating history ------------------------------------------------------
def parsed(framework, judgements, n, end, **layout):
    """A synthetic report parsed as the pipeline parses it, with its listing's provenance."""
    from datetime import timedelta

    from etl.config import Settings
    from etl.parse import parse_bytes
    from etl.records import ListingMeta
    from tests.support.synth_reports import report_pdf

    data = report_pdf(
        framework,
        "Exampleshire",
        judgements,
        inspection_start=end - timedelta(days=11),
        inspection_end=end,
        published=end + timedelta(days=40),
        **layout,
    )
    url = f"https://files.ofsted.gov.uk/v1/file/9{n}"
    meta = ListingMeta(
        urn="9", local_authority="Exampleshire", published=end + timedelta(days=40), url=url, sha256=f"{n:064x}"
    )
    return parse_bytes(data, f"/landing/{n}.pdf", meta, Settings.from_env({}))


def test_a_rise_read_from_one_source_in_a_new_wording_is_a_change_event(wh):
    """The 2026 report's table names care leavers in words the parser never saw and leaves
    in care out: both still count, so the rise to outstanding is an event (and alerts)."""
    before = parsed(
        "ilacs_2023",
        {
            "overall_effectiveness": "good",
            "impact_of_leaders": "good",
            "help_and_protection": "good",
            "in_care": "good",
            "care_leavers": "good",
        },
        1,
        date(2024, 1, 12),
    )
    after = parsed(
        "ilacs_2026",
        {
            "impact_of_leaders": "good",
            "help_and_protection": "good",
            "in_care": "outstanding",
            "care_leavers": "outstanding",
        },
        2,
        date(2026, 5, 15),
        table_labels={"care_leavers": "How well the council supports young people leaving care"},
        omit_table=["in_care"],
    )
    assert after.review_flags == () and after.review_notes == ("in_care: read from the body only (outstanding)",)
    load.load_reports(wh, [before, after], "r")
    result = changes.refresh(wh, "r")
    assert sorted((e.area, e.previous_grade, e.grade) for e in result.new) == [
        ("care_leavers", "good", "outstanding"),
        ("in_care", "good", "outstanding"),
    ]
    assert [i.status for i in review.list_reviews(wh)] == ["noted"]


def test_a_sif_report_whose_overall_is_unread_shows_not_read_until_a_reviewer_sets_it(wh):
    sif = {
        "overall_effectiveness": "good",
        "help_and_protection": "good",
        "looked_after_and_permanence": "good",
        "care_leavers": "good",
        "leadership_management_governance": "good",
    }
    first = parsed("sif", sif, 1, date(2014, 3, 1))
    second = parsed("sif", {**sif, "help_and_protection": "inadequate"}, 2, date(2017, 3, 1), sif_headline="")
    load.load_reports(wh, [first, second], "r")
    changes.refresh(wh, "r")
    assert current(wh, "9")["overall_effectiveness"] == "not_read"
    assert current(wh, "9")["help_and_protection"] == "inadequate"
    [item] = review.list_reviews(wh)
    assert (item.status, item.unread_areas, item.url) == ("not_read", ("overall_effectiveness",), second.url)
    review.set_grades(wh, item.report_id, {"overall_effectiveness": "inadequate"}, who="ann", why="p.1")
    result = changes.refresh(wh, "r")
    assert [(e.area, e.previous_grade, e.grade) for e in result.new] == [
        ("overall_effectiveness", "good", "inadequate")
    ]
    assert current(wh, "9")["overall_effectiveness"] == "inadequate"


# -- held re-parses (etl.load holds a re-parse that would lose an area or the report) ----
def test_a_held_reparse_is_listed_with_what_it_would_lose_and_accept_applies_it(warehouse_url, monkeypatch, capsys):
    from etl.warehouse import connect

    url = warehouse_url
    with connect(url) as wh:
        second = held_reparse(wh)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", url)
    rid = report_id_for(second)
    code, out, _ = ofsted(capsys, "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"reparse   {rid[:12]}  ilacs_2023")
    assert "  held re-parse: parser 2.0 finds no in_care, which the stored parse (1.0) has" in lines
    assert "  stored parse: help_and_protection inadequate, in_care good (in force until a decision)" in lines
    assert "  re-parse reads: help_and_protection requires_improvement" in lines
    code, out, _ = ofsted(capsys, "show", rid[:12])
    assert code == 0 and "finds no in_care" in out

    code, out, _ = ofsted(capsys, "accept", rid[:12], "--by", "ann", "--why", "in care is not judged on p.1")
    assert code == 0 and out.startswith(f"resolved  {rid}") and "by ann: in care is not judged on p.1" in out
    with connect(url) as wh:
        assert wh.fetchall("SELECT COUNT(*) FROM parse_holds") == [(0,)]
        assert wh.fetchall("SELECT resolved_by, note FROM review_resolutions WHERE report_id = ?", [rid]) == [
            ("ann", "in care is not judged on p.1")
        ]
        assert current(wh, "1")["help_and_protection"] == "inadequate"  # not before the refresh
        changes.refresh(wh, "r3")
        assert current(wh, "1")["help_and_protection"] == "requires_improvement"
        assert current(wh, "1").get("in_care") != "good"
    code, out, _ = ofsted(capsys, "list")
    assert rid[:12] not in out


def test_set_on_a_held_reparse_applies_it_then_the_reviewers_grades(wh):
    second = held_reparse(wh)
    rid = report_id_for(second)
    item = review.get_review(wh, rid)
    assert (item.status, item.held.parser_version, item.judgements) == (
        "reparse",
        "2.0",
        {"help_and_protection": "inadequate", "in_care": "good"},
    )
    review.set_grades(wh, rid, {"in_care": "good"}, who="ann", why="in care is on p.9")
    item = review.get_review(wh, rid)
    assert (item.status, item.held, item.reviewed) == ("resolved", None, {"in_care": "good"})
    assert item.judgements == {"help_and_protection": "requires_improvement"}  # the re-parse, applied
    changes.refresh(wh, "r3")
    assert current(wh, "1") == {"help_and_protection": "requires_improvement", "in_care": "good"}


def test_a_held_not_a_report_reparse_refuses_grades_and_accept_retires_the_report(wh):
    second = held_reparse(wh, is_report=False, reason="PDF is not an Ofsted report", judgements={})
    rid = report_id_for(second)
    assert "re-parse reads: not a report" in "\n".join(review_cli._details(review.get_review(wh, rid)))
    with pytest.raises(ValueError, match="the held re-parse says this file is not a report"):
        review.set_grades(wh, rid, {"in_care": "good"}, who="ann", why="x")
    assert wh.fetchall("SELECT COUNT(*) FROM parse_holds") == [(1,)]  # refused: nothing changed
    review.accept(wh, rid, who="ann", why="it is a covering letter")
    assert review.get_review(wh, rid) is None and review.list_reviews(wh) == []
    changes.refresh(wh, "r3")
    assert current(wh, "1")["help_and_protection"] == "good"  # the 2019 report again


def test_a_publication_of_an_unknown_kind_is_listed_once_with_its_listing_title_and_never_held(wh):
    from dataclasses import replace

    from etl.crawl import classify
    from tests.support.warehouse_fixtures import make_publication, stored_file_for

    title = "Annual engagement meeting summary, pdf - 04 May 2025"
    pub = replace(make_publication("7", 1, date(2025, 5, 4), kind=classify(title)), title=title)
    jtai = replace(
        make_publication(
            "7", 2, date(2025, 6, 4), kind=classify("Joint area child protection inspection, pdf - 04 June 2025")
        )
    )
    load.load_publications(wh, [pub, jtai], "r")
    load.load_downloads(wh, [stored_file_for(pub), stored_file_for(jtai)], [])
    other = make_report("7", 1, None, date(2025, 4, 1), kind="other")
    letter = make_report("7", 2, None, date(2025, 5, 1), kind="jtai")
    load.load_reports(wh, [other, letter, replace(other, source="again.pdf")], "r")
    items = review.list_reviews(wh)
    assert [(i.report_id, i.status, i.listed_as, i.flags) for i in items] == [
        (report_id_for(other), "other_kind", title, ())
    ]
    review.accept(wh, report_id_for(other), who="ann", why="a meeting note, not an inspection")
    assert review.list_reviews(wh) == []
