"""Read the app's outbox as a person reads their mail: the newest message to an address."""

import email
import re
from pathlib import Path

LINK = re.compile(r"https?://\S+")


def newest_message(data_dir: Path, to: str) -> email.message.Message | None:
    """The newest .eml in the outbox addressed to `to`, or None."""
    folder = Path(data_dir) / "outbox"
    for path in sorted(folder.glob("*.eml"), reverse=True) if folder.is_dir() else []:
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == to:
            return message
    return None


def newest_link(data_dir: Path, to: str) -> str:
    """The first link in the newest message to `to` (a sign-up confirmation, say)."""
    message = newest_message(data_dir, to)
    assert message is not None, f"no mail to {to}"
    body = message.get_payload(decode=True).decode()
    match = LINK.search(body)
    assert match, body
    return match.group(0)


def confirm_signup(client, data_dir: Path, to: str):
    """Open the newest sign-up link mailed to `to` and press its button; returns the response."""
    from urllib.parse import parse_qs, urlsplit

    from tests.conftest import csrf_token

    link = urlsplit(newest_link(data_dir, to))
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    token = csrf_token(client, f"{link.path}?{link.query}")
    return client.post("/signup/confirm", data={**query, "csrf_token": token})
