"""Secrets out of everything the pipeline prints, logs, raises or sends to operators.

    redact("postgresql://ofsted:s3cret@db/ofsted")  ->  "postgresql://ofsted:***@db/ofsted"

Masks the password of any `scheme://user:password@` (database, broker, Apprise URLs) and the
value of token-like query parameters (`?token=`, `apikey=`, `password=`, ...). `RedactingFilter`
applies it to log records (message, arguments and traceback); `install()` puts it on the
handlers of the root logger and on uncaught exceptions, for the `ofsted` command.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback

MASK = "***"
_USERINFO = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*):(?P<password>[^@/\s'\"]+)@", re.I)
_TOKEN_PARAM = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|pass|token|access_token|auth|apikey|api_key|key|secret|signature|sig)=)"
    r"[^&;#\s'\"]+",
    re.I,
)


def redact(text: object) -> str:
    """`text` as a string with URL passwords and token parameters masked."""
    out = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", str(text))
    return _TOKEN_PARAM.sub(lambda m: m["head"] + MASK, out)


class RedactingFilter(logging.Filter):
    """A handler filter: the record's final message and traceback, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _excepthook(kind, value, tb) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))


def install() -> None:
    """Redact every log line of the process's root handlers, and uncaught exceptions."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    sys.excepthook = _excepthook
