"""Alert messages through Apprise to a real webhook receiver on loopback."""
from __future__ import annotations

from datetime import date

from etl.alert import apprise_send, channel_id, format_change, notify_operators
from etl.records import ChangeEvent
from tests.support.webhook import WebhookReceiver

EVENT = ChangeEvent(change_id="c1", urn="80487", local_authority="Barnet", area="overall_effectiveness",
                    previous_grade="inadequate", grade="good", direction="improved",
                    inspection_end=date(2019, 5, 24), previous_published=date(2017, 7, 7),
                    published=date(2019, 7, 1), report_url="https://files.ofsted.gov.uk/v1/file/50090771")


def test_message_names_council_area_grades_dates_and_link():
    title, body = format_change(EVENT)
    assert "Barnet" in title and "inadequate → good" in title and "improved" in title
    assert "overall effectiveness changed from inadequate to good" in body
    assert "24 May 2019" in body and "1 July 2019" in body and "7 July 2017" in body
    assert "https://files.ofsted.gov.uk/v1/file/50090771" in body
    assert body.endswith(f"Change ID: {EVENT.change_id}")


def test_channel_id_is_stable_and_keeps_secrets_out():
    url = "slack://TokenA/TokenB/TokenC/#general"
    assert channel_id(url) == channel_id(url)
    assert "Token" not in channel_id(url) and channel_id(url).startswith("slack://")
    assert channel_id("mailto://user:secret@example.org") != channel_id("mailto://user:other@example.org")
    assert "secret" not in channel_id("mailto://user:secret@example.org")


def test_apprise_delivers_to_webhook_and_reports_failure_when_down():
    with WebhookReceiver() as hook:
        assert apprise_send(hook.apprise_url, *format_change(EVENT)) is None
        assert len(hook.messages) == 1
        assert "Barnet" in hook.messages[0]["title"] and "good" in hook.messages[0]["message"]
        hook.down()
        error = apprise_send(hook.apprise_url, "t", "b")
        assert error, "a refused connection must come back as an error"
        assert len(hook.messages) == 1


def test_invalid_target_is_an_error_not_an_exception():
    assert "not a valid Apprise URL" in apprise_send("nonsense-scheme://x", "t", "b")


def test_operator_notification_never_raises():
    def broken(url, title, body):
        raise RuntimeError("smtp down")
    notify_operators(["json://127.0.0.1:9/none"], "t", "b", send=broken)  # must not raise
    with WebhookReceiver() as hook:
        notify_operators([hook.apprise_url], "ofsted_ingest failed", "details")
        assert hook.messages[0]["title"] == "ofsted_ingest failed"
