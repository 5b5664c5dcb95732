"""The pipeline's counts as Airflow metrics, through Airflow's own Stats: StatsD or
OpenTelemetry, as its [metrics] settings choose (docs/operations.md, "Metrics"). Airflow is
imported lazily, when counts are sent: outside Airflow, or with metrics off, this is a no-op."""

from __future__ import annotations

from datetime import timedelta

PREFIX = "ofsted_ingest."
COUNTS = ("councils_read", "publications_found", "files_parsed", "held", "alerts_sent")


def emit(counts: dict[str, int], run_seconds: float | None = None) -> None:
    """One counter per count (incremented by this run's value) and the run's duration as a timer."""
    unknown = set(counts) - set(COUNTS)
    if unknown:
        raise ValueError(f"unknown metric(s) {sorted(unknown)}: the documented ones are {COUNTS}")
    try:
        from airflow.sdk.observability import stats
    except ImportError:  # not inside Airflow: nothing to send to
        return
    for name, value in counts.items():
        stats.incr(PREFIX + name, count=int(value))
    if run_seconds is not None:
        stats.timing(PREFIX + "run_seconds", timedelta(seconds=run_seconds))
