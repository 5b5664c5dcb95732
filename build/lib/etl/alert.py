"""Alert stage: one message per rating change, sent through Apprise to every configured target.

Deliveries are recorded in the warehouse per (change, channel) right after each send, so a
retried task or a re-run sends only what has not been delivered, and a failed delivery is
tried again on the next run. A crash between a send and its record can repeat that one
message (at-least-once at that instant; the message carries its change id, so a receiver can
drop the repeat); nothing is ever skipped.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Callable
from urllib.parse import urlsplit

import apprise

from etl.records import ChangeEvent

log = logging.getLogger(__name__)

# send(url, title, body) -> error message, or None when delivered
Sender = Callable[[str, str, str], "str | None"]


@dataclass
class AlertSummary:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def channel_id(url: str) -> str:
    """A stable name for a target that keeps its secrets (tokens, passwords) out of the warehouse."""
    parts = urlsplit(url)
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"{parts.scheme}://{parts.hostname or ''}#{digest}"


def _label(value: str) -> str:
    return value.replace("_", " ")


def _day(value: date | None) -> str:
    return value.strftime("%-d %B %Y") if value else "unknown"


def format_change(event: ChangeEvent) -> tuple[str, str]:
    """(title, body) of the message for one change."""
    area, old, new = _label(event.area), _label(event.previous_grade), _label(event.grade)
    title = f"Ofsted: {event.local_authority} {event.direction} in {area} ({old} → {new})"
    body = "\n".join([
        f"{event.local_authority} (URN {event.urn}): {area} changed from {old} to {new} ({event.direction}).",
        f"Inspection ended {_day(event.inspection_end)}; report published {_day(event.published)}"
        f" (previous rating published {_day(event.previous_published)}).",
        f"Report: {event.report_url or 'not available'}",
        # the rare repeat (a crash between send and record) carries the same id: receivers can dedupe
        f"Change ID: {event.change_id}",
    ])
    return title, body


def apprise_send(url: str, title: str, body: str) -> str | None:
    """Send one message to one Apprise URL; return Apprise's own error text on failure."""
    target = apprise.Apprise()
    if not target.add(url):
        return f"not a valid Apprise URL: {channel_id(url)}"
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = target.notify(title=title, body=body)
    return None if ok else (captured.getvalue().strip() or "delivery failed")


def send_alerts(wh, urls: list[str], *, include_baseline: bool = False,
                send: Sender = apprise_send) -> AlertSummary:
    """Deliver every pending change event to every target, recording each delivery."""
    from etl.changes import pending_alerts, record_delivery

    targets = {channel_id(u): u for u in urls}
    summary = AlertSummary()
    if not targets:
        return summary
    for event, channel in pending_alerts(wh, list(targets), include_baseline=include_baseline):
        error = send(targets[channel], *format_change(event))
        record_delivery(wh, event.change_id, channel, ok=error is None, error=error)
        if error is None:
            summary.sent += 1
        else:
            summary.failed += 1
            summary.errors.append(f"{channel}: {error}")
            log.warning("alert for %s to %s failed (will retry next run): %s", event.change_id, channel, error)
    return summary


def notify_operators(urls: list[str], title: str, body: str, send: Sender = apprise_send) -> None:
    """Tell the people who run the pipeline (failures, unparseable files). Never raises."""
    for url in urls:
        try:
            error = send(url, title, body)
        except Exception as exc:  # a broken notifier must not mask the failure it reports
            error = str(exc)
        if error:
            log.error("could not notify operators via %s: %s", channel_id(url), error)
