"""The parser on reports generated in each framework's layout, and on bad inputs."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from etl.config import Settings
from etl.parse import PARSER_VERSION, parse_bytes, parse_file
from etl.records import FRAMEWORK_AREAS, ListingMeta
from tests.support.synth_reports import (
    area_send_2016_pdf,
    area_send_pdf,
    focused_visit_pdf,
    jtai_pdf,
    letter_pdf,
    monitoring_visit_pdf,
    not_found_html,
    report_pdf,
)

SETTINGS = Settings.from_env({})
START, END, PUBLISHED = date(2024, 5, 6), date(2024, 5, 17), date(2024, 7, 1)

JUDGEMENTS = {
    "ilacs_2018": dict(
        overall_effectiveness="requires_improvement",
        impact_of_leaders="good",
        help_and_protection="requires_improvement",
        in_care_and_care_leavers="inadequate",
    ),
    "ilacs_2023": dict(
        overall_effectiveness="good",
        impact_of_leaders="outstanding",
        help_and_protection="good",
        in_care="requires_improvement",
        care_leavers="inadequate",
    ),
    "ilacs_2026": dict(
        impact_of_leaders="requires_improvement",
        help_and_protection="good",
        in_care="outstanding",
        care_leavers="requires_improvement",
    ),
    "sif": dict(
        overall_effectiveness="requires_improvement",
        help_and_protection="good",
        looked_after_and_permanence="requires_improvement",
        adoption_performance="outstanding",
        care_leavers="inadequate",
        leadership_management_governance="requires_improvement",
        lscb="good",
    ),
    "lac": dict(
        lac_overall_effectiveness="adequate",
        lac_capacity_to_improve="good",
        lac_outcomes="adequate",
        lac_quality_of_provision="inadequate",
        lac_leadership_management="outstanding",
    ),
}
PRINTS_PUBLISHED = {"sif", "lac"}


def make(framework, judgements=None, **opts):
    return report_pdf(
        framework,
        "Exampleshire",
        judgements or JUDGEMENTS[framework],
        inspection_start=START,
        inspection_end=END,
        published=PUBLISHED,
        lead_inspector="Jane Smith",
        **opts,
    )


def assert_round_trip(framework, record, judgements=None):
    assert record.is_report, record.reason
    assert record.kind == "inspection"
    assert record.framework == framework
    assert record.judgements == (judgements or JUDGEMENTS[framework])
    assert (record.inspection_start, record.inspection_end) == (START, END)
    assert record.lead_inspector == "Jane Smith"
    assert record.published == (PUBLISHED if framework in PRINTS_PUBLISHED else None)
    assert "Exampleshire" in record.local_authority
    assert record.review_flags == ()
    assert record.parser_version == PARSER_VERSION


@pytest.mark.parametrize("framework", sorted(JUDGEMENTS))
def test_round_trip_every_framework(framework):
    assert_round_trip(framework, parse_bytes(make(framework), "x.pdf", settings=SETTINGS))


@pytest.mark.parametrize(
    "framework,opts",
    [
        ("ilacs_2018", dict(wrap_grades=True, label_width=60)),  # "Requires improvement / to be good"
        ("ilacs_2023", dict(wrap_grades=True, grade_middle=True, label_width=50)),  # grade centred on a wrapped label
        ("ilacs_2026", dict(grade_middle=True, label_width=45, date_style="long")),
        ("ilacs_2018", dict(title_2018="social care", inspector_suffix=", HMI", date_style="numeric")),
        ("ilacs_2023", dict(inspector_suffix="")),
        ("sif", dict(key_judgement_boxes=True, sif_overall_sentence="judgement", wrap_grades=True)),
        ("sif", dict(reinspection=True, date_style="short", grade_middle=True, label_width=60)),
        ("lac", dict(grade_middle=True, label_width=40, date_style="short")),
    ],
)
def test_round_trip_layout_variants(framework, opts):
    assert_round_trip(framework, parse_bytes(make(framework, **opts), "x.pdf", settings=SETTINGS))


def test_sif_reads_the_sections_its_contents_page_lists():
    from etl.parse.frameworks import _sif_section_pages
    from etl.parse.guard import Deadline
    from etl.parse.text import PdfText

    pdf = PdfText(make("sif"), 100, Deadline(60))
    pages = _sif_section_pages(pdf)
    assert pages is not None and len(pages) < pdf.pages
    without = parse_bytes(make("sif", contents=False), "x.pdf", settings=SETTINGS)
    assert_round_trip("sif", without)  # no contents page: every page is read


def test_sif_without_lscb_review_has_no_lscb_key():
    j = {k: v for k, v in JUDGEMENTS["sif"].items() if k != "lscb"}
    assert_round_trip("sif", parse_bytes(make("sif", j), "x.pdf", settings=SETTINGS), j)


def test_2026_table_without_overall_row_is_not_2023():
    record = parse_bytes(make("ilacs_2026"), "x.pdf", settings=SETTINGS)
    assert record.framework == "ilacs_2026"
    assert "overall_effectiveness" not in record.judgements
    assert set(record.judgements) == set(FRAMEWORK_AREAS["ilacs_2026"])


@pytest.mark.parametrize(
    "framework,area",
    [("ilacs_2023", "in_care"), ("sif", "adoption_performance"), ("sif", "lscb"), ("lac", "lac_outcomes")],
)
def test_table_and_body_disagreeing_is_flagged_not_resolved_silently(framework, area):
    body = "good" if JUDGEMENTS[framework][area] != "good" else "inadequate"
    record = parse_bytes(make(framework, body_overrides={area: body}), "x.pdf", settings=SETTINGS)
    assert record.is_report
    flags = [f for f in record.review_flags if f.startswith(area)]
    assert flags and "table says" in flags[0] and body in flags[0], record.review_flags


def test_table_grade_without_body_statement_counts_with_a_note():
    """Not a disagreement: the report still moves the rating history; a note says so."""
    record = parse_bytes(make("ilacs_2018", omit_body=["help_and_protection"]), "x.pdf", settings=SETTINGS)
    assert record.judgements == JUDGEMENTS["ilacs_2018"]
    assert record.review_flags == ()
    assert record.review_notes == ("help_and_protection: read from the page-1 table only (requires_improvement)",)


@pytest.mark.parametrize("kind", ["focused_visit", "monitoring_visit"])
def test_ungraded_letters(kind):
    data = letter_pdf(
        kind, "Exampleshire", visit_start=date(2023, 3, 7), visit_end=date(2023, 3, 8), lead_inspector="Sam Jones"
    )
    record = parse_bytes(data, "letter.pdf", settings=SETTINGS)
    assert record.is_report and record.kind == kind
    assert record.framework is None and record.judgements == {}
    assert (record.inspection_start, record.inspection_end) == (date(2023, 3, 7), date(2023, 3, 8))
    assert record.lead_inspector == "Sam Jones"


def test_listing_meta_fills_published_and_provenance():
    meta = ListingMeta(
        urn="80487",
        local_authority="Exampleshire",
        published=date(2024, 8, 1),
        url="https://files.example/v1/file/1",
        sha256="ab" * 32,
    )
    record = parse_bytes(make("ilacs_2023"), "x.pdf", meta, SETTINGS)
    assert record.published == date(2024, 8, 1)  # ILACS prints none: the listing's
    assert (record.urn, record.url, record.sha256) == (meta.urn, meta.url, meta.sha256)
    sif = parse_bytes(make("sif"), "x.pdf", meta, SETTINGS)
    assert sif.published == PUBLISHED  # printed date wins
    contract = record.to_contract()
    assert contract["published"] == "2024-08-01" and contract["judgements"]["in_care"] == "requires_improvement"


def _password_protected() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "Inspection of Exampleshire local authority children's services")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    return bytes(pdf.output())


def _other_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 10, "Minutes of the allotment society annual general meeting.")
    return bytes(pdf.output())


@pytest.mark.parametrize(
    "data,reason",
    [
        (not_found_html(), "HTML page"),
        (b"", "empty file"),
        (make("ilacs_2023")[:3000], "truncated"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n", "corrupt"),
        (bytes(range(256)) * 10, "not a PDF"),
        (_password_protected(), "password"),
        (_other_pdf(), "not an Ofsted"),
    ],
)
def test_bad_inputs_are_not_reports_with_a_reason(data, reason):
    record = parse_bytes(data, "bad.pdf", settings=SETTINGS)
    assert record.is_report is False
    assert reason.lower() in record.reason.lower()
    assert record.to_contract()["reason"] == record.reason and record.source == "bad.pdf"


def test_guards_refuse_large_long_and_slow_files():
    data = make("sif")
    too_big = parse_bytes(data, "x.pdf", settings=replace(SETTINGS, parse_max_bytes=len(data) - 1))
    assert not too_big.is_report and "too large" in too_big.reason
    too_long = parse_bytes(data, "x.pdf", settings=replace(SETTINGS, parse_max_pages=3))
    assert not too_long.is_report and "too many pages" in too_long.reason
    too_slow = parse_bytes(data, "x.pdf", settings=replace(SETTINGS, parse_timeout=0))
    assert not too_slow.is_report and "time limit" in too_slow.reason


def test_time_limit_works_off_the_main_thread():
    results = []
    slow = replace(SETTINGS, parse_timeout=0)
    thread = threading.Thread(target=lambda: results.append(parse_bytes(make("lac"), "x.pdf", settings=slow)))
    thread.start()
    thread.join(30)
    assert results and not results[0].is_report and "time limit" in results[0].reason


def test_parse_file_reads_disk_and_reports_missing_files(tmp_path):
    good = tmp_path / "report.pdf"
    good.write_bytes(make("ilacs_2023"))
    assert parse_file(good, settings=SETTINGS).framework == "ilacs_2023"
    missing = parse_file(tmp_path / "nope.pdf", settings=SETTINGS)
    assert not missing.is_report and "cannot read" in missing.reason
    assert parse_file(good, settings=replace(SETTINGS, parse_max_bytes=10)).reason.startswith("file too large")


@hsettings(max_examples=60, deadline=None)
@given(st.binary(max_size=4000))
def test_never_raises_on_random_bytes(data):
    record = parse_bytes(data, "fuzz.pdf", settings=SETTINGS)
    assert record.is_report is False and record.reason


_REPORT = make("ilacs_2018")


@hsettings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=len(_REPORT) - 1), st.binary(min_size=1, max_size=64))
def test_never_raises_on_damaged_reports(offset, junk):
    damaged = _REPORT[:offset] + junk + _REPORT[offset + len(junk) :]
    record = parse_bytes(damaged, "fuzz.pdf", settings=SETTINGS)
    assert isinstance(record.is_report, bool)
    assert record.is_report or record.reason


# -- reading by structure (issue 9) ---------------------------------------------------------
# page-1 table labels in other wordings: each family names its area by key words only
TABLE_WORDINGS = {
    "ilacs_2023": {
        "impact_of_leaders": "How well leaders improve practice with children and families",
        "help_and_protection": "Children who need help and protection",
        "in_care": "Children in care",
        "care_leavers": "Care-leavers",
        "overall_effectiveness": "Overall effectiveness of services for children",
    },
    "ilacs_2026": {
        "impact_of_leaders": "Leaders' impact on social work practice",
        "help_and_protection": "Help and protection for children",
        "in_care": "Experiences of children in care",
        "care_leavers": "The experiences and progress of young people leaving care",
    },
    "ilacs_2018": {
        "impact_of_leaders": "Impact of leaders",
        "help_and_protection": "Help and protection",
        "in_care_and_care_leavers": "Children in care and care leavers",
    },
    "sif": {
        "help_and_protection": "Children who need help and protection",
        "looked_after_and_permanence": "Children looked after",
        "adoption_performance": "Adoption",
        "care_leavers": "Care leavers",
        "leadership_management_governance": "Leadership and governance",
    },
}


@pytest.mark.parametrize("framework", sorted(TABLE_WORDINGS))
def test_table_rows_are_matched_on_their_key_words_in_any_wording(framework):
    record = parse_bytes(make(framework, table_labels=TABLE_WORDINGS[framework]), "x.pdf", settings=SETTINGS)
    assert_round_trip(framework, record)
    # every area read from the table as well as the body: nothing read from one source only
    assert record.review_notes == () and record.unread_areas == ()
    assert all(seen["table"] for seen in record.readings.values()), record.readings


SIF_HEADLINES = [  # (page-1 sentence, the overall grade it names)
    ("Children's services in {council} are inadequate", "inadequate"),
    ("Children's services in {council} is good", "good"),
    ("Children's services in {council} require improvement", "requires_improvement"),
    ("Children's services in {council} requires improvement to be good", "requires_improvement"),
    ("The overall judgement is that children's services require improvement to be good", "requires_improvement"),
    ("The overall judgement is requires improvement", "requires_improvement"),
    ("The overall judgement is that children's services are outstanding", "outstanding"),
    ("Overall judgement: Children's services are good", "good"),
    ("Overall effectiveness of children's services Requires improvement", "requires_improvement"),
]


@pytest.mark.parametrize("headline,grade", SIF_HEADLINES)
def test_sif_overall_is_the_grade_the_page_1_headline_names(headline, grade):
    j = {**JUDGEMENTS["sif"], "overall_effectiveness": grade}
    record = parse_bytes(make("sif", j, sif_headline=headline), "x.pdf", settings=SETTINGS)
    assert_round_trip("sif", record, j)
    assert record.unread_areas == ()


@pytest.mark.parametrize("framework", ["ilacs_2023", "sif"])
def test_a_table_drawn_column_by_column_is_read_from_its_layout(framework):
    """Text order gives every label, then every grade: no row reads by text, so pdfplumber
    reads the ruled table; the grades match the body's, so nothing is flagged or noted."""
    record = parse_bytes(make(framework, cells_by_column=True), "x.pdf", settings=SETTINGS)
    assert_round_trip(framework, record)
    assert record.review_notes == ()
    assert all(seen["table"] for seen in record.readings.values() if seen["body"]), record.readings


def test_an_area_read_from_the_body_only_counts_with_a_note():
    record = parse_bytes(make("ilacs_2023", omit_table=["in_care"]), "x.pdf", settings=SETTINGS)
    assert_round_trip("ilacs_2023", record)
    assert record.review_notes == ("in_care: read from the body only (requires_improvement)",)
    assert record.readings["in_care"] == {"table": None, "body": "requires_improvement"}


@pytest.mark.parametrize(
    "framework,unjudged",
    [
        ("sif", {"adoption_performance"}),
        ("sif", {"adoption_performance", "care_leavers"}),
        ("ilacs_2023", {"care_leavers"}),
    ],
)
def test_an_area_the_report_does_not_judge_is_simply_absent(framework, unjudged):
    """A small council, or one with no adoption service: no flag, no note, nothing unread."""
    j = {k: v for k, v in JUDGEMENTS[framework].items() if k not in unjudged}
    record = parse_bytes(make(framework, j), "x.pdf", settings=SETTINGS)
    assert_round_trip(framework, record, j)
    assert record.review_notes == () and record.unread_areas == ()


def test_a_required_area_not_read_is_unread_and_the_others_count():
    j = dict(JUDGEMENTS["sif"])
    record = parse_bytes(make("sif", j, sif_headline=""), "x.pdf", settings=SETTINGS)
    j.pop("overall_effectiveness")
    assert_round_trip("sif", record, j)  # not held: no review flag
    assert record.unread_areas == ("overall_effectiveness",)


def test_a_separately_published_lscb_review_is_a_sif_report_with_its_one_judgement():
    from tests.support.synth_reports import lscb_review_pdf

    data = lscb_review_pdf(
        "Exampleshire", "requires_improvement", inspection_start=START, inspection_end=END, published=PUBLISHED
    )
    record = parse_bytes(data, "lscb.pdf", settings=SETTINGS)
    assert record.is_report, record.reason
    assert (record.kind, record.framework, record.judgements) == ("inspection", "sif", {"lscb": "requires_improvement"})
    assert record.readings == {"lscb": {"table": "requires_improvement", "body": "requires_improvement"}}
    assert (record.local_authority, record.inspection_start, record.inspection_end, record.published) == (
        "Exampleshire",
        START,
        END,
        PUBLISHED,
    )
    assert record.lead_inspector == "Jane Smith"
    assert record.review_flags == record.review_notes == record.unread_areas == ()


def test_a_report_whose_council_cannot_be_determined_is_held():
    anonymous = report_pdf("ilacs_2023", "", JUDGEMENTS["ilacs_2023"], inspection_start=START, inspection_end=END)
    record = parse_bytes(anonymous, "x.pdf", settings=SETTINGS)
    assert record.local_authority is None and record.judgements == JUDGEMENTS["ilacs_2023"]
    assert record.review_flags == ("council: not found",)
    # the listing names it: nothing to hold
    listed = parse_bytes(anonymous, "x.pdf", ListingMeta(urn="80487", local_authority="Barnet"), settings=SETTINGS)
    assert listed.local_authority == "Barnet" and listed.review_flags == ()


# --- letters and area SEND reports -----------------------------------------------------------

VISIT_START, VISIT_END, LETTER_DATE = date(2021, 6, 23), date(2021, 6, 24), date(2021, 8, 2)


def letter(**opts):
    opts = {
        "visit_start": VISIT_START,
        "visit_end": VISIT_END,
        "published": LETTER_DATE,
        "lead_inspector": "Tara Example",
        **opts,
    }
    return parse_bytes(focused_visit_pdf("Exampleshire", **opts), "letter.pdf", settings=SETTINGS)


def test_a_focused_visit_letter_is_read_for_what_it_says():
    record = letter()
    assert (record.is_report, record.kind, record.framework, record.judgements) == (True, "focused_visit", None, {})
    assert (record.inspection_start, record.inspection_end) == (VISIT_START, VISIT_END)
    assert record.published == LETTER_DATE  # the date printed at the top
    assert record.lead_inspector == "Tara Example"  # the signatory, name alone
    assert record.local_authority == "Exampleshire"
    assert record.visit.areas == ("in_care",) and record.visit.priority_actions == 0
    assert record.visit.focus == "Inspectors looked at the local authority's arrangements for children in care."
    assert (record.review_flags, record.review_notes) == ((), ())
    assert record.to_contract()["visit"] == {
        "areas": ["in_care"],
        "priority_actions": 0,
        "priority_action_texts": [],
        "focus": record.visit.focus,
    }


@pytest.mark.parametrize(
    "wording, intro, start, end",
    [
        ("range", "on", date(2021, 6, 23), date(2021, 6, 24)),  # "on 23 and 24 June 2021"
        ("range", "between", date(2020, 10, 6), date(2020, 10, 8)),  # "between 6 and 8 October 2020"
        ("range", "between", date(2020, 9, 29), date(2020, 10, 1)),  # "between 29 September and 1 October 2020"
        ("dash", "on", date(2021, 10, 22), date(2021, 10, 23)),  # "on 22-23 October 2021"
        ("list", "on", date(2021, 7, 15), date(2021, 7, 21)),  # "on 15, 16 and 21 July 2021"
        ("to", "on", date(2021, 3, 1), date(2021, 3, 2)),  # "on 1 to 2 March 2021"
        ("full", "between", date(2020, 10, 13), date(2020, 10, 15)),  # "between 13 October 2020 to 15 October 2020"
        ("range", "on", date(2021, 3, 9), date(2021, 3, 9)),  # a one-day visit: "on 9 March 2021"
    ],
)
@pytest.mark.parametrize("year_printed", [True, False])
def test_visit_dates_in_every_wording(wording, intro, start, end, year_printed):
    published = date.fromordinal(end.toordinal() + 40)
    record = letter(
        visit_start=start,
        visit_end=end,
        published=published,
        date_wording=wording,
        date_intro=intro,
        year_printed=year_printed,
    )
    assert (record.inspection_start, record.inspection_end) == (start, end)  # no year: the letter's
    assert record.review_flags == ()


def test_a_visit_without_its_year_in_a_january_letter_was_the_year_before():
    record = letter(
        visit_start=date(2019, 12, 18), visit_end=date(2019, 12, 19), published=date(2020, 1, 21), year_printed=False
    )
    assert (record.inspection_start, record.inspection_end) == (date(2019, 12, 18), date(2019, 12, 19))


def test_a_letter_dated_before_its_visit_has_slipped_a_year():
    # January letters printed with the old year: a letter is written after its visit
    record = letter(visit_start=date(2019, 12, 18), visit_end=date(2019, 12, 19), published=date(2019, 1, 21))
    assert record.published == date(2020, 1, 21)


@pytest.mark.parametrize(
    "day_list, year, start, end",
    [
        ("23 and 24 June 2021", None, date(2021, 6, 23), date(2021, 6, 24)),
        ("6 and 8 October 2020", None, date(2020, 10, 6), date(2020, 10, 8)),
        ("22-23 October", 2021, date(2021, 10, 22), date(2021, 10, 23)),
        ("15, 16 and 21 July", 2021, date(2021, 7, 15), date(2021, 7, 21)),
        ("1 to 2 March", 2021, date(2021, 3, 1), date(2021, 3, 2)),
        ("29 and 30 September, and 1 October 2020", None, date(2020, 9, 29), date(2020, 10, 1)),
        ("Monday 8 June 2020 to Friday 12 June 2020", None, date(2020, 6, 8), date(2020, 6, 12)),
        ("30 December 2019 to 2 January 2020", None, date(2019, 12, 30), date(2020, 1, 2)),
        ("30 December to 2 January", 2020, date(2019, 12, 30), date(2020, 1, 2)),
    ],
)
def test_day_lists_in_every_wording(day_list, year, start, end):
    from etl.parse.fields import find_day_list, parse_day_list

    m = find_day_list(f"visit to Exampleshire on {day_list}. The inspectors were")
    assert m and parse_day_list(m.group(), year) == (start, end)


@pytest.mark.parametrize(
    "focus, also_leaders, areas",
    [
        ("help_and_protection", False, ("help_and_protection",)),
        ("extra_familial", False, ("help_and_protection",)),
        ("in_care", False, ("in_care",)),
        ("care_leavers", True, ("care_leavers", "impact_of_leaders")),
        (
            "the local authority's arrangements for children in care and care leavers",
            False,
            ("care_leavers", "in_care"),
        ),
        (
            "the assessment and support of private fostering arrangements for children in need",
            False,
            ("help_and_protection",),
        ),
        (None, False, ("care_leavers", "help_and_protection", "impact_of_leaders", "in_care")),  # whole service
    ],
)
def test_the_areas_a_letter_looked_at_come_from_its_focus(focus, also_leaders, areas):
    record = letter(focus=focus, also_leaders=also_leaders)
    assert record.visit.areas == areas
    assert (record.review_flags, record.review_notes) == ((), ())


def test_a_focus_that_cannot_be_read_counts_with_no_areas_and_a_note():
    record = letter(focus="the local authority's arrangements for a new widget")
    assert record.visit.areas == ()
    assert record.review_flags == ()  # it counts: not held
    assert len(record.review_notes) == 1 and record.review_notes[0].startswith("visit focus: no area read")


ACTIONS = [
    "The timeliness of response to contacts and referrals. Too many wait.",
    "Management oversight of practice with children at risk of harm.",
    "The quality of supervision",
]


@pytest.mark.parametrize(
    "style, actions, count, texts",
    [
        (
            "bullets",
            ACTIONS[:2],
            2,
            [
                "The timeliness of response to contacts and referrals.",
                "Management oversight of practice with children at risk of harm.",
            ],
        ),
        (
            "lead_in",
            ACTIONS,
            3,
            [
                "The timeliness of response to contacts and referrals.",
                "Management oversight of practice with children at risk of harm.",
                "The quality of supervision.",
            ],
        ),
        ("single", ACTIONS[:1], 1, ["The timeliness of response to contacts and referrals."]),
        (
            "singular_heading",
            ACTIONS[1:2],
            1,
            [
                "The local authority needs to take swift and decisive action to address "
                "management oversight of practice with children at risk of harm."
            ],
        ),
        (
            "singular_lead_in",
            ACTIONS[:2],
            2,
            [
                "The timeliness of response to contacts and referrals.",
                "Management oversight of practice with children at risk of harm.",
            ],
        ),
        ("none_stated", [], 0, []),
        ("none_bullet", [], 0, []),
    ],
)
def test_areas_for_priority_action_in_each_shape(style, actions, count, texts):
    record = letter(focus="help_and_protection", priority_actions=actions, priority_style=style)
    assert record.visit.priority_actions == count
    assert list(record.visit.priority_action_texts) == texts
    assert (record.review_flags, record.review_notes) == ((), ())


def test_a_priority_action_heading_whose_items_cannot_be_read_counts_one_with_a_note():
    record = letter(priority_style="unreadable")
    assert record.visit.priority_actions == 1 and record.visit.priority_action_texts == ()
    assert record.review_flags == ()
    assert [n for n in record.review_notes if n.startswith("priority actions: a heading whose items could not be read")]


def test_priority_actions_read_from_lines():
    from etl.parse.letters import read_priority_actions

    lines = [
        "Areas for priority action",
        "\u2022 The quality of plans, which is",
        "poor",
        "\u2022 The",
        "timeliness of visits.",
        "What needs to improve in this area of social work practice",
        "\u2022 Supervision.",
    ]
    assert read_priority_actions(lines).count == 2  # items wrap; the next section stops
    carried = [
        "Areas for priority action",
        "\u2022 The area for priority action set out at the previous visit remains.",
        "\u2022 The quality of plans.",
        "Main findings",
    ]
    assert read_priority_actions(carried).count == 1  # an earlier, unresolved one: not again
    assert read_priority_actions(["Overview", "\u2022 Some text."]).count == 0  # no heading


def test_a_monitoring_visit_letter():
    data = monitoring_visit_pdf(
        "Exampleshire",
        visit_start=date(2022, 3, 1),
        visit_end=date(2022, 3, 2),
        published=date(2022, 4, 4),
        focus="help_and_protection",
        lead_inspector="Sam Jones",
    )
    record = parse_bytes(data, "m.pdf", settings=SETTINGS)
    assert (record.kind, record.framework, record.published, record.lead_inspector) == (
        "monitoring_visit",
        None,
        date(2022, 4, 4),
        "Sam Jones",
    )
    assert (record.inspection_start, record.inspection_end) == (date(2022, 3, 1), date(2022, 3, 2))
    assert record.visit.areas == ("help_and_protection",) and record.review_flags == ()


@pytest.mark.parametrize("wording, older", [("to", False), ("full", False), ("range", True)])
def test_a_joint_targeted_area_inspection_letter(wording, older):
    data = jtai_pdf(
        "Exampleshire",
        inspection_start=date(2020, 6, 8),
        inspection_end=date(2020, 6, 12),
        published=date(2020, 8, 3),
        lead_inspector="Ann Lead",
        date_wording=wording,
        heading_names_theme=older,
    )
    record = parse_bytes(data, "j.pdf", settings=SETTINGS)
    assert (record.kind, record.framework, record.local_authority) == ("jtai", None, "Exampleshire")
    assert (record.inspection_start, record.inspection_end) == (date(2020, 6, 8), date(2020, 6, 12))
    assert (record.published, record.lead_inspector) == (date(2020, 8, 3), "Ann Lead")  # Ofsted's, signing first
    assert record.visit.areas == ("help_and_protection",) and "domestic abuse" in record.visit.focus
    assert (record.review_flags, record.review_notes) == ((), ())


@pytest.mark.parametrize("outcome", ["positive", "inconsistent", "systemic_failings"])
@pytest.mark.parametrize("cqc_first", [False, True])
def test_an_area_send_report_gives_its_outcome_and_ofsteds_lead(outcome, cqc_first):
    data = area_send_pdf(
        "Exampleshire",
        outcome,
        inspection_start=date(2024, 2, 12),
        inspection_end=date(2024, 2, 16),
        lead_inspector="Olive Ofsted",
        cqc_lead="Carl Cqc",
        cqc_first=cqc_first,
    )
    record = parse_bytes(data, "s.pdf", settings=SETTINGS)
    assert (record.kind, record.framework, record.judgements) == (
        "area_send",
        "area_send_2023",
        {"area_send_outcome": outcome},
    )
    assert (record.inspection_start, record.inspection_end) == (date(2024, 2, 12), date(2024, 2, 16))
    assert record.lead_inspector == "Olive Ofsted" and record.local_authority == "Exampleshire"
    assert (record.review_flags, record.review_notes, record.visit) == ((), (), None)


@pytest.mark.parametrize("revisit", [False, True])
def test_an_older_area_send_letter_has_no_outcome_and_is_not_held(revisit):
    data = area_send_2016_pdf(
        "Exampleshire",
        inspection_start=date(2019, 1, 22),
        inspection_end=date(2019, 1, 24),
        published=date(2019, 3, 1),
        lead_inspector="Pat Send",
        revisit=revisit,
    )
    record = parse_bytes(data, "s.pdf", settings=SETTINGS)
    assert (record.kind, record.framework, record.judgements) == ("area_send", "area_send_2016", {})
    assert (record.inspection_start, record.inspection_end, record.published) == (
        date(2019, 1, 22),
        date(2019, 1, 24),
        date(2019, 3, 1),
    )
    assert record.lead_inspector == "Pat Send"
    assert (record.review_flags, record.unread_areas) == ((), ())


@pytest.mark.parametrize("framework", ["sif", "ilacs_2023"])
def test_a_one_day_inspection_starts_and_ends_that_day(framework):
    data = report_pdf(
        framework,
        "Exampleshire",
        JUDGEMENTS[framework],
        inspection_start=date(2016, 7, 28),
        inspection_end=date(2016, 7, 28),
        published=PUBLISHED,
    )
    record = parse_bytes(data, "x.pdf", settings=SETTINGS)
    assert (record.inspection_start, record.inspection_end) == (date(2016, 7, 28), date(2016, 7, 28))
    assert record.review_flags == ()


@pytest.mark.parametrize(
    "framework, start, end, kind",
    [
        ("ilacs_2023", date(2024, 5, 6), date(2024, 5, 10), "short"),  # Monday to Friday: one week
        ("ilacs_2018", date(2019, 5, 13), date(2019, 5, 24), "standard"),  # two weeks
        ("ilacs_2026", date(2026, 3, 2), date(2026, 3, 2), "short"),  # one day on site
        ("ilacs_2023", date(2023, 1, 30), date(2023, 2, 12), "standard"),  # 14 days, across a month
        ("sif", date(2016, 1, 11), date(2016, 2, 4), None),  # not ILACS: none
    ],
)
def test_an_ilacs_inspections_type_is_read_from_the_weeks_it_spent_on_site(framework, start, end, kind):
    data = report_pdf(
        framework,
        "Exampleshire",
        JUDGEMENTS[framework],
        inspection_start=start,
        inspection_end=end,
        published=PUBLISHED,
    )
    record = parse_bytes(data, "x.pdf", settings=SETTINGS)
    assert record.inspection_type == kind and record.to_contract()["inspection_type"] == kind
    assert record.review_flags == () and not any("inspection_type" in n for n in record.review_notes)


def test_an_ilacs_inspection_on_site_for_neither_one_week_nor_two_has_no_type_and_a_note():
    data = report_pdf(
        "ilacs_2023",
        "Exampleshire",
        JUDGEMENTS["ilacs_2023"],
        inspection_start=date(2022, 12, 5),
        inspection_end=date(2023, 2, 15),
    )  # an inspection paused and resumed
    record = parse_bytes(data, "x.pdf", settings=SETTINGS)
    assert record.inspection_type is None and record.review_flags == ()
    assert (
        "inspection_type: on site 2022-12-05 to 2023-02-15 (73 days), neither one week (short) nor two"
        " (standard)" in record.review_notes
    )


def test_a_letter_whose_council_cannot_be_read_is_held_unless_the_listing_names_it():
    data = focused_visit_pdf("", visit_start=VISIT_START, visit_end=VISIT_END, published=LETTER_DATE)
    record = parse_bytes(data, "x.pdf", settings=SETTINGS)
    assert record.review_flags == ("council: not found",)
    listed = parse_bytes(data, "x.pdf", ListingMeta(urn="80487", local_authority="Barnet"), SETTINGS)
    assert listed.review_flags == () and listed.local_authority == "Barnet"


def test_a_monitoring_visit_whose_focus_is_a_list_reads_the_areas_from_the_list():
    data = monitoring_visit_pdf(
        "Exampleshire",
        visit_start=date(2022, 3, 1),
        visit_end=date(2022, 3, 2),
        focus_items=[
            "the quality of assessments for children in need",
            "the stability of placements for children in care.",
        ],
    )
    record = parse_bytes(data, "m.pdf", settings=SETTINGS)
    assert record.visit.areas == ("help_and_protection", "in_care")
    assert record.review_notes == ()


@pytest.mark.parametrize(
    "lines, count, texts, noted",
    [
        # the heading with its statement on the same line
        (
            ["Area for priority action: The timeliness of visits to children.", "Main findings"],
            1,
            ("The timeliness of visits to children.",),
            False,
        ),
        # a lead-in introducing items that carry no marker: cannot be told apart, counted one and noted
        (
            [
                "Areas for priority action",
                "The local authority must address the following:",
                "The quality of plans.",
                "The timeliness of visits.",
                "Main findings",
            ],
            1,
            (),
            True,
        ),
        # a statement that there are none
        (
            [
                "Areas for priority action",
                "There are no priority actions following this focused visit.",
                "What needs to improve",
            ],
            0,
            (),
            False,
        ),
        # an item whose colon introduces dashed sub-items (a JTAI's): the item's own words are its text
        (
            [
                "Area for priority action",
                "Priority action should be taken across the following areas:",
                "\u2022 Leaders should act now.",
                "\u2022 Across the partnership, leaders should ensure that practice reduces",
                "risk of exploitation:",
                "- The police should improve recording.",
                "- All partners should act.",
                "What needs to improve?",
            ],
            2,
            (
                "Leaders should act now.",
                "Across the partnership, leaders should ensure that practice reduces risk of exploitation.",
            ),
            False,
        ),
    ],
)
def test_priority_action_sections_in_other_shapes(lines, count, texts, noted):
    from etl.parse.letters import read_priority_actions

    found = read_priority_actions(lines)
    assert (found.count, found.texts, found.note is not None) == (count, texts, noted)


def test_an_area_send_report_without_an_outcome_section_is_2023_with_no_outcome_and_not_held():
    # e.g. a monitoring inspection of a local area partnership: 2023 terms, no outcome stated
    data = area_send_pdf("Exampleshire", None, inspection_start=date(2024, 2, 12), inspection_end=date(2024, 2, 16))
    record = parse_bytes(data, "s.pdf", settings=SETTINGS)
    assert (record.kind, record.framework, record.judgements) == ("area_send", "area_send_2023", {})
    assert (record.review_flags, record.unread_areas) == ((), ())


def test_an_ofsted_document_of_unknown_kind_is_read_and_noted_never_held_for_its_kind():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(
        0,
        8,
        "Ofsted\nA note on the annual conversation with Exampleshire children's services.\n"
        "Yours sincerely\nJane Smith\nHis Majesty's Inspector",
    )
    record = parse_bytes(bytes(pdf.output()), "other.pdf", ListingMeta(urn="80487"), SETTINGS)
    assert record.is_report and record.kind == "other" and record.visit is None
    assert record.review_flags == ()
    assert record.review_notes == ("kind: an Ofsted document of a kind not recognised from its title",)


_LETTER = focused_visit_pdf(
    "Exampleshire", visit_start=VISIT_START, visit_end=VISIT_END, published=LETTER_DATE, priority_actions=ACTIONS[:2]
)


@hsettings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=len(_LETTER) - 1), st.binary(min_size=1, max_size=64))
def test_a_damaged_letter_fails_alone_without_a_parser_error(offset, junk):
    damaged = _LETTER[:offset] + junk + _LETTER[offset + len(junk) :]
    record = parse_bytes(damaged, "fuzz.pdf", settings=SETTINGS)
    assert not (record.reason or "").startswith("parser error"), record.reason
    assert record.is_report or record.reason


_LINE = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "Areas for priority action",
            "Area for priority action",
            "Area(s) for priority action:",
            "\u2022 ",
            "\u2022 The x.",
            "1. An item",
            "What needs to improve",
            "The local authority must address the following:",
            "There are none.",
            "",
        ]
    ),
)


@hsettings(max_examples=200, deadline=None)
@given(st.lists(_LINE, max_size=12))
def test_priority_action_reading_never_fails_and_never_gives_more_texts_than_actions(lines):
    from etl.parse.letters import read_focus, read_priority_actions, sentences

    found = read_priority_actions(lines)
    assert found.count >= 0 and len(found.texts) <= max(found.count, 0)
    read_focus(sentences(" ".join(lines)))


@hsettings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 ,-andtoJuneDecmbrFbuy", max_size=40), st.integers(1990, 2030))
def test_day_list_reading_never_fails(text, year):
    from etl.parse.fields import find_day_list, parse_day_list

    m = find_day_list(text)
    if m:
        start, end = parse_day_list(m.group(), year)
        assert (start is None) == (end is None)


@pytest.mark.parametrize(
    "line",
    [
        "Adam Example HMI, Ofsted lead inspector Kaye Other, CQC lead inspector",
        "Kaye Other, CQC lead inspector Adam Example, Ofsted HMI lead inspector",
        "Mr Adam Example, His Majesty's Inspector, Ofsted lead inspector",
        "Ofsted lead inspector: Adam Example, HMI",
        "Adam Example, HMI, Ofsted Lead Inspector",
    ],
)
def test_area_send_lead_is_ofsteds_in_every_team_layout(line):
    from etl.parse.letters import send_lead

    assert send_lead(["Inspection team", "Ofsted Care Quality Commission", line]) == "Adam Example"


@pytest.mark.parametrize(
    "lines",
    [
        ["Yours sincerely", "Jane Example", "His Majesty's Inspector"],
        ["Yours sincerely,", "Jane Example HMI"],
        ["Your sincerely", "Jane Example (Lead Inspector)", "Her Majesty's Inspector"],
        ["Yours sincerely, Jane Example", "Her Majesty's Inspector"],
        ["Ofsted will take the findings into account.", "Jane Example", "Her Majesty's Inspector"],
    ],
)
def test_a_letters_signatory_in_every_layout(lines):
    from etl.parse.letters import signatory

    assert signatory(lines) == ("Jane Example", None)


def test_a_letters_printed_date_may_follow_a_label():
    from etl.parse.fields import first_dated_line, first_full_date

    head = "Ofsted\nM1 2WD\nDate: 2 August 2021\nDirector"
    assert first_dated_line(head) is None and first_full_date(head) == LETTER_DATE


def test_a_sentence_wrapped_onto_its_own_line_is_not_a_priority_action_heading():
    from etl.parse.letters import read_priority_actions

    lines = [
        "Although weaknesses in practice have not led to",
        "areas for priority action",
        "\u2022 some plans are weak.",
    ]
    assert read_priority_actions(lines).count == 0


def test_a_focus_sentence_that_also_mentions_evidence_is_the_focus():
    from etl.parse.letters import read_focus

    opening = [
        "This letter summarises the findings of the focused visit on 1 and 2 March 2022.",
        "Inspectors looked at the local authority's arrangements for care leavers, and the evidence of their progress.",
        "Inspectors considered a range of evidence, including children's records.",
    ]
    assert read_focus(opening).areas == ("care_leavers",)


@pytest.mark.parametrize("kind", ["focused_visit", "monitoring_visit", "jtai", "area_send"])
def test_fake_site_documents_of_every_kind_read_back_as_that_kind(kind):
    from tests.support.synth_reports import listing_pdf

    record = parse_bytes(listing_pdf("Exampleshire", kind, date(2024, 7, 1)), "x.pdf", settings=SETTINGS)
    assert record.kind == kind and record.review_flags == ()
    if kind != "area_send":  # a letter prints the listing's date
        assert record.published == date(2024, 7, 1) and record.visit is not None
    else:
        assert record.judgements["area_send_outcome"] in ("positive", "inconsistent", "systemic_failings")


# --- issue 25: every letter read as it is written ---------------------------------------------


@pytest.mark.parametrize("style", ["earlier_remain", "earlier_listed"])
def test_earlier_areas_for_priority_action_that_remain_are_not_new_ones(style):
    # "The areas for priority action identified at the focused visit in March 2023 remain. There
    # are no additional areas for priority action." (or the earlier ones listed under that lead-in)
    record = letter(focus="help_and_protection", priority_actions=ACTIONS[:2], priority_style=style)
    assert (record.visit.priority_actions, record.visit.priority_action_texts) == (0, ())
    assert record.review_flags == ()
    assert record.review_notes == ("priority actions: only earlier ones, still unresolved, are set out",)


@pytest.mark.parametrize(
    "lines, count",
    [
        # an earlier action remains and a new one is set out beside it
        (
            [
                "Areas for priority action",
                "The area for priority action identified at the last visit remains. In",
                "addition, the local authority must urgently improve the timeliness of visits.",
                "Main findings",
            ],
            1,
        ),
        # an earlier action remains; what follows is a finding, not an action
        (
            [
                "Areas for priority action",
                "The area for priority action identified at the last visit remains.",
                "Children wait too long for their assessments.",
                "Main findings",
            ],
            0,
        ),
    ],
)
def test_what_follows_an_earlier_action_counts_only_where_it_sets_out_a_new_one(lines, count):
    from etl.parse.letters import read_priority_actions

    assert read_priority_actions(lines).count == count


@pytest.mark.parametrize(
    "theme",
    [
        "cse_and_missing",
        "domestic_abuse",
        "neglect",
        "exploitation",
        "sexual_abuse_in_family",
        "mental_health",
        "initial_need_and_risk",
        "serious_youth_violence",
    ],
)
def test_a_jtai_of_either_era_gives_its_theme_and_ofsteds_signatory(theme):
    older = theme in ("cse_and_missing", "neglect", "sexual_abuse_in_family", "mental_health")
    data = jtai_pdf(
        "Exampleshire",
        inspection_start=date(2019, 3, 4),
        inspection_end=date(2019, 3, 8),
        published=date(2019, 4, 26),
        lead_inspector="Yvonne Stanhope",
        theme=theme,
        heading_names_theme=older,
        date_wording="range" if older else "to",
    )
    record = parse_bytes(data, "j.pdf", settings=SETTINGS)
    assert (record.kind, record.local_authority, record.published) == ("jtai", "Exampleshire", date(2019, 4, 26))
    assert (record.inspection_start, record.inspection_end) == (date(2019, 3, 4), date(2019, 3, 8))
    assert record.lead_inspector == "Yvonne Stanhope"  # never "Ofsted Care Quality Commission"
    assert (record.visit.theme, record.visit.areas, record.visit.priority_actions) == (
        theme,
        ("help_and_protection",),
        0,
    )
    assert record.to_contract()["visit"]["theme"] == theme
    assert (record.review_flags, record.review_notes) == ((), ())


@pytest.mark.parametrize("theme, ofsted_column", [("domestic_abuse", 1), ("neglect", 0), ("cse_and_missing", 1)])
def test_an_older_jtai_about_abuse_and_neglect_takes_its_deep_dive_and_ofsteds_column(theme, ofsted_column):
    data = jtai_pdf(
        "Exampleshire",
        inspection_start=date(2017, 2, 27),
        inspection_end=date(2017, 3, 3),
        published=date(2017, 4, 21),
        lead_inspector="Ella Schofield",
        theme=theme,
        date_wording="range",
        heading_names_theme=True,
        deep_dive=True,
        ofsted_column=ofsted_column,
    )
    record = parse_bytes(data, "j.pdf", settings=SETTINGS)
    assert (record.visit.theme, record.lead_inspector) == (theme, "Ella Schofield")
    assert record.review_notes == ()


def test_a_jtai_whose_theme_fits_no_key_counts_with_no_theme_and_a_note():
    data = jtai_pdf(
        "Exampleshire",
        inspection_start=date(2024, 3, 4),
        inspection_end=date(2024, 3, 8),
        theme="children who are electively home educated",
    )
    record = parse_bytes(data, "j.pdf", settings=SETTINGS)
    assert record.visit.theme is None and record.visit.areas == ("help_and_protection",)
    assert record.review_flags == () and record.review_notes[0].startswith("visit theme: no theme read from")


@pytest.mark.parametrize("older", [False, True])
def test_a_joint_signature_block_with_no_ofsted_name_gives_no_lead_inspector_and_a_note(older):
    data = jtai_pdf(
        "Exampleshire",
        inspection_start=date(2019, 3, 4),
        inspection_end=date(2019, 3, 8),
        heading_names_theme=older,
        date_wording="range",
        ofsted_signs=False,
    )
    record = parse_bytes(data, "j.pdf", settings=SETTINGS)
    assert record.lead_inspector is None  # never a heading, nor the CQC's or the police's signatory
    assert record.review_flags == ()
    assert record.review_notes == ("lead inspector: the signature block names no Ofsted signatory",)


def test_a_jtai_sets_out_each_area_for_priority_action_under_a_singular_heading():
    data = jtai_pdf(
        "Exampleshire",
        inspection_start=date(2023, 11, 13),
        inspection_end=date(2023, 11, 17),
        theme="initial_need_and_risk",
        priority_actions=ACTIONS[:2],
    )
    record = parse_bytes(data, "j.pdf", settings=SETTINGS)
    assert record.visit.priority_actions == 2  # not the written statement of action every JTAI asks for
    assert record.visit.priority_action_texts[1] == "Management oversight of practice with children at risk of harm."


def test_visit_days_written_the_15_and_16_of_may_are_read():
    record = letter(days_text="the 15 and 16 of May 2018", published=date(2018, 6, 20))
    assert (record.inspection_start, record.inspection_end) == (date(2018, 5, 15), date(2018, 5, 16))
    assert record.review_flags == ()


def test_visit_dates_whose_year_slips_are_read_with_the_year_that_fits_the_letter_and_noted():
    record = letter(days_text="24 October 2022 to 25 October 2023", published=date(2022, 11, 28))
    assert (record.inspection_start, record.inspection_end) == (date(2022, 10, 24), date(2022, 10, 25))
    assert record.review_flags == ()
    assert record.review_notes == (
        "visit dates: printed 24 October 2022 to 25 October 2023, read as "
        "24 October 2022 to 25 October 2022 (the years that fit the letter)",
    )


@pytest.mark.parametrize(
    "days_text, tried",
    [
        ("24 and 25 March 2019", True),  # no year fits the letter of 28 November 2022 (within six months)
        ("the autumn term", False),
    ],
)
def test_a_letter_whose_dates_cannot_be_right_is_held_for_its_dates(days_text, tried):
    record = letter(days_text=days_text, published=date(2022, 11, 28))
    assert (record.inspection_start, record.inspection_end) == (None, None)
    assert len(record.review_flags) == 1 and record.review_flags[0].startswith("visit dates not read: ")
    assert ("tried \u201cThis letter summarises" in record.review_flags[0]) == tried
    assert ("cannot be right for a letter of 28 November 2022" in record.review_flags[0]) == tried


def test_a_signatorys_trailing_full_stop_is_not_part_of_the_name():
    assert letter(lead_inspector="Jane Smith.").lead_inspector == "Jane Smith"


@pytest.mark.parametrize("printed", ["2nd of August, 2021", "Monday 2 August, 2021"])
def test_a_letters_printed_date_in_other_wordings(printed):
    assert letter(printed_date=printed, published=LETTER_DATE).published == LETTER_DATE


def test_a_finding_about_leaders_after_the_focus_adds_no_area():
    assert letter(focus="in_care", leaders_finding=True).visit.areas == ("in_care",)
    assert letter(focus="in_care", also_leaders=True).visit.areas == ("impact_of_leaders", "in_care")


@pytest.mark.parametrize("cqc_first", [False, True])
def test_ofsteds_lead_in_a_send_team_table_whose_roles_name_no_inspectorate(cqc_first):
    data = area_send_pdf(
        "Exampleshire",
        "positive",
        inspection_start=date(2024, 2, 12),
        inspection_end=date(2024, 2, 16),
        lead_inspector="Olive Oakes",
        cqc_lead="Carl Carey",
        cqc_first=cqc_first,
        roles_name_inspectorate=False,
    )
    assert parse_bytes(data, "s.pdf", settings=SETTINGS).lead_inspector == "Olive Oakes"


def test_only_a_jtai_has_a_theme_in_the_contract():
    assert "theme" not in letter().to_contract()["visit"]


_SIGN_LINE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "Yours sincerely",
            "Ofsted Care Quality Commission",
            "HMI Constabulary HMI Probation",
            "Jane Smith",
            "National Director, Social Care",
            "Deputy Chief Inspector, CQC",
            "Her Majesty's Inspector",
            "Ofsted",
            "Inspection team",
            "Jane Smith HMI, Lead inspector Carl Carey, Lead inspector",
            "Services",
            "",
        ]
    ),
)


@hsettings(max_examples=150, deadline=None)
@given(st.lists(_SIGN_LINE, max_size=14))
def test_signature_team_and_theme_reading_never_fail(lines):
    from etl.parse.letters import _is_heading_row, read_theme, send_lead, signatory

    name, note = signatory(lines)
    assert name is None or (name.strip() and not _is_heading_row(name))  # never a row of column headings
    assert note is None or name is None
    send_lead(lines)
    theme, _ = read_theme(" ".join(["the multi-agency response to", *lines, "'deep dive' focus on", *lines]))
    assert theme is None or theme in __import__("etl.records", fromlist=["JTAI_THEMES"]).JTAI_THEMES
