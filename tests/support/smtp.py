"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives, parsed."""

from __future__ import annotations

import email
import socket
from email.message import Message
from email.policy import default

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPReceiver:
    def __init__(self):
        self.messages: list[Message] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=_free_port())
        self._controller.start()
        self.port = self._controller.port

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def apprise_url(self, to: str = "cs-team@example.org") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=ofsted@example.org&to={to}"

    def html(self, message: Message) -> str:
        return message.get_body(("html",)).get_content()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._controller.stop()
