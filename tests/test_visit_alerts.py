"""Alerts for letters and area SEND outcomes (issue 17), from the warehouse on both engines:
areas for priority action as their own event, on by default; every other letter saying what it
looked at; area SEND outcomes compared with the council's previous outcome only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from etl import changes, load
from etl.alert import send_alerts
from etl.alert.events import collect_events
from etl.alert.messages import render
from etl.alert.rules import council_directory, load_rules, parse_rules
from etl.records import Council, Visit
from tests.support.warehouse_fixtures import make_publication, make_report, stored_file_for

SLOUGH = Council("80553", "Slough", "https://reports.ofsted.gov.uk/provider/44/80553")
BARNET = Council("80487", "Barnet", "https://reports.ofsted.gov.uk/provider/44/80487")
ACTION = "Leaders have not ensured that care leavers have up-to-date pathway plans. They should act now."
GOOD5 = dict.fromkeys(
    ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers"), "good"
)


def letter(council, n, start, end, published, areas, actions=(), kind="focused_visit", theme=None):
    record = make_report(council.urn, n, None, end, kind=kind, published=published, la=council.name)
    return replace(
        record,
        inspection_start=start,
        visit=Visit(
            areas=tuple(sorted(areas)),
            priority_actions=len(actions),
            priority_action_texts=tuple(a.split(". ")[0].rstrip(".") + "." for a in actions),
            theme=theme,
        ),
    )


def publish(wh, run_id, councils, *records):
    """A run that lists `councils` (their baseline: nothing yet), then one that publishes `records`."""
    load.start_run(wh, "baseline")
    load.load_councils(wh, councils, "baseline")
    load.finish_run(wh, "baseline")
    load.start_run(wh, run_id)
    pubs = [
        replace(
            make_publication(
                r.urn, int(r.source.split("/")[1].split(".")[0]), r.published, kind=r.kind, la=r.local_authority
            )
        )
        for r in records
    ]
    load.load_publications(wh, pubs, run_id)
    load.load_downloads(wh, [stored_file_for(p) for p in pubs], [])
    load.load_reports(wh, list(records), run_id)
    changes.refresh(wh, run_id)
    load.finish_run(wh, run_id)


def sent(wh, rules):
    outbox = []
    send_alerts(
        wh,
        rules,
        council_directory(wh),
        send=lambda url, title, body, body_format="text": outbox.append((url, title, body)),
    )
    return outbox


def test_a_letter_with_areas_for_priority_action_is_its_own_event_on_by_default(wh):
    publish(
        wh,
        "r1",
        [SLOUGH],
        letter(SLOUGH, 1, date(2025, 12, 2), date(2025, 12, 4), date(2026, 1, 12), ("care_leavers",), (ACTION,)),
    )
    [event] = collect_events(wh)
    assert (event.kind, event.letter_kind, event.priority_actions) == ("priority_action", "focused_visit", 1)
    directory = council_directory(wh)
    rules = load_rules(directory, urls=["json://127.0.0.1:9/everything"]) + parse_rules(
        "rules:\n  - target: json://h/no-events\n  - target: json://h/pa\n    events: [priority_action]\n"
        "  - target: json://h/visits\n    events: [focused_visit]\n"
        "  - target: json://h/grades\n    events: [grade_change]\n",
        directory,
    )
    outbox = sent(wh, rules)
    assert sorted(u for u, _, _ in outbox) == [
        "json://127.0.0.1:9/everything",
        "json://h/no-events",
        "json://h/pa",
        "json://h/visits",
    ]
    _, title, body = outbox[0]
    assert title == "Ofsted: Slough — 1 area for priority action (focused visit: care leavers)"
    assert (
        "a focused visit to Slough (URN 80553) from 2 to 4 December 2025, and published its letter on 12 January"
        " 2026." in body
    )
    assert "It looked at care leavers. It sets out 1 area for priority action." in body
    assert (
        "Areas for priority action:\n  - Leaders have not ensured that care leavers have up-to-date pathway plans."
        in body
        and "They should act now" not in body
    )
    assert f"Read the report: {event.url}" in body


def test_every_other_letter_says_what_it_looked_at_and_that_it_set_out_no_priority_action(wh):
    publish(
        wh,
        "r1",
        [BARNET],
        letter(BARNET, 1, date(2021, 6, 23), date(2021, 6, 24), date(2021, 8, 2), ("in_care",)),
        letter(BARNET, 2, date(2024, 1, 8), date(2024, 1, 12), date(2024, 3, 1), (), kind="jtai"),
    )
    titles = {e.kind: render(e, "text") for e in collect_events(wh)}
    assert set(titles) == {"focused_visit", "jtai"}
    visit, jtai = titles["focused_visit"], titles["jtai"]
    assert visit.title == "Ofsted: focused visit to Barnet published — children in care"
    assert (
        "a focused visit to Barnet (URN 80487) from 23 to 24 June 2021, and published its letter on 2 August"
        " 2021." in visit.body
    )
    assert "It looked at children in care. It sets out no areas for priority action." in visit.body
    assert "priority action" not in visit.title.lower() and "priority action" not in jtai.title.lower()
    assert "What it looked at could not be read from the letter. It sets out no areas for priority action." in jtai.body


def test_a_jtais_alerts_name_its_theme_in_words(wh):
    solihull = Council("80554", "Solihull", "https://reports.ofsted.gov.uk/provider/44/80554")
    publish(
        wh,
        "r1",
        [solihull, BARNET],
        letter(
            solihull,
            1,
            date(2022, 1, 10),
            date(2022, 1, 14),
            date(2022, 3, 1),
            ("help_and_protection",),
            (ACTION, "Managers do not oversee the front door. Now."),
            kind="jtai",
            theme="initial_need_and_risk",
        ),
        letter(
            BARNET,
            2,
            date(2024, 1, 8),
            date(2024, 1, 12),
            date(2024, 3, 1),
            ("help_and_protection",),
            kind="jtai",
            theme="domestic_abuse",
        ),
    )
    rendered = {e.council: render(e, "text") for e in collect_events(wh)}
    assert rendered["Solihull"].title == (
        "Ofsted: Solihull — joint inspection of the response to initial need and risk: 2 areas for priority action"
    )
    assert rendered["Barnet"].title == (
        "Ofsted: joint targeted area inspection of Barnet published — the response to domestic abuse"
    )
    assert "It looked at the response to domestic abuse (help and protection)." in rendered["Barnet"].body


def test_priority_action_text_from_the_letter_is_escaped_in_every_format(wh):
    hostile = "Act now @channel <script>x</script> [click](http://evil.example/x)"
    publish(
        wh,
        "r1",
        [SLOUGH],
        letter(SLOUGH, 1, date(2025, 12, 2), date(2025, 12, 4), date(2026, 1, 12), ("care_leavers",), (hostile,)),
    )
    [event] = collect_events(wh)
    bodies = {fmt: render(event, fmt).body for fmt in ("markdown", "html", "text")}
    assert "@channel" not in bodies["text"] + bodies["markdown"]  # a chat mention is broken
    assert "<script>" not in bodies["html"] and "&lt;script&gt;" in bodies["html"]
    assert "<script>" not in bodies["markdown"] and "](http://evil" not in bodies["markdown"]


def test_area_send_outcomes_a_first_is_an_inspection_a_later_different_one_a_grade_change(wh):
    ilacs = make_report(BARNET.urn, 1, "ilacs_2023", date(2024, 3, 1), GOOD5, la="Barnet")
    first = make_report(
        BARNET.urn,
        2,
        "area_send_2023",
        date(2024, 11, 22),
        {"area_send_outcome": "positive"},
        kind="area_send",
        la="Barnet",
    )
    second = make_report(
        BARNET.urn,
        3,
        "area_send_2023",
        date(2025, 11, 21),
        {"area_send_outcome": "systemic_failings"},
        kind="area_send",
        la="Barnet",
    )
    later = make_report(BARNET.urn, 4, "ilacs_2023", date(2026, 1, 20), GOOD5, la="Barnet")
    publish(wh, "r1", [BARNET], ilacs, first, second, later)
    events = {e.inspection_end: e for e in collect_events(wh)}
    assert [events[d].kind for d in sorted(events)] == ["new_council", "inspection", "grade_change", "inspection"]
    change = events[date(2025, 11, 21)].changes
    assert [(c.area, c.previous_grade, c.grade, c.direction) for c in change] == [
        ("area_send_outcome", "positive", "systemic_failings", "declined")
    ]
    assert all(not e.retired for e in events.values()), "an area SEND report retires no ILACS grade, nor back"
    worse = (
        "Ofsted: Barnet — area SEND inspection: widespread or systemic failings, down from positive experiences"
        " and outcomes"
    )
    assert render(events[date(2025, 11, 21)], "text").title == worse
    assert (
        render(events[date(2024, 11, 22)], "text").title
        == "Ofsted: Barnet — first area SEND inspection on record: positive experiences and outcomes"
    )
    assert (
        "The previous area SEND inspection ended on 22 November 2024."
        in render(events[date(2025, 11, 21)], "text").body
    )
    rules = parse_rules(
        "rules:\n  - target: json://h/send\n    areas: [area_send_outcome]\n"
        "  - target: json://h/worse\n    grades: {to: [systemic_failings]}\n",
        council_directory(wh),
    )
    outbox = sent(wh, rules)
    assert sorted((u, t) for u, t, _ in outbox) == [("json://h/send", worse), ("json://h/worse", worse)]


def test_the_run_summary_names_a_letter_that_sets_out_areas_for_priority_action():
    from etl.pipeline import RunSummary, summarise_records

    summary = RunSummary("r")
    quiet = letter(BARNET, 1, date(2021, 6, 23), date(2021, 6, 24), date(2021, 8, 2), ("in_care",))
    loud = letter(SLOUGH, 2, date(2025, 12, 2), date(2025, 12, 4), date(2026, 1, 12), ("care_leavers",), (ACTION,))
    summarise_records(summary, [quiet, loud])
    lines = [line for line in summary.lines() if "PRIORITY ACTION" in line]
    assert lines == [
        f"  PRIORITY ACTION Slough (80553), published 2026-01-12, {loud.url}: focused_visit sets out "
        "1 area(s) for priority action"
    ]
