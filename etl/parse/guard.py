"""Limits that keep one hostile or broken file from holding up a worker: size, pages, time.

The time limit is a cooperative deadline checked between steps (page loads, extraction
passes). Unlike SIGALRM it works off the main thread (Airflow task runners, thread pools);
the constraint is that one native pdfium call is not interrupted mid-way, which is bounded
in practice by the size and page limits checked before any page is read."""

from __future__ import annotations

import time


class Refused(Exception):
    """The file is refused with a reason that ends up in the record (is_report false)."""


class TimeLimit(Refused):
    """Parsing ran out of time: a failure of this attempt, not a verdict on the file."""


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expires = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.expires:
            raise TimeLimit(f"time limit exceeded: parsing took longer than {self.seconds:g} s")


def check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise Refused(f"file too large: {len(data)} bytes (limit {max_bytes})")


def check_pages(pages: int, max_pages: int) -> None:
    if pages > max_pages:
        raise Refused(f"too many pages: {pages} (limit {max_pages})")
