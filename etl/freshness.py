"""How fresh the warehouse is: for people (the line the view, the feeds, `ofsted query summary`
and the workbook show) and for operators (the staleness notice).

The staleness check (`check_stale`) runs wherever it is called: at the start and the end of
every run (`ofsted run`, ofsted_ingest's begin and finish tasks) and from `ofsted freshness`,
which a timer outside Airflow runs (cron, the compose file's `freshness` service) so that the
notice goes out when the scheduler itself has stopped. It reads only the warehouse and sends
through the operators' alert path (OFSTED_OPS_ALERT_URLS): one notice per stretch without a
successful run, then one recovery message when a run succeeds again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from etl.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Freshness:
    checked: datetime | None  # the last successful run's end: the site was last checked then
    last_report: date | None  # the newest publication date the warehouse holds

    def line(self, now: datetime | None = None) -> str:
        """ "Checked 10:02 today · last new report 23 July 2024"."""
        return f"{checked_text(self.checked, now or datetime.now())} · last new report " + (
            f"{self.last_report:%-d %B %Y}" if self.last_report else "none yet"
        )


def checked_text(checked: datetime | None, now: datetime) -> str:
    if checked is None:
        return "Not checked yet"
    day = checked.date()
    when = (
        "today"
        if day == now.date()
        else "yesterday"
        if day == now.date() - timedelta(days=1)
        else f"on {day:%-d %B %Y}"
    )
    return f"Checked {checked:%H:%M} {when}"


def freshness(wh: Warehouse) -> Freshness:
    checked = last_success(wh)
    last = wh.fetchone("SELECT max(published) FROM publications WHERE link_refused IS NULL")[0]
    return Freshness(checked, last)


def last_success(wh: Warehouse) -> datetime | None:
    return wh.fetchone("SELECT max(finished_at) FROM pipeline_runs WHERE status = 'success'")[0]


# -- operators ---------------------------------------------------------------------------------
def check_stale(wh: Warehouse, ops_urls, stale_hours: float, now: datetime | None = None) -> str | None:
    """Tell operators once when no run has succeeded for `stale_hours`, and once when one has
    again. Returns the title of the message sent, if any. A warehouse no run has ever started
    on is not stale: nothing has been set up to run yet."""
    from etl.alert import notify_operators

    now = now or datetime.now()
    with wh.exclusive("stale_notices"), wh.transaction():
        last = last_success(wh)
        since = last or wh.fetchone("SELECT min(started_at) FROM pipeline_runs")[0]
        stretch = last.isoformat() if last else "never"
        open_notice = wh.fetchone(
            "SELECT stretch, last_success, sent_at FROM stale_notices"
            " WHERE recovered_at IS NULL ORDER BY sent_at DESC LIMIT 1"
        )
        if since is not None and now - since >= timedelta(hours=stale_hours) and not open_notice:
            wh.insert_rows(
                "stale_notices", ("stretch", "last_success", "sent_at"), [(stretch, last, now)], conflict=("stretch",)
            )
            title = f"ofsted_ingest: no successful run for {_hours(now - since)}"
            body = (
                f"No run of the pipeline has succeeded since {last:%Y-%m-%d %H:%M} ({_hours(now - since)} ago)."
                if last
                else f"No run of the pipeline has succeeded since runs began ({since:%Y-%m-%d %H:%M})."
            )
            body += (
                " Alerts for new reports are not going out. Check the scheduler, the DAG's recent runs and"
                " their logs; this notice is sent once, and a recovery message when a run succeeds again."
            )
        elif open_notice and last is not None and open_notice[0] != stretch:
            wh.execute("UPDATE stale_notices SET recovered_at = ? WHERE stretch = ?", [now, open_notice[0]])
            title = "ofsted_ingest: runs succeed again"
            body = f"A run succeeded at {last:%Y-%m-%d %H:%M}, after no success " + (
                f"since {open_notice[1]:%Y-%m-%d %H:%M}." if open_notice[1] else "since runs began."
            )
        else:
            return None
    log.warning("%s", title)
    notify_operators(list(ops_urls), title, body)
    return title


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.1f} days"
