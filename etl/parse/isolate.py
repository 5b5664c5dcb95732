"""Parsing in a child process, so that no file can take the worker down with it.

pdfium is native code: a crafted PDF of a few hundred KB can make it allocate gigabytes, and
a page can hold it in one call for minutes. Each file is therefore parsed in a reusable child
process whose address space is capped (OFSTED_PARSE_MAX_MEMORY, via setrlimit) and which is
killed when a file takes past twice OFSTED_PARSE_TIMEOUT (the parser's own cooperative
deadline gets the first chance). A crash, an abort on the memory cap or a kill becomes that
file's record (`is_report=False, failed=True` with the reason), and the next file gets a fresh
child; the rest of the batch goes on.

    with ParsePool(settings) as pool:
        record = pool.parse_bytes(data, source, meta)
        record, pages = pool.parse_with_text(data, source, meta)   # and each page's text
        record = pool.parse_file(path, meta)

The child is a plain `python -m etl.parse.isolate` subprocess (not a fork), so it is safe from
threads, Celery workers and Airflow task runners alike. Frames on its stdin/stdout are
length-prefixed pickles; anything the parser prints goes to stderr.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

from etl.config import Settings
from etl.parse import PARSER_VERSION, parse_bytes, parse_file, parse_with_text  # before the child's cap: counted in it
from etl.records import ListingMeta, ReportRecord

log = logging.getLogger(__name__)

HEADER = struct.Struct("!Q")
READY = b"ready"
START_TIMEOUT = 120.0  # importing pdfium on a busy machine; not a parse
KILL_FACTOR = 2.0  # the hard kill comes at twice the parser's own deadline


class WorkerLost(Exception):
    """The child died or was killed before answering."""


def _write_frame(out: BinaryIO, payload: bytes) -> None:
    out.write(HEADER.pack(len(payload)) + payload)
    out.flush()


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float | None = None) -> bytes:
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    return _read_exact(fd, size, deadline)


class ParsePool:
    """One reusable child process that parses files one at a time (start it once per batch)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.kill_after = max(self.settings.parse_timeout * KILL_FACTOR, 1.0)
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def worker_pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- parsing ---------------------------------------------------------------------------
    def parse_bytes(self, data: bytes, source: str, meta: ListingMeta | None = None) -> ReportRecord:
        return self._parse(("bytes", data, source, meta, self.settings), source, meta)

    def parse_with_text(
        self, data: bytes, source: str, meta: ListingMeta | None = None
    ) -> tuple[ReportRecord, list[str]]:
        """The record and every page's text (none when the file is not a report or failed)."""
        answer = self._parse(("text", data, source, meta, self.settings), source, meta)
        return answer if isinstance(answer, tuple) else (answer, [])

    def parse_file(self, path: str | Path, meta: ListingMeta | None = None) -> ReportRecord:
        return self._parse(("file", str(path), meta, self.settings), str(path), meta)

    def _parse(self, job: tuple, source: str, meta: ListingMeta | None):
        try:
            proc = self._worker()
            _write_frame(proc.stdin, pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            return pickle.loads(_read_frame(proc.stdout.fileno(), time.monotonic() + self.kill_after))
        except TimeoutError:
            self._stop(kill=True)
            reason = (
                f"time limit exceeded: parse killed after {self.kill_after:g} s "
                f"(OFSTED_PARSE_TIMEOUT={self.settings.parse_timeout:g})"
            )
        except (EOFError, BrokenPipeError, WorkerLost):
            reason = self._death_reason()
        log.error("parse of %s failed: %s", source, reason)
        return failed_record(source, reason, meta)

    # -- the child -------------------------------------------------------------------------
    def _worker(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "etl.parse.isolate", str(self.settings.parse_max_memory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        try:
            if _read_frame(self._proc.stdout.fileno(), time.monotonic() + START_TIMEOUT) != READY:
                raise WorkerLost("unexpected first frame")
        except (TimeoutError, EOFError) as exc:
            self._stop(kill=True)
            raise WorkerLost(f"parser process did not start: {type(exc).__name__}") from exc
        return self._proc

    def _death_reason(self) -> str:
        proc, self._proc = self._proc, None
        if proc is None:
            return "parser process could not be started"
        code = proc.wait()
        proc.stdin.close()
        proc.stdout.close()
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        return (
            f"parser process died ({how}): most likely out of memory "
            f"(OFSTED_PARSE_MAX_MEMORY={self.settings.parse_max_memory} bytes)"
        )

    def _stop(self, *, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if kill:
            proc.kill()
        else:
            proc.stdin.close()  # end of jobs: the child returns
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if not stream.closed:
                stream.close()

    def close(self) -> None:
        self._stop()


def failed_record(source: str, reason: str, meta: ListingMeta | None = None) -> ReportRecord:
    meta = meta or ListingMeta()
    return ReportRecord(
        source=source,
        is_report=False,
        failed=True,
        reason=reason,
        parser_version=PARSER_VERSION,
        urn=meta.urn,
        url=meta.url,
        sha256=meta.sha256,
    )


def _child(max_memory: int) -> int:
    """The child's loop: one job in, one record out, until stdin closes."""
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt a frame
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    if max_memory > 0:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    _write_frame(frames, READY)
    jobs = sys.stdin.buffer.fileno()
    while True:
        try:
            job = pickle.loads(_read_frame(jobs))
        except EOFError:
            return 0
        kind, *args = job
        answer = {"file": parse_file, "text": parse_with_text}.get(kind, parse_bytes)(*args)
        _write_frame(frames, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1])))
