"""Progress of a long loop: a bar on a terminal, log lines (every tenth) elsewhere, e.g. in Airflow.

Where a supervising process asks for them (scripts/run_dag.py, which sends Airflow's own output
to a log file), progress and short notes also go as JSON lines to the file descriptor named by
OFSTED_PROGRESS_FD, so the person at the terminal sees them instead of the log.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
PROGRESS_FD = "OFSTED_PROGRESS_FD"
_sink_lock = threading.Lock()
_sink: list = []  # the opened channel, once


def _channel():
    if not _sink:
        fd = os.environ.get(PROGRESS_FD, "")
        try:
            _sink.append(os.fdopen(int(fd), "w", buffering=1, closefd=False) if fd.isdigit() else None)
        except OSError:
            _sink.append(None)
    return _sink[0]


def emit(event: dict) -> None:
    """Send one event to the supervising process, if there is one (never fails the caller)."""
    with _sink_lock:
        channel = _channel()
        if channel is None:
            return
        try:
            channel.write(json.dumps(event, default=str) + "\n")
        except (OSError, ValueError):
            pass


def note(text: str) -> None:
    """A one-line count for the person watching ("150 councils, 552 publications listed")."""
    emit({"event": "note", "text": text})


def track(
    items: Iterable[T], total: int, unit: str, *, show_bar: bool | None = None, logger: logging.Logger | None = None
) -> Iterator[T]:
    """Yield `items`, reporting progress; `show_bar=None` means "when stderr is a terminal"."""
    if show_bar is None:
        show_bar = sys.stderr.isatty()
    emit({"event": "progress", "unit": unit, "done": 0, "total": total})
    if show_bar:
        from tqdm import tqdm

        for i, item in enumerate(tqdm(items, total=total, unit=unit, file=sys.stderr), 1):
            emit({"event": "progress", "unit": unit, "done": i, "total": total})
            yield item
        return
    logger = logger or logging.getLogger(__name__)
    step = max(total // 10, 1)
    for i, item in enumerate(items, 1):
        emit({"event": "progress", "unit": unit, "done": i, "total": total})
        if i % step == 0 or i == total:
            logger.info("%s: %d/%d", unit, i, total)
        yield item
