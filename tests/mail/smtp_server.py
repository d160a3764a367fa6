"""A real SMTP server for the mail tests: aiosmtpd on a free port of 127.0.0.1,
with STARTTLS or implicit TLS on a throwaway certificate (trustme), AUTH, and a
script of failures to answer with.

Example::

    with smtp_server(tls="starttls", auth=True, ca=ca) as server:
        activejob.mail.configure(url=server.url(user="ada", password="s3cret"))
        server.script.append("451 4.3.0 Try again later")   # the next DATA is refused
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "ada", "s3cret:/@"  # a password that needs percent-encoding in a URL

TLS = Literal["starttls", "implicit", None]


@dataclass
class Received:
    """One message the server accepted."""

    peer: tuple[str, int]
    sender: str
    recipients: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """The server's handler: records what it accepts, answers as scripted."""

    received: list[Received] = field(default_factory=list)
    script: list[str] = field(default_factory=list)
    """Answers for the next DATA commands, in order: a reply line, or ``"drop"``
    to close the connection without answering."""
    refuse: dict[str, str] = field(default_factory=dict)
    """Recipient address → the reply that refuses it."""
    transaction_peers: list[tuple[str, int]] = field(default_factory=list)
    """The client address of each MAIL FROM: one port per TCP connection."""

    async def handle_MAIL(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.transaction_peers.append(session.peer)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        answer = self.script.pop(0) if self.script else None
        if answer == "drop":
            server.transport.close()  # the server dies mid-message: no reply at all
            return "250 never seen"
        if answer is not None:
            return answer
        content = envelope.original_content or b""
        self.received.append(
            Received(session.peer, str(envelope.mail_from), list(envelope.rcpt_tos), content)
        )
        return "250 Message accepted for delivery"

    def connections_used(self) -> int:
        """How many TCP connections carried a mail transaction."""
        return len(set(self.transaction_peers))


def _authenticate(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server says 535


class _Controller(Controller):
    """Listens on port 0 and learns the port the system chose."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder
    ca_file: Path | None
    implicit_tls: bool

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    @property
    def script(self) -> list[str]:
        return self.recorder.script

    def url(self, *, user: str | None = None, password: str | None = None, **query: str) -> str:
        """The mail URL of this server (trusting its CA), ``user:password`` quoted."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        auth = ""
        if user is not None:
            auth = quote(user, safe="")
            if password is not None:
                auth += ":" + quote(password, safe="")
            auth += "@"
        query = {"timeout": "10s", **query}
        if self.ca_file is not None:
            query = {"ca_file": str(self.ca_file), **query}
        tail = f"?{urlencode(query)}" if query else ""
        return f"{scheme}://{auth}{self.host}:{self.port}{tail}"


def certificate_authority(directory: Path) -> tuple[trustme.CA, Path]:
    """A throwaway CA, and its certificate as a PEM file for ``ca_file=``."""
    ca = trustme.CA()
    path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


@contextmanager
def smtp_server(
    *, tls: TLS = None, auth: bool = False, ca: tuple[trustme.CA, Path] | None = None
) -> Iterator[SmtpServer]:
    """Run a server for the block: ``tls="starttls"`` requires STARTTLS,
    ``"implicit"`` is TLS from the first byte (smtps); ``auth`` requires AUTH
    (over TLS) with :data:`USER` and :data:`PASSWORD`."""
    recorder = Recorder()
    kwargs: dict[str, Any] = {}
    ca_file = None
    if tls is not None:
        assert ca is not None, "TLS needs the certificate authority"
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca[0].issue_cert("127.0.0.1", "localhost").configure_cert(context)
        ca_file = ca[1]
        if tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            # aiosmtpd does not see that an implicit-TLS socket is encrypted: AUTH is
            # safe here all the same, every byte goes over TLS.
            kwargs.update(ssl_context=context, auth_require_tls=False)
    if auth:
        kwargs.update(authenticator=_authenticate, auth_required=True)
    controller = _Controller(recorder, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, recorder, ca_file, tls == "implicit")
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that takes TCP connections and never says a word (for timeouts)."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        yield listener.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
