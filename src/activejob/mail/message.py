"""Building messages with the standard ``email`` package, and their wire form.

:func:`build_message` makes an ``email.message.EmailMessage``: plain text,
HTML, or both as ``multipart/alternative``, with attachments in a
``multipart/mixed`` around them. Bodies are encoded as quoted-printable or base64
when they are not ASCII, so the message is 7-bit clean for any SMTP server.

A message travels in a job's arguments as its RFC 5322 text (:func:`to_text`,
read back by :func:`from_text`): a JSON string, never pickle.

Example::

    message = build_message(sender="shop@example.com", to="ada@example.com",
                            subject="Hi", text="Hello", html="<p>Hello</p>")
    message.get_content_type()   # 'multipart/alternative'
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path

from activejob.errors import SerializationError

__all__ = [
    "Addresses",
    "Attachment",
    "Attachments",
    "build_message",
    "copy_message",
    "domain_of",
    "envelope_of",
    "from_text",
    "readable_text",
    "text_of",
    "to_text",
]

Addresses = str | Sequence[str] | None
"""One address (``"Ada <ada@example.com>"``), several, or none."""

BUILD_POLICY = policy.default.clone(cte_type="7bit")
"""Non-ASCII bodies become quoted-printable or base64, headers RFC 2047 words."""
_WIRE_POLICY = policy.default.clone(linesep="\r\n")


@dataclass(frozen=True)
class Attachment:
    """A file to attach: its name, its content, and its type (guessed from the
    name when left out).

    Example::

        Attachment("invoice.pdf", pdf_bytes)
        Attachment("notes.txt", "plain text", mimetype="text/plain")
    """

    filename: str
    content: bytes | str
    mimetype: str | None = None

    def content_type(self) -> tuple[str, str]:
        """``(maintype, subtype)``: the given type, else guessed, else octet-stream."""
        guessed = self.mimetype or mimetypes.guess_type(self.filename)[0]
        if not guessed or "/" not in guessed:
            guessed = "text/plain" if isinstance(self.content, str) else "application/octet-stream"
        main, _, sub = guessed.partition("/")
        return main, sub


Attachments = (
    Mapping[str, "bytes | str"]
    | Iterable["Attachment | os.PathLike[str] | tuple[str, bytes | str]"]
)
"""``{"name.pdf": content}``, or a list of :class:`Attachment`, paths, or
``(filename, content)`` pairs."""


def build_message(
    *,
    sender: str,
    to: Addresses = None,
    cc: Addresses = None,
    bcc: Addresses = None,
    reply_to: Addresses = None,
    subject: str = "",
    text: str | None = None,
    html: str | None = None,
    attachments: Attachments | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A complete message (``Date`` and ``Message-ID`` included, unless ``headers``
    sets them). ``Bcc`` is kept as a header: SMTP delivery sends to those
    addresses but strips the header from what it transmits.

    Example::

        build_message(sender="shop@example.com", to=["a@example.com", "b@example.com"],
                      subject="Invoice", text="Attached.",
                      attachments={"invoice.pdf": b"%PDF-1.4 ..."})
    """
    message = EmailMessage(policy=BUILD_POLICY)
    message["From"] = sender
    for name, value in (("To", to), ("Cc", cc), ("Bcc", bcc), ("Reply-To", reply_to)):
        joined = _joined(value)
        if joined:
            message[name] = joined
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=domain_of(sender))
    for name, value in (headers or {}).items():
        del message[name]
        message[name] = value
    if html is not None and text is not None:
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text or "")
    for attachment in _attachments(attachments):
        _attach(message, attachment)
    return message


def _joined(value: Addresses) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ", ".join(value)


def domain_of(sender: str) -> str | None:
    """The domain of an address (for a ``Message-ID``), or ``None``."""
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or None


def _attachments(given: Attachments | None) -> list[Attachment]:
    if given is None:
        return []
    if isinstance(given, Mapping):
        return [Attachment(str(name), content) for name, content in given.items()]
    found: list[Attachment] = []
    for item in given:
        if isinstance(item, Attachment):
            found.append(item)
        elif isinstance(item, tuple):
            found.append(Attachment(*item))
        elif isinstance(item, (os.PathLike, str)):
            path = Path(item)
            found.append(Attachment(path.name, path.read_bytes()))
        else:
            raise TypeError(
                f"an attachment is an Attachment, a path or a (filename, content) pair, "
                f"got {type(item).__name__}"
            )
    return found


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    main, sub = attachment.content_type()
    content = attachment.content
    if isinstance(content, str):
        if main == "text":
            message.add_attachment(content, subtype=sub, filename=attachment.filename)
            return
        content = content.encode("utf-8")
    message.add_attachment(content, maintype=main, subtype=sub, filename=attachment.filename)


def to_text(message: Message) -> str:
    """The RFC 5322 text of ``message`` (CRLF line ends), ready for a JSON argument.

    A message whose bytes are not UTF-8 (8-bit parts in another charset) raises
    :class:`~activejob.SerializationError`: encode those parts as base64 or
    quoted-printable first.

    Example::

        from_text(to_text(message))["Subject"] == message["Subject"]
    """
    if isinstance(message, EmailMessage):
        raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    else:
        raw = message.as_bytes()
    return text_of(raw)


def text_of(raw: bytes) -> str:
    """``raw`` message bytes as a string for a JSON argument, or ``SerializationError``."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SerializationError(
            f"the message is not UTF-8 text at byte {exc.start}, so it cannot travel in a JSON "
            "job argument: use base64 or quoted-printable for 8-bit parts in other charsets"
        ) from exc


def from_text(text: str) -> EmailMessage:
    """Parse RFC 5322 text back into an ``EmailMessage``."""
    # As bytes, not as a str: 8-bit parts then come back as the bytes they were,
    # which the bytes generator of SMTP delivery writes out unchanged.
    parsed = BytesParser(policy=_WIRE_POLICY).parsebytes(text.encode("utf-8"))
    assert isinstance(parsed, EmailMessage)  # the policy's message factory makes one
    return parsed


def copy_message(message: EmailMessage) -> EmailMessage:
    """An independent copy (through the wire form), as a test delivery keeps it."""
    return from_text(to_text(message))


def envelope_of(message: Message) -> tuple[str, list[str]]:
    """The envelope sender (``Sender``, else ``From``) and recipients (``To``,
    ``Cc``, ``Bcc``) a message's headers name.

    Example::

        envelope_of(message)   # ('shop@example.com', ['ada@example.com', 'boss@example.com'])
    """
    sender = parseaddr(str(message.get("Sender") or message.get("From") or ""))[1]
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    recipients = [address for _, address in getaddresses(values) if address]
    return sender, recipients


def readable_text(message: EmailMessage) -> str:
    """The message for a person to read: headers, then each part decoded."""
    lines = [
        f"{name}: {value}"
        for name, value in message.items()
        if name.lower() not in ("content-type", "content-transfer-encoding", "mime-version")
    ]
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename is not None:
            size = len(part.get_payload(decode=True) or b"")
            lines.append(f"\n[attachment {filename} ({part.get_content_type()}, {size} bytes)]")
            continue
        lines.append(f"\n--- {part.get_content_type()} ---")
        lines.append(str(part.get_content()).rstrip())
    return "\n".join(lines) + "\n"
