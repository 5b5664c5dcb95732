"""Delivery: each message is claimed in the warehouse before it is sent, then recorded.

A message is one event for one channel (a target at one cadence), or one digest for one
channel and period. Its row in `alert_messages` goes pending -> sending (the claim: one
committed UPDATE that only one sender can win) -> delivered | failed; a failed message is
claimed again by a later run; a message too long for its service even once cut (its areas for
priority action, a digest's lines, at a whole item) is `refused`, never retried. Two senders at
once (a CLI run beside a DAG run, a zombie worker beside its retry) therefore never send one
message twice. A sender that dies between its claim and its record leaves the row `sending`;
after CLAIM_TIMEOUT another run takes it over (that message alone may then arrive twice; it
carries its change IDs, so a receiver can drop it).

Digest events are queued in the period they were first matched and sent, as one message,
by the first run after the period ends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import apprise

from etl.alert.events import AlertEvent, collect_events
from etl.alert.messages import Message, render, render_digest, render_notice, size
from etl.alert.rules import CouncilDirectory, Rule, body_format, channel_id
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=30)
# send(url, title, body, body_format) -> error message, or None when delivered
Sender = Callable[..., "str | None"]


@dataclass
class AlertSummary:
    sent: int = 0
    failed: int = 0
    queued: int = 0  # events newly waiting for a digest
    errors: list[str] = field(default_factory=list)


def rule_channel(rule: Rule) -> str:
    """Immediate messages and each digest cadence are separate channels of one target."""
    base = channel_id(rule.url)
    return base if rule.cadence == "immediate" else f"{base}/{rule.cadence}"


def apprise_send(url: str, title: str, body: str, body_format: str = "text") -> str | None:
    """Send one message to one Apprise URL, telling Apprise the body's format; return Apprise's
    own error text on failure."""
    target = apprise.Apprise()
    if not target.add(url):
        return f"not a valid Apprise URL: {channel_id(url)}"
    for plugin in target:
        _ping_nobody(plugin)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = target.notify(title=title, body=body, body_format=body_format)
    return None if ok else without_url_parts(captured.getvalue().strip() or "delivery failed", url)


def _ping_nobody(plugin) -> None:
    """Discord pings whoever a message names (@everyone, a role, a user) unless its payload
    says `allowed_mentions`; Apprise's Discord plugin sends none, so every request it makes
    carries an empty one (the text is defused too: messages.escape)."""
    from apprise.plugins.discord import NotifyDiscord

    if not isinstance(plugin, NotifyDiscord):
        return
    post = plugin._send

    def send(payload, *args, **kwargs):
        return post({**payload, "allowed_mentions": {"parse": []}}, *args, **kwargs)

    plugin._send = send


@lru_cache(maxsize=256)
def message_limit(url: str) -> int | None:
    """The most characters the service behind `url` takes in one message, as Apprise knows it
    (Discord 2,000, Telegram 4,096, Mattermost 4,000, email and webhooks 32,768); None: no limit known."""
    plugin = apprise.Apprise.instantiate(url)
    limit = getattr(plugin, "body_maxlen", None) if plugin else None
    return limit if isinstance(limit, int) and limit > 0 else None


def without_url_parts(text: str, url: str) -> str:
    """`text` (an error Apprise wrote, which may quote its target) with every part of `url`
    that could be a key masked: host, user, password, path segments, query values."""
    from etl.redact import MASK, redact

    parts = urlsplit(url)
    pieces = {
        parts.hostname,
        parts.username,
        parts.password,
        *parts.path.split("/"),
        *(v for pair in parts.query.split("&") for v in pair.split("=")[1:]),
    }
    for piece in sorted(
        {p for p in pieces if p and len(p) >= 4} | {unquote(p) for p in pieces if p and len(p) >= 4},
        key=len,
        reverse=True,
    ):
        text = text.replace(piece, MASK)
    return redact(text)


def notify_operators(urls: list[str], title: str, body: str, send: Sender = apprise_send) -> None:
    """Tell the people who run the pipeline (failures, unparseable files). Never raises; never
    carries a password or token (whatever the body quotes, such as an exception)."""
    from etl.redact import redact

    title, body = redact(title), redact(body)
    for url in urls:
        try:
            # escaped, defused and cut for the destination exactly as a subscriber's alert is
            notice = render_notice(title, body, body_format(url), message_limit(url))
            error = send(url, notice.title, notice.body, notice.format)
        except Exception as exc:  # a broken notifier must not mask the failure it reports
            error = str(exc)
        if error:
            log.error("could not notify operators via %s: %s", channel_id(url), without_url_parts(error, url))


def period(now: datetime, cadence: str) -> tuple[datetime, datetime]:
    """The digest period containing `now`: a calendar day, or a week from Monday."""
    start = datetime.combine(now.date(), time())
    if cadence == "weekly":
        start -= timedelta(days=now.weekday())
    return start, start + timedelta(days=7 if cadence == "weekly" else 1)


# -- matching ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """Where one event goes: a channel, its URL, format and cadence."""

    channel: str
    url: str
    format: str
    cadence: str


def routes(events: list[AlertEvent], rules: list[Rule], directory: CouncilDirectory) -> list[tuple[AlertEvent, Route]]:
    """(event, route) pairs, one per event and channel however many rules match."""
    out: dict[tuple[str, str], tuple[AlertEvent, Route]] = {}
    routed = [(rule, _route(rule)) for rule in rules]
    for event in events:
        for rule, route in routed:
            if rule.matches(event, directory):
                out.setdefault((event.event_id, route.channel), (event, route))
    return list(out.values())


# -- sending ----------------------------------------------------------------------------
_MESSAGE_COLS = ("message_id", "channel", "kind", "status", "digest_id", "due_at", "attempts", "updated_at")


def send_alerts(
    wh: Warehouse,
    rules: list[Rule],
    directory: CouncilDirectory,
    *,
    include_baseline: bool = False,
    now: datetime | None = None,
    send: Sender = apprise_send,
) -> AlertSummary:
    """Queue what the rules select, then claim and send every message that is due."""
    now = now or datetime.now()
    events = [e for e in collect_events(wh) if include_baseline or not e.baseline]
    matched = routes(events, rules, directory)
    summary = AlertSummary(queued=_queue(wh, matched, now))
    by_id = {e.event_id: e for e in events}
    channels = {route.channel: route for route in map(_route, rules)}
    sender = uuid.uuid4().hex[:12]
    for message_id, channel in _due(wh, list(channels), now):
        if not _claim(wh, message_id, channel, sender, now):
            continue  # another sender has it
        route = channels[channel]
        limit = message_limit(route.url)
        message = _compose(wh, message_id, channel, route, by_id, limit)
        if message is None:
            _record(wh, message_id, channel, "empty", None, now)
            continue
        if limit and size(message) > limit:  # cut as far as it goes and still too long: no retry would send it
            error = f"message too long for its service: {size(message)} characters (limit {limit}), not retried"
            _record(wh, message_id, channel, "refused", error, now)
            summary.failed += 1
            summary.errors.append(f"{channel}: {error}")
            log.error("alert %s to %s refused: %s", message_id, channel, error)
            continue
        error = send(route.url, message.title, message.body, message.format)
        _record(wh, message_id, channel, "failed" if error else "delivered", error, now)
        if error:
            summary.failed += 1
            summary.errors.append(f"{channel}: {error}")
            log.warning("alert %s to %s failed (will retry next run): %s", message_id, channel, error)
        else:
            summary.sent += 1
    return summary


def _route(rule: Rule) -> Route:
    return Route(rule_channel(rule), rule.url, rule.format, rule.cadence)


def _queue(wh: Warehouse, matched: list[tuple[AlertEvent, Route]], now: datetime) -> int:
    """Record each (event, channel) once: pending for immediate routes; for digests, queued in
    the current period's digest, whose own row is pending until the period ends. Rows are
    inserted in key order so two concurrent senders lock them in the same order."""
    rows: dict[tuple[str, str], tuple] = {}
    for event, route in matched:
        if route.cadence == "immediate":
            rows[(event.event_id, route.channel)] = (
                event.event_id,
                route.channel,
                event.kind,
                "pending",
                None,
                None,
                0,
                now,
            )
            continue
        start, end = period(now, route.cadence)
        digest = f"digest:{route.cadence}:{start.date().isoformat()}"
        rows[(event.event_id, route.channel)] = (
            event.event_id,
            route.channel,
            event.kind,
            "queued",
            digest,
            None,
            0,
            now,
        )
        rows.setdefault((digest, route.channel), (digest, route.channel, "digest", "pending", None, end, 0, now))
    known = set(wh.fetchall("SELECT message_id, channel FROM alert_messages"))
    new = [rows[k] for k in sorted(rows) if k not in known]
    wh.insert_rows("alert_messages", _MESSAGE_COLS, new, conflict=("message_id", "channel"))
    return sum(r[3] == "queued" for r in new)


def _due(wh: Warehouse, channels: list[str], now: datetime) -> list[tuple[str, str]]:
    if not channels:
        return []
    marks = ", ".join("?" for _ in channels)
    return wh.fetchall(
        "SELECT message_id, channel FROM alert_messages"
        f" WHERE channel IN ({marks}) AND (due_at IS NULL OR due_at <= ?)"
        " AND (status IN ('pending', 'failed') OR (status = 'sending' AND claimed_at < ?))"
        " ORDER BY updated_at, message_id",
        [*channels, now, now - CLAIM_TIMEOUT],
    )


def _claim(wh: Warehouse, message_id: str, channel: str, sender: str, now: datetime) -> bool:
    """One committed UPDATE: of two senders, only the first sees the row still claimable."""
    won = wh.fetchall(
        "UPDATE alert_messages SET status = 'sending', claimed_at = ?, claimed_by = ?,"
        " attempts = attempts + 1, updated_at = ?"
        " WHERE message_id = ? AND channel = ?"
        " AND (status IN ('pending', 'failed') OR (status = 'sending' AND claimed_at < ?))"
        " RETURNING message_id",
        [now, sender, now, message_id, channel, now - CLAIM_TIMEOUT],
    )
    return bool(won)


def _record(wh: Warehouse, message_id: str, channel: str, status: str, error: str | None, now: datetime) -> None:
    delivered = now if status == "delivered" else None
    with wh.transaction():
        wh.execute(
            "UPDATE alert_messages SET status = ?, last_error = ?, delivered_at = ?, updated_at = ?"
            " WHERE message_id = ? AND channel = ? AND status <> 'delivered'",
            [status, error, delivered, now, message_id, channel],
        )
        if message_id.startswith("digest:") and status in ("delivered", "empty"):
            wh.execute(
                "UPDATE alert_messages SET status = 'delivered', delivered_at = ?, updated_at = ?"
                " WHERE digest_id = ? AND channel = ? AND status = 'queued'",
                [delivered, now, message_id, channel],
            )


def _compose(
    wh: Warehouse, message_id: str, channel: str, route: Route, by_id: dict[str, AlertEvent], limit: int | None = None
) -> Message | None:
    """The message for a claimed row, cut to `limit`; None when nothing is left to say (its
    events retracted)."""
    if not message_id.startswith("digest:"):
        event = by_id.get(message_id)
        return render(event, route.format, limit=limit) if event else None
    members = [
        r[0]
        for r in wh.fetchall(
            "SELECT message_id FROM alert_messages WHERE digest_id = ? AND channel = ?", [message_id, channel]
        )
    ]
    events = sorted((by_id[m] for m in members if m in by_id), key=lambda e: (e.published or date.min, e.council))
    if not events:
        return None
    _, cadence, start = message_id.split(":", 2)
    first = datetime.fromisoformat(start)
    return render_digest(
        events, route.format, cadence, first.date(), (period(first, cadence)[1] - timedelta(days=1)).date(), limit=limit
    )


# -- preview ----------------------------------------------------------------------------
def preview(events: list[AlertEvent], rules: list[Rule], directory: CouncilDirectory) -> dict[str, list[Message]]:
    """What each target would receive for these events: a message per event, or per digest
    period (by when each event was first seen)."""
    names = {rule_channel(r): r.target for r in rules}
    out: dict[str, list[Message]] = {}
    digests: dict[tuple[str, str, datetime], tuple[Route, list[AlertEvent]]] = {}
    for event, route in routes(events, rules, directory):
        if route.cadence == "immediate":
            out.setdefault(names[route.channel], []).append(render(event, route.format, limit=message_limit(route.url)))
        else:
            start, _ = period(event.noticed_at or datetime.combine(event.published or date.min, time()), route.cadence)
            digests.setdefault((route.channel, route.cadence, start), (route, []))[1].append(event)
    for (channel, cadence, start), (route, members) in sorted(digests.items(), key=lambda kv: kv[0][2]):
        end = period(start, cadence)[1] - timedelta(days=1)
        out.setdefault(names[channel], []).append(
            render_digest(members, route.format, cadence, start.date(), end.date(), limit=message_limit(route.url))
        )
    return out
