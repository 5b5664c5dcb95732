"""Delivery from the warehouse (both engines): one message per report and channel, every event
kind, the per-council baseline, claims that make two concurrent senders safe, retries, digests
on a fixed clock, and real receivers (SMTP on loopback, the webhook)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime

import pytest

from etl import changes, load, reference
from etl.alert import apprise_send, send_alerts
from etl.alert.rules import Directory, Rule, council_directory, parse_rules
from etl.grades import style
from etl.records import Council
from etl.warehouse import connect, migrate
from tests.support.smtp import SMTPReceiver
from tests.support.warehouse_fixtures import (
    SAMPLE_COUNCILS,
    load_sample,
    load_sample_before_008,
    make_publication,
    make_report,
    sample_records,
)
from tests.support.webhook import WebhookReceiver

GOOD5 = dict.fromkeys(
    ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers"), "good"
)
EVERYTHING = [Rule(target="all", url="json://127.0.0.1:9/all")]


class Outbox:
    """A sender that records what it is asked to send (and can be told to fail)."""

    def __init__(self, fail: bool = False):
        self.sent: list[tuple] = []
        self.fail = fail

    def __call__(self, url, title, body, body_format="text"):
        if self.fail:
            return "HTTP 503 from receiver"
        self.sent.append((url, title, body, body_format))
        return None

    @property
    def titles(self) -> list[str]:
        return [t for _, t, _, _ in self.sent]


def publication_of(report, kind=None):
    return make_publication(
        report.urn,
        int(report.source.split("/")[1][:-4]),
        report.published,
        kind=kind or report.kind,
        la=report.local_authority,
    )


def run(wh, run_id, *reports, visits=(), councils=()):
    """One pipeline run that lists `councils` and publishes these reports and visits."""
    load.start_run(wh, run_id)
    load.load_councils(wh, list(councils), run_id)
    load.load_publications(wh, [publication_of(r) for r in reports] + list(visits), run_id)
    load.load_reports(wh, list(reports), run_id)
    result = changes.refresh(wh, run_id)
    load.finish_run(wh, run_id)
    return result


def send(wh, rules=EVERYTHING, **kwargs):
    outbox = kwargs.pop("outbox", None) or Outbox()
    summary = send_alerts(wh, rules, council_directory(wh), send=outbox, **kwargs)
    return summary, outbox


def barnet_2026(n=6, **grades):
    return make_report("80487", n, "ilacs_2023", date(2026, 3, 6), {**GOOD5, **grades}, la="Barnet")


def test_one_message_per_report_lists_every_change_and_is_sent_once(wh):
    load_sample(wh, "run-1")
    reference.sync(wh)  # the councils' regions
    assert send(wh)[1].sent == [], "the first run's reports are history"
    run(
        wh,
        "run-2",
        barnet_2026(overall_effectiveness="inadequate", in_care="inadequate", help_and_protection="inadequate"),
    )
    summary, outbox = send(wh)
    assert summary.sent == 1 and len(outbox.sent) == 1
    url, title, body, fmt = outbox.sent[0]
    assert title == "Ofsted: Barnet declined — overall effectiveness outstanding → inadequate (+3 areas)"
    assert "help and protection: good → inadequate (declined)" in body and "in care: outstanding → inadequate" in body
    assert "Grades that held:" in body and "Change IDs:" in body and fmt == "text"
    # the council's region, and the previous inspection's end (under the same framework)
    assert body.startswith(
        "Ofsted inspected children's services in Barnet (London, URN 80487) from 23 February to"
        " 6 March 2026, under the ILACS framework of 2023, and published its report on 15 April"
        " 2026. The previous inspection ended on 8 March 2024.\n"
    )
    assert send(wh)[1].sent == [], "never twice"


def test_event_kinds_beyond_grade_changes_each_chosen_by_a_rule(wh):
    load_sample(wh, "run-1")
    cumberland = Council("2733690", "Cumberland", "https://reports.ofsted.gov.uk/provider/44/2733690")
    visits = [
        make_publication("80487", 20, date(2026, 4, 1), kind="focused_visit", la="Barnet"),
        make_publication("80442", 21, date(2026, 4, 2), kind="monitoring_visit"),
        make_publication("80999", 22, date(2026, 4, 3), kind="jtai"),
        make_publication("80487", 23, date(2026, 4, 4), kind="other"),
    ]
    run(wh, "run-2", councils=[cumberland])  # Cumberland listed with no reports yet
    run(
        wh,
        "run-3",
        barnet_2026(7, overall_effectiveness="outstanding", impact_of_leaders="outstanding", in_care="outstanding"),
        make_report("2733690", 1, "ilacs_2023", date(2026, 2, 1), GOOD5, la="Cumberland"),
        visits=visits,
    )
    rules = parse_rules(
        "rules:\n  - target: json://h/all\n  - target: json://h/visits\n    events: [focused_visit, jtai]\n",
        council_directory(wh),
    )
    _, outbox = send(wh, rules)
    by_target = {u: sorted(t for uu, t, _, _ in outbox.sent if uu == u) for u in ("json://h/all", "json://h/visits")}
    assert by_target["json://h/all"] == sorted(
        [
            "Ofsted: Barnet inspected, no grade changed — overall effectiveness outstanding",
            "Ofsted: Cumberland — first inspection on record: overall effectiveness good",
            "Ofsted: focused visit to Barnet published",
            "Ofsted: monitoring visit to Bath & North East Somerset, Council of published",
            "Ofsted: joint targeted area inspection of King's Lynn % Test? published",
        ]
    )
    assert by_target["json://h/visits"] == sorted(
        [
            "Ofsted: focused visit to Barnet published",
            "Ofsted: joint targeted area inspection of King's Lynn % Test? published",
        ]
    )


def test_a_correction_that_retracts_a_change_is_news_once(wh):
    load_sample(wh, "run-1")
    run(wh, "run-2", barnet_2026(care_leavers="inadequate"))
    assert len(send(wh)[1].sent) == 1
    load.start_run(wh, "run-3")
    load.load_reports(
        wh,
        [
            make_report(
                "80487",
                6,
                "ilacs_2023",
                date(2026, 3, 6),
                {**GOOD5, "care_leavers": "good", "in_care": "outstanding"},
                la="Barnet",
                parser_version="1.1",
            )
        ],
        "run-3",
    )
    assert len(changes.refresh(wh, "run-3").retracted) == 2  # care leavers, in care
    _, outbox = send(wh)
    assert outbox.titles == ["Ofsted: correction — 2 earlier changes for Barnet retracted"]
    assert "care leavers: good → inadequate" in outbox.sent[0][2]
    assert send(wh)[1].sent == []


def test_the_baseline_is_per_council_a_first_run_limited_to_one_council_makes_no_flood(wh):
    councils, _, reports = sample_records()
    barnet = [r for r in reports if r.urn == "80487"]
    others = [r for r in reports if r.urn != "80487"]
    run(wh, "run-1", *barnet, councils=[c for c in councils if c.urn == "80487"])  # `--council 80487`
    run(wh, "run-2", *others, councils=councils)  # the first full run
    assert wh.fetchone("SELECT COUNT(*) FROM rating_changes WHERE urn <> '80487'")[0] > 0
    assert send(wh)[1].sent == [], "every council's history is baseline, not just the first run's"
    run(wh, "run-3", make_report("80442", 3, "ilacs_2023", date(2026, 1, 9), GOOD5), councils=councils)
    assert [t.split(" —")[0] for t in send(wh)[1].titles] == ["Ofsted: Bath & North East Somerset, Council of improved"]


def test_a_council_page_unread_on_its_first_run_keeps_its_baseline_for_the_run_that_reads_it(wh):
    councils, _, reports = sample_records()
    load.start_run(wh, "run-1")
    load.load_councils(wh, councils, "run-1", unread=["80442"])
    run(wh, "run-2", *[r for r in reports if r.urn == "80442"], councils=councils)
    assert wh.fetchone("SELECT first_listed_run FROM councils WHERE urn = '80442'") == ("run-2",)
    assert send(wh)[1].sent == []


def test_historic_alerts_on_request(wh):
    load_sample(wh, "run-1")
    summary, outbox = send(wh, include_baseline=True)
    assert summary.sent == len(outbox.sent) == 8  # one per report and visit, not one per change
    assert wh.fetchone("SELECT COUNT(*) FROM rating_changes")[0] > 8


def test_a_failed_delivery_is_retried_next_run_and_then_never_again(wh):
    load_sample(wh, "run-1")
    run(wh, "run-2", barnet_2026(in_care="inadequate"))
    summary, _ = send(wh, outbox=Outbox(fail=True))
    assert (summary.sent, summary.failed) == (0, 1) and "503" in summary.errors[0]
    assert wh.fetchall("SELECT status, attempts, last_error FROM alert_messages WHERE kind = 'grade_change'") == [
        ("failed", 1, "HTTP 503 from receiver")
    ]
    assert send(wh)[0].sent == 1
    assert send(wh)[0].sent == 0
    assert wh.fetchall("SELECT status, attempts FROM alert_messages WHERE kind = 'grade_change'") == [("delivered", 2)]


def test_a_claim_abandoned_by_a_dead_sender_is_taken_over_after_the_timeout(wh):
    load_sample(wh, "run-1")
    run(wh, "run-2", barnet_2026(in_care="inadequate"))

    def dies(*args):
        raise SystemExit("worker killed mid-send")

    with pytest.raises(SystemExit):
        send(wh, outbox=dies, now=datetime(2026, 5, 1, 9, 0))
    assert send(wh, now=datetime(2026, 5, 1, 9, 10))[1].sent == [], "claimed by a sender that may still be sending"
    assert len(send(wh, now=datetime(2026, 5, 1, 9, 31))[1].sent) == 1


def test_daily_and_weekly_digests_one_message_per_period_on_a_fixed_clock(wh):
    load_sample(wh, "run-1")
    rules = parse_rules(
        "rules:\n  - target: json://h/daily\n    cadence: daily\n  - target: json://h/weekly\n    cadence: weekly\n",
        council_directory(wh),
    )
    monday = datetime(2026, 11, 23, 10, 0)
    run(wh, "run-2", barnet_2026(in_care="inadequate"))
    summary, outbox = send(wh, rules, now=monday)
    assert (summary.queued, outbox.sent) == (2, []), "queued in today's and this week's digests"
    run(
        wh,
        "run-3",
        make_report("80442", 3, "ilacs_2023", date(2026, 1, 9), GOOD5),
        visits=[make_publication("80999", 30, date(2026, 11, 20), kind="focused_visit")],
    )
    assert send(wh, rules, now=monday.replace(hour=23))[1].sent == []
    _, tuesday = send(wh, rules, now=datetime(2026, 11, 24, 6, 0))
    assert len(tuesday.sent) == 1 and tuesday.sent[0][0] == "json://h/daily"
    # headed by the days its items were published, and the day the pipeline first saw them
    assert tuesday.sent[0][1] == "Ofsted daily digest: 3 reports published from 18 February to 20 November 2026"
    assert tuesday.sent[0][2].startswith(
        "What Ofsted published about the councils you follow from 18 February to"
        " 20 November 2026 (first seen on 23 November 2026):"
    )
    assert send(wh, rules, now=datetime(2026, 11, 24, 7, 0))[1].sent == [], "once per period"
    _, next_week = send(wh, rules, now=datetime(2026, 11, 30, 0, 5))
    assert [t for _, t, _, _ in next_week.sent] == [
        "Ofsted weekly digest: 3 reports published from 18 February to 20 November 2026"
    ]
    assert send(wh, rules, now=datetime(2026, 12, 8))[1].sent == []


def test_deliveries_recorded_before_the_upgrade_are_not_sent_again(empty_warehouse):
    channel = EVERYTHING[0]
    with connect(empty_warehouse) as wh:
        migrate(wh, target=7)  # the schema before alert_messages
        load_sample_before_008(wh, "run-1")
        load.start_run(wh, "run-2")
        load.load_publications(wh, [publication_of(barnet_2026(in_care="inadequate"))], "run-2")
        load.load_reports(wh, [barnet_2026(in_care="inadequate")], "run-2")
        _, events = changes.build_history(changes.graded_reports(wh))
        changes._reconcile_events(wh, events, "run-2")  # the change events as version 7 recorded them
        from etl.alert.delivery import rule_channel

        (cid,) = wh.fetchone(
            "SELECT change_id FROM change_events WHERE grade = 'inadequate' AND urn = '80487'"
            " AND published > '2026-01-01'"
        )
        wh.execute(
            "INSERT INTO alert_deliveries VALUES (?, ?, 'delivered', 1, NULL, ?, ?)",
            [cid, rule_channel(channel), datetime(2026, 4, 1), datetime(2026, 4, 1)],
        )
        migrate(wh)
        assert send(wh)[1].sent == [], "delivered before the upgrade"
        assert wh.fetchone("SELECT status FROM alert_messages WHERE channel = ?", [rule_channel(channel)]) == (
            "delivered",
        )


# -- concurrency and real receivers ------------------------------------------------------------
def test_two_concurrent_senders_on_postgres_send_each_message_once(wh, warehouse_url):
    if wh.engine != "postgresql":
        pytest.skip("one writer at a time on DuckDB; concurrency is a PostgreSQL question")
    load_sample(wh, "run-1")
    reports = [
        make_report(urn, 10 + i, "ilacs_2023", date(2026, 2, 1 + i), {**GOOD5, "in_care": grade})
        for i, (urn, grade) in enumerate([(u, g) for u in SAMPLE_COUNCILS for g in ("inadequate", "good")])
    ]
    for i, report in enumerate(reports):
        run(wh, f"run-{i + 2}", report)
    with WebhookReceiver() as hook:
        rules = [Rule(target="hook", url=hook.apprise_url)]
        start = threading.Barrier(2)
        results = []

        def sender():
            with connect(warehouse_url) as own:
                start.wait()
                results.append(
                    send_alerts(
                        own,
                        rules,
                        council_directory(own),
                        send=lambda *a: (threading.Event().wait(0.02), apprise_send(*a))[1],
                    )
                )

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sum(r.sent for r in results) == len(hook.messages) == len(reports)
    ids = Counter(m["message"].rsplit("Change IDs: ", 1)[-1] for m in hook.messages)
    assert len(ids) == len(reports) and max(ids.values()) == 1, "no message delivered twice"
    assert wh.fetchall("SELECT DISTINCT status, attempts FROM alert_messages") == [("delivered", 1)]
    print("messages sent by each sender:", [r.sent for r in results])


def test_html_email_and_weekly_digest_reach_a_real_smtp_server(wh):
    load_sample(wh, "run-1")
    run(wh, "run-2", barnet_2026(overall_effectiveness="inadequate"))
    with SMTPReceiver() as smtp:
        directory = Directory(names={"80487": ("Barnet",)}, region={"80487": "London"})
        rules = parse_rules(
            f"""
targets:
  officer: "{smtp.apprise_url("officer@example.org")}"
  research: "{smtp.apprise_url("research@example.org")}"
rules:
  - target: officer
    regions: [London]
    grades: [inadequate]
  - target: research
    cadence: weekly
""",
            directory,
        )
        send_alerts(wh, rules, directory, send=apprise_send, now=datetime(2026, 11, 25, 12))
        send_alerts(wh, rules, directory, send=apprise_send, now=datetime(2026, 11, 30, 8))
        mails = {m["To"]: m for m in smtp.messages}
        assert len(smtp.messages) == 2
        alert = smtp.html(mails["officer@example.org"])
        assert mails["officer@example.org"]["Subject"].startswith("Ofsted: Barnet declined — overall effectiveness")
        assert ">Inadequate</span>" in alert and f"background:{style('inadequate').fill}" in alert and "<li>" in alert
        digest = mails["research@example.org"]
        assert digest["Subject"] == "Ofsted weekly digest: 1 report published on 15 April 2026"
        assert "Barnet declined" in smtp.html(digest)


def test_preview_prints_what_each_target_would_have_received(wh, warehouse_url, tmp_path, monkeypatch, capsys):
    from etl.cli import main

    load_sample(wh, "run-1")
    run(wh, "run-2", barnet_2026(in_care="inadequate"), make_report("80442", 3, "ilacs_2023", date(2026, 1, 9), GOOD5))
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "targets:\n  desk: json://hooks.example.org/x\n  weekly: mailtos://u:secret@example.org\n"
        "rules:\n  - target: desk\n    regions: [London]\n"
        "  - target: weekly\n    cadence: weekly\n"
    )
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("OFSTED_ALERT_RULES", str(rules))
    monkeypatch.delenv("OFSTED_ALERT_URLS", raising=False)
    wh.close()  # one DuckDB writer at a time
    assert main(["alerts", "preview", "--since", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "=== desk: 1 message(s) since 2026-01-01" in out and "--- [text] Ofsted: Barnet" in out
    assert "=== weekly: 1 message(s)" in out and "--- [html] Ofsted weekly digest" in out and ": 2 reports" in out
    assert "secret" not in out
