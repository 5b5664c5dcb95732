"""Alert messages: titles, bodies in text / Markdown / HTML, escaping of everything that comes
from the site, and delivery through Apprise to real receivers on loopback."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from etl.alert import apprise_send, channel_id, notify_operators
from etl.alert.events import AlertEvent, AreaChange
from etl.alert.messages import render, render_digest, safe_url
from etl.grades import style
from tests.support.smtp import SMTPReceiver
from tests.support.webhook import WebhookReceiver

URL = "https://files.ofsted.gov.uk/v1/file/50090771"


def change(area, old, new, direction, cid="c"):
    return AreaChange(area, old, new, direction, f"{cid}-{area}")


BARNET = AlertEvent(
    event_id="report:r1",
    kind="grade_change",
    urn="80487",
    council="Barnet",
    published=date(2019, 7, 1),
    url=URL,
    noticed_at=datetime(2019, 7, 2),
    framework="ilacs_2018",
    inspection_start=date(2019, 5, 13),
    inspection_end=date(2019, 5, 24),
    changes=(
        change("help_and_protection", "inadequate", "good", "improved"),
        change("overall_effectiveness", "inadequate", "good", "improved"),
        change("impact_of_leaders", "inadequate", "good", "improved"),
        change("in_care", "requires_improvement", "good", "improved"),
    ),
    held=(("care_leavers", "good"),),
    previous_framework="sif",
    region="London",
    previous_inspection_end=date(2017, 7, 21),
    previous_published=date(2017, 9, 7),
    inspection_type="standard",
)

HOSTILE = "Evil @channel <!here> [click](http://evil.example/x) @everyone <script>alert(1)</script> *bold*"


def test_title_names_council_direction_headline_change_and_other_areas():
    assert (
        render(BARNET, "text").title == "Ofsted: Barnet improved — overall effectiveness inadequate → good (+3 areas)"
    )
    mixed = AlertEvent(
        **{
            **BARNET.__dict__,
            "changes": (
                change("in_care", "good", "inadequate", "declined"),
                change("care_leavers", "inadequate", "good", "improved"),
            ),
        }
    )
    assert render(mixed, "text").title == "Ofsted: Barnet changed — in care good → inadequate (+1 area)"


def test_body_has_report_facts_every_change_the_grades_that_held_link_and_change_ids():
    body = render(BARNET, "text").body
    assert body.startswith(
        "Ofsted inspected children's services in Barnet (London, URN 80487) from 13 to 24 May"
        " 2019, a standard inspection under the ILACS framework of 2018, and published its report"
        " on 1 July 2019. The previous inspection, under the single inspection framework"
        " (2013–2018), ended on 21 July 2017.\n"
    )
    lines = body.splitlines()
    changed = [line.strip() for line in lines[lines.index("Changed:") + 1 : lines.index("Changed:") + 5]]
    assert changed[0] == "- overall effectiveness: inadequate → good (improved)"  # the headline area first
    assert "- in care: requires improvement → good (improved)" in changed
    assert "Grades that held:" in body and "care leavers: good" in body
    assert f"Read the report: {URL}" in body
    assert "Change IDs: c-help_and_protection, c-overall_effectiveness" in body


def test_a_framework_change_explains_areas_no_longer_judged():
    event = AlertEvent(
        **{
            **BARNET.__dict__,
            "framework": "ilacs_2026",
            "previous_framework": "ilacs_2023",
            "retired": (("overall_effectiveness", "good"),),
            "changes": (change("in_care", "good", "inadequate", "declined"),),
        }
    )
    body = render(event, "text").body
    assert (
        "first inspection under the ILACS framework of 2026, which does not judge overall effectiveness"
        " (last graded good)" in body
    )


@pytest.mark.parametrize(
    "kind, words",
    [
        ("focused_visit", "Ofsted: focused visit to Barnet published"),
        ("monitoring_visit", "Ofsted: monitoring visit to Barnet published"),
        ("jtai", "Ofsted: joint targeted area inspection of Barnet published"),
    ],
)
def test_ungraded_publications_have_their_own_titles(kind, words):
    event = AlertEvent(
        event_id=f"{kind}:{URL}",
        kind=kind,
        urn="80487",
        council="Barnet",
        published=date(2026, 5, 1),
        url=URL,
        noticed_at=None,
        title="Focused visit, pdf - 1 May 2026",
    )
    message = render(event, "text")
    assert message.title == words and " (URN 80487) on 1 May 2026." in message.body


def test_new_council_inspection_and_retraction_titles():
    base = {**BARNET.__dict__, "changes": (), "held": (("overall_effectiveness", "good"), ("in_care", "good"))}
    first = AlertEvent(
        **{
            **base,
            "kind": "new_council",
            "council": "Cumberland",
            "previous_inspection_end": None,
            "previous_published": None,
            "previous_framework": None,
        }
    )
    assert render(first, "text").title == "Ofsted: Cumberland — first inspection on record: overall effectiveness good"
    assert (
        "and published its report on 1 July 2019. There is no earlier inspection on record."
        in render(first, "text").body
    )
    assert (
        render(AlertEvent(**{**base, "kind": "inspection"}), "text").title
        == "Ofsted: Barnet inspected, no grade changed — overall effectiveness good"
    )
    retraction = AlertEvent(**{**BARNET.__dict__, "kind": "retraction"})
    message = render(retraction, "text")
    assert message.title == "Ofsted: correction — 4 earlier changes for Barnet retracted"
    assert "Retracted changes:" in message.body and "no longer supports" in message.body


def hostile_event() -> AlertEvent:
    return AlertEvent(**{**BARNET.__dict__, "council": HOSTILE, "url": "javascript:alert(1)"})


def test_markdown_never_turns_site_text_into_links_mentions_or_markup():
    message = render(hostile_event(), "markdown")
    for text in (message.title, message.body):
        assert "@channel" not in text and "@everyone" not in text  # a zero-width space breaks mentions
        assert "http://evil" not in text and "evil.example" not in text  # no bare link
    # the body is Markdown: escaped; the title is plain text in every chat service
    assert "<!here>" not in message.body and "<script>" not in message.body and "](http" not in message.body
    assert not re.search(r"(?<!\\)\*bold(?<!\\)\*", message.body)
    assert "javascript" not in message.body and "Report link not available" in message.body
    assert "*good*" in message.body  # our own Markdown still renders


def test_html_escapes_site_text_and_colour_codes_labelled_grades():
    message = render(hostile_event(), "html")
    assert "<script>" not in message.body and "&lt;script&gt;" in message.body
    assert "javascript" not in message.body
    assert ">Good</span>" in message.body and f"background:{style('good').fill}" in message.body
    ok = render(BARNET, "html").body
    assert ">Inadequate</span>" in ok and f"background:{style('inadequate').fill}" in ok and f'href="{URL}"' in ok


def test_text_keeps_the_words_but_breaks_mentions():
    message = render(hostile_event(), "text")
    assert "Evil @\u200bchannel" in message.title and "@everyone" not in message.body


def test_only_http_links_are_kept_and_markup_characters_are_encoded():
    assert safe_url("javascript:alert(1)") is None and safe_url("ftp://x/y") is None and safe_url(None) is None
    assert (
        safe_url('https://files.ofsted.gov.uk/v1/file/1)"><b>')
        == "https://files.ofsted.gov.uk/v1/file/1%29%22%3E%3Cb%3E"
    )


def test_digest_lists_each_event_once_with_links():
    message = render_digest(
        [BARNET, AlertEvent(**{**BARNET.__dict__, "council": "Bromley"})],
        "text",
        "weekly",
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    assert message.body.count("improved — overall effectiveness") == 2 and message.body.count(URL) == 2


def test_a_digest_is_headed_by_the_days_its_items_were_published_each_item_dated():
    """Items seen in one week but published months before: the heading gives their publication
    days (and the week they were first seen), each line its date, the region and the previous
    inspection's end, a letter's line its areas for priority action."""
    letter = AlertEvent(
        event_id="priority_action:u",
        kind="priority_action",
        urn="80553",
        council="Slough",
        published=date(2020, 6, 2),
        url=URL,
        noticed_at=None,
        letter_kind="focused_visit",
        visit_areas=("care_leavers",),
        priority_actions=2,
        priority_action_texts=("Leaders have not ensured that plans are up to date.",),
    )
    quiet = AlertEvent(**{**BARNET.__dict__, "published": date(2020, 1, 14), "council": "Bromley"})
    message = render_digest([quiet, letter], "text", "weekly", date(2026, 11, 30), date(2026, 12, 6))
    assert message.title == "Ofsted weekly digest: 2 reports published from 14 January to 2 June 2020"
    lines = message.body.splitlines()
    assert lines[0] == (
        "What Ofsted published about the councils you follow from 14 January to 2 June 2020"
        " (first seen between 30 November 2026 and 6 December 2026):"
    )
    assert lines[2] == (
        f"  - 14 January 2020: Bromley (London) improved — overall effectiveness inadequate → good"
        f" (+3 areas); the previous inspection ended 21 July 2017 — report: {URL}"
    )
    assert lines[3] == (
        "  - 2 June 2020: Slough — 2 areas for priority action (focused visit: care leavers) —"
        " “Leaders have not ensured that plans are up to date.” (and 1 more: see the letter)"
        f" — report: {URL}"
    )
    same_week = render_digest([quiet], "text", "daily", date(2020, 1, 14), date(2020, 1, 14))
    assert same_week.title == "Ofsted daily digest: 1 report published on 14 January 2020"
    assert same_week.body.splitlines()[0] == "What Ofsted published about the councils you follow on 14 January 2020:"


def test_an_area_send_outcome_says_the_outcome_never_no_grade_changed():
    send = AlertEvent(
        event_id="report:s",
        kind="inspection",
        urn="80487",
        council="Barnet",
        published=date(2026, 1, 9),
        url=URL,
        noticed_at=None,
        framework="area_send_2023",
        inspection_start=date(2025, 11, 17),
        inspection_end=date(2025, 11, 21),
        held=(("area_send_outcome", "systemic_failings"),),
        region="London",
        previous_inspection_end=date(2022, 3, 4),
        previous_framework="area_send_2016",
    )
    message = render(send, "text")
    assert message.title == "Ofsted: Barnet — area SEND inspection: widespread or systemic failings"
    assert message.body.startswith(
        "Ofsted and the Care Quality Commission inspected the local area partnership's arrangements for children with"
        " special educational needs and disabilities in Barnet (London, URN 80487) from 17 to 21 November 2025, and"
        " published the report on 9 January 2026. It found widespread or systemic failings. The previous area SEND"
        " inspection, under the area SEND framework of 2016, ended on 4 March 2022.\n"
    )
    first = AlertEvent(
        **{
            **send.__dict__,
            "previous_inspection_end": None,
            "previous_framework": None,
            "held": (("area_send_outcome", "positive"),),
        }
    )
    assert (
        render(first, "text").title
        == "Ofsted: Barnet — first area SEND inspection on record: positive experiences and outcomes"
    )
    assert "There is no earlier area SEND inspection on record." in render(first, "text").body
    worse = AlertEvent(
        **{
            **send.__dict__,
            "kind": "grade_change",
            "held": (),
            "previous_framework": "area_send_2023",
            "changes": (change("area_send_outcome", "inconsistent", "systemic_failings", "declined"),),
        }
    )
    assert render(worse, "text").title == (
        "Ofsted: Barnet — area SEND inspection: widespread or systemic failings,"
        " down from inconsistent experiences and outcomes"
    )


@pytest.mark.parametrize(
    "start, end, said",
    [
        (date(2019, 12, 18), date(2019, 12, 18), "a focused visit to Barnet (URN 80487) on 18 December 2019, and"),
        (date(2019, 4, 28), date(2019, 5, 2), "a focused visit to Barnet (URN 80487) from 28 April to 2 May 2019, and"),
        (
            date(2019, 12, 30),
            date(2020, 1, 2),
            "a focused visit to Barnet (URN 80487) from 30 December 2019 to 2 January 2020, and",
        ),
    ],
)
def test_a_letters_sentence_reads_as_said_aloud(start, end, said):
    event = AlertEvent(
        event_id="focused_visit:u",
        kind="focused_visit",
        urn="80487",
        council="Barnet",
        published=date(2020, 2, 3),
        url=URL,
        noticed_at=None,
        letter_kind="focused_visit",
        inspection_start=start,
        inspection_end=end,
        visit_areas=("in_care", "care_leavers", "help_and_protection"),
    )
    body = render(event, "text").body
    assert body.startswith(
        f"Ofsted carried out {said} published its letter on 3 February 2020. It looked at help"
        " and protection, children in care and care leavers. It sets out no areas for priority"
        " action.\n"
    )


# -- real receivers -------------------------------------------------------------------------
def test_channel_id_is_stable_and_keeps_secrets_out():
    url = "slack://TokenA/TokenB/TokenC/#general"
    assert channel_id(url) == channel_id(url)
    assert "Token" not in channel_id(url) and channel_id(url).startswith("slack#")
    assert channel_id("mailto://user:secret@example.org") != channel_id("mailto://user:other@example.org")
    assert "secret" not in channel_id("mailto://user:secret@example.org")


def test_apprise_delivers_json_to_webhook_and_reports_failure_when_down():
    message = render(BARNET, "text")
    with WebhookReceiver() as hook:
        assert apprise_send(hook.apprise_url, message.title, message.body, "text") is None
        assert hook.messages[0]["title"] == message.title and "Change IDs" in hook.messages[0]["message"]
        hook.down()
        assert apprise_send(hook.apprise_url, "t", "b"), "a refused connection must come back as an error"
        assert len(hook.messages) == 1


def test_html_email_reaches_a_real_smtp_server_as_html():
    message = render(hostile_event(), "html")
    with SMTPReceiver() as smtp:
        assert apprise_send(smtp.apprise_url(), message.title, message.body, "html") is None
        mail = smtp.messages[0]
        assert mail["To"] == "cs-team@example.org" and "Ofsted: Evil" in mail["Subject"]
        body = smtp.html(mail)
        assert "&lt;script&gt;" in body and "<script>" not in body and ">Good</span>" in body


def captured_posts(monkeypatch) -> list[dict]:
    """What an Apprise plugin would post to its service (requests' HTTP call captured: Slack and
    Teams cannot be pointed at loopback), to check the payload as the service would render it."""
    import json

    import requests

    sent: list[dict] = []

    class Answer:
        status_code, content, text, headers = 200, b"ok", "ok", {}  # what a Slack webhook answers

    def request(method, url, data=None, **kwargs):
        sent.append(json.loads(data) if isinstance(data, (str, bytes)) else kwargs.get("json"))
        return Answer()

    monkeypatch.setattr(requests, "request", request)
    monkeypatch.setattr(requests, "post", lambda url, **kwargs: request("POST", url, **kwargs))
    return sent


def test_slack_payload_as_rendered_has_no_mentions_or_links_from_site_text(monkeypatch):
    sent = captured_posts(monkeypatch)
    message = render(hostile_event(), "markdown")
    assert (
        apprise_send(
            "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ofsted", message.title, message.body, "markdown"
        )
        is None
    )
    text = str(sent[0])
    title = sent[0]["attachments"][0]["title"]
    assert "!here" in title and "&lt;!here&gt;" not in title  # shown as text: escaped as Markdown, < broken
    assert "<!here>" not in text and "<!channel>" not in text and "<http://evil" not in text
    assert "@channel" not in text and "@everyone" not in text and "<script>" not in text
    assert "*good*" in text or "_good_" in text  # our own emphasis survives as Slack markup


def test_teams_payload_as_rendered(monkeypatch):
    sent = captured_posts(monkeypatch)
    message = render(hostile_event(), "markdown")
    assert (
        apprise_send(
            "workflows://prod-00.westus.logic.azure.com:443/abc123/def456?signature=ghi789",
            message.title,
            message.body,
            "markdown",
        )
        is None
    )
    text = str(sent[0])  # an Adaptive Card: a mention needs an entity, a link Markdown or a bare address
    assert "@channel" not in text and "@everyone" not in text and "entities" not in text
    assert "](http" not in text and "http://evil" not in text and "evil.example" not in text
    assert "Change IDs" in text


def test_operator_notification_never_raises():
    def broken(url, title, body):
        raise RuntimeError("smtp down")

    notify_operators(["json://127.0.0.1:9/none"], "t", "b", send=broken)  # must not raise
    with WebhookReceiver() as hook:
        notify_operators([hook.apprise_url], "ofsted_ingest failed", "details")
        assert hook.messages[0]["title"] == "ofsted_ingest failed"


def test_a_digests_items_escape_what_the_site_and_the_letter_said_in_every_format():
    letter = AlertEvent(
        event_id="priority_action:u",
        kind="priority_action",
        urn="80553",
        council=HOSTILE,
        published=date(2020, 6, 2),
        url=URL,
        noticed_at=None,
        letter_kind="focused_visit",
        visit_areas=("care_leavers",),
        priority_actions=1,
        region="South East",
        priority_action_texts=("Act now @channel <script>x</script> [click](http://evil.example/x)",),
    )
    for fmt in ("text", "markdown", "html"):
        body = render_digest([hostile_event(), letter], fmt, "weekly", date(2020, 6, 1), date(2020, 6, 7)).body
        if fmt != "html":  # a mention is a chat's (and a webhook's relay's); mail has none
            assert "@channel" not in body and "@everyone" not in body
        assert (
            "evil.example" not in body and "<script>" not in body and "<!here>" not in body and "javascript" not in body
        )
        assert "](http://evil" not in body and "2 June 2020: " in body
