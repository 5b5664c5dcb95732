"""The alert stage: events (what happened) -> rules (who wants it) -> messages (in each
channel's format) -> delivery (claimed, sent once, recorded). See docs/operations.md."""

from etl.alert.delivery import AlertSummary, apprise_send, notify_operators, send_alerts
from etl.alert.rules import channel_id

__all__ = ["AlertSummary", "apprise_send", "channel_id", "notify_operators", "send_alerts"]
