"""Outgoing mail: each message is written to the outbox folder and logged.

The app sends few messages (sign-up links, notices to an address's owner). They go to
`<data dir>/outbox/` as .eml files, which an operator's mail relay (or a person, in development)
picks up; the log line names the recipient and subject, never the body's links.
"""

import logging
import secrets
from email.message import EmailMessage
from pathlib import Path

from app.db import utcnow

log = logging.getLogger("loraface.mail")


def outbox(data_dir: Path) -> Path:
    """The folder messages are written to."""
    return Path(data_dir) / "outbox"


def send(*, data_dir: Path, to: str, subject: str, body: str) -> Path:
    """Write one message into the outbox (renamed into place, so a reader never sees half)."""
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = to, "LoRAFace <no-reply@loraface.invalid>", subject
    message["Date"] = utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content(body)
    folder = outbox(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
    partial = folder / f".{name}.part"
    partial.write_bytes(bytes(message))
    partial.replace(folder / name)
    log.info("mail to %s: %s (%s)", to, subject, folder / name)
    return folder / name
