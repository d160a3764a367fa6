"""``smtp://`` and ``smtps://``: delivery to an SMTP server, with TLS and login.

URL forms::

    smtp://user:password@smtp.example.com:587?starttls=true    STARTTLS, then AUTH
    smtps://user:password@smtp.example.com                     implicit TLS (port 465)
    smtp://127.0.0.1:1025                                      a local relay, no TLS

Settings in the query string: ``starttls`` (``true``: required, ``false``: never,
``auto``, the default: when the server offers it), ``timeout`` (per network
operation, default ``30s``), ``ca_file`` (a PEM file of CAs to trust instead of
the system's), ``verify`` (``false`` skips certificate checks: for development
only), ``local_hostname`` (the name said in EHLO). User and password are
percent-decoded. The password is sent only over TLS, and is never shown: every
``repr``, log line and error names the URL with ``***`` in its place.

Each failure is classified (see :func:`classify`): transient ones (4xx replies,
dropped connections, timeouts) are retried by the delivery job, permanent ones
(5xx replies, refused recipients, certificate errors) fail it at once. Either
way the error says the server's code and reply.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Literal
from urllib.parse import unquote, urlsplit

from activejob.errors import ConfigurationError
from activejob.mail.deliveries.base import Connection, Delivery
from activejob.mail.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from activejob.storage.options import UrlOptions, mask_password

__all__ = ["SmtpDelivery", "classify"]

StartTLS = Literal["true", "false", "auto"]


class SmtpDelivery(Delivery):
    """An SMTP server, reached as its URL says (see the module documentation).

    Example::

        delivery = SmtpDelivery.from_url("smtp://ada:secret@mail.example.com:587?starttls=true")
        repr(delivery)   # '<SmtpDelivery smtp://ada:***@mail.example.com:587?starttls=true>'
    """

    scheme = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        implicit_tls: bool = False,
        starttls: StartTLS = "auto",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        shown_as: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = timeout
        self.tls_context = tls_context or ssl.create_default_context()
        self.local_hostname = local_hostname
        self.shown_as = shown_as or f"{'smtps' if implicit_tls else 'smtp'}://{host}:{port}"
        """The URL with its password masked: what errors and logs show."""

    @classmethod
    def from_url(cls, url: str) -> SmtpDelivery:
        """Parse an ``smtp://`` or ``smtps://`` URL; a bad one raises ``ConfigurationError``."""
        shown = mask_password(url)
        parts = urlsplit(url)
        options = UrlOptions.parse(url)
        options.url = shown  # error messages quote the URL: never with its password
        implicit = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if implicit else 25)
        except ValueError as exc:
            raise ConfigurationError(f"bad port in mail URL {shown!r}: {exc}") from exc
        if not parts.hostname:
            raise ConfigurationError(
                f"mail URL {shown!r} names no host: smtp://user:password@host:587?starttls=true"
            )
        starttls: StartTLS = options.take("starttls", _starttls, "auto")
        if implicit and starttls == "true":
            raise ConfigurationError(
                f"{shown!r}: smtps:// is TLS from the start; starttls=true is for smtp://"
            )
        timeout = options.duration("timeout", 30.0)
        if timeout <= 0:
            raise ConfigurationError(f"bad timeout in {shown!r}: must be more than 0")
        ca_file = options.take("ca_file", str, None)
        verify = options.boolean("verify", True)
        local_hostname = options.take("local_hostname", str, None)
        _reject_unknown(options)
        if options.path:
            raise ConfigurationError(f"mail URL {shown!r} has a path; an SMTP URL has none")
        return cls(
            parts.hostname,
            port,
            implicit_tls=implicit,
            starttls="false" if implicit else starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
            tls_context=_tls_context(ca_file, verify, shown),
            local_hostname=local_hostname,
            shown_as=shown,
        )

    def connect(self) -> Connection:
        """Connect, say EHLO, start TLS and log in as the URL asks."""
        try:
            client = self._open()
        except DeliveryError:
            raise
        except Exception as exc:
            raise classify(exc, self.shown_as) from exc
        return _SmtpConnection(client, self.shown_as)

    def _open(self) -> smtplib.SMTP:
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self.tls_context,
            )
        else:
            client = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        try:
            client.ehlo()
            encrypted = self.implicit_tls
            if self.starttls == "true" or (self.starttls == "auto" and client.has_extn("starttls")):
                client.starttls(context=self.tls_context)
                client.ehlo()
                encrypted = True
            if self.username is not None:
                if not encrypted:
                    raise PermanentDeliveryError(
                        f"{self.shown_as}: the connection is not encrypted, so the password "
                        "is not sent; use smtp://...?starttls=true or smtps://"
                    )
                client.login(self.username, self._password or "")
        except BaseException:
            _quietly_close(client)
            raise
        return client

    def __repr__(self) -> str:
        return f"<SmtpDelivery {self.shown_as}>"


class _SmtpConnection(Connection):
    def __init__(self, client: smtplib.SMTP, shown_as: str) -> None:
        self._client = client
        self._shown_as = shown_as

    def send(self, message: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
        try:
            options: tuple[str, ...] = ()
            if self._client.has_extn("8bitmime") and not message.as_bytes().isascii():
                options = ("BODY=8BITMIME",)
            refused = self._client.send_message(
                message, from_addr=sender, to_addrs=list(recipients), mail_options=options
            )
        except Exception as exc:
            raise classify(exc, self._shown_as) from exc
        if refused:  # some took it, some did not: a retry would send it twice to the first
            raise PermanentDeliveryError(
                f"{self._shown_as} took the message for "
                f"{len(recipients) - len(refused)} of {len(recipients)} recipients but refused "
                f"{_describe_refused(refused)}",
                code=next(iter(refused.values()))[0],
            )

    def close(self) -> None:
        _quietly_close(self._client)


def classify(exc: BaseException, where: str) -> DeliveryError:
    """The :class:`DeliveryError` an exception from ``smtplib`` or the network means:
    transient or permanent, with the server's code and reply.

    Example::

        classify(smtplib.SMTPDataError(451, b"try later"), "smtp://host:25")
        # TransientDeliveryError('smtp://host:25 replied 451 try later', code=451)
    """
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        kind = _kind(codes)
        return kind(
            f"{where} refused every recipient: {_describe_refused(exc.recipients)}",
            code=codes[0] if codes else None,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = _text(exc.smtp_error)
        return _kind([exc.smtp_code])(f"{where} replied {exc.smtp_code} {reply}", exc.smtp_code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentDeliveryError(f"{where}: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientDeliveryError(f"{where} closed the connection: {exc or 'no reason given'}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentDeliveryError(f"{where}: TLS certificate not trusted: {exc.verify_message}")
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return TransientDeliveryError(f"{where} closed the TLS connection: {exc}")
    if isinstance(exc, ssl.SSLError):
        return PermanentDeliveryError(f"{where}: TLS failed: {exc}")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TransientDeliveryError(f"{where} timed out: {exc or 'no answer'}")
    if isinstance(exc, OSError):
        return TransientDeliveryError(f"{where} unreachable: {exc}")
    return PermanentDeliveryError(f"{where}: {type(exc).__name__}: {exc}")


def _kind(codes: list[int]) -> type[DeliveryError]:
    """4xx is transient (RFC 5321 §4.2.1); 5xx and anything unexpected is permanent,
    except codes that are not replies at all (a broken connection), which are transient."""
    if codes and all(400 <= code < 500 for code in codes):
        return TransientDeliveryError
    if codes and all(code < 200 or code >= 600 for code in codes):
        return TransientDeliveryError
    return PermanentDeliveryError


def _describe_refused(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr}: {code} {_text(reply)}" for addr, (code, reply) in refused.items())


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _quietly_close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except Exception:
        client.close()


def _starttls(raw: str) -> StartTLS:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return "true"
    if lowered in ("0", "false", "no", "off"):
        return "false"
    if lowered == "auto":
        return "auto"
    raise ValueError("use true, false or auto")


def _tls_context(ca_file: str | None, verify: bool, shown: str) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"bad ca_file={ca_file!r} in {shown!r}: {exc}") from exc
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


_SETTINGS = "starttls, timeout, ca_file, verify, local_hostname"


def _reject_unknown(options: UrlOptions) -> None:
    if options.query:
        raise ConfigurationError(
            f"unknown setting(s) {', '.join(sorted(options.query))} in mail URL {options.url!r} "
            f"(known: {_SETTINGS})"
        )
