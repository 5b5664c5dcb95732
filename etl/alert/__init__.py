"""The alert stage: events (what happened) -> rules (who wants it) -> messages (in each
channel's format) -> delivery (claimed, sent once, recorded). See docs/operations.md."""
from etl.alert.delivery import AlertSummary, apprise_send, channel_id, notify_operators, send_alerts

__all__ = ["AlertSummary", "apprise_send", "channel_id", "notify_operators", "send_alerts"]
