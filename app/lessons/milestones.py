"""Milestones beyond "passed" that a node of the track can show (lesson 8: "approved").

Another domain that knows of such a milestone registers a lookup once, at import time of its
service module, e.g. the review domain:

    from app.lessons import milestones
    milestones.register(8, lambda db, user_id: "approved" if has_approved(db, user_id) else None)

The node map shows the label of the first lookup that answers. Nothing is registered here, so
the course shows only what it knows itself.
"""

from collections.abc import Callable

from sqlalchemy.orm import Session

Lookup = Callable[[Session, int], str | None]

_lookups: dict[int, list[Lookup]] = {}


def register(number: int, lookup: Lookup) -> None:
    """Add a lookup (db, user_id) -> label or None for a lesson's node; registering twice is a no-op."""
    registered = _lookups.setdefault(number, [])
    if lookup not in registered:
        registered.append(lookup)


def milestone(*, db: Session, user_id: int, number: int) -> str | None:
    """The label a registered lookup gives this node for this user, if any."""
    for lookup in _lookups.get(number, []):
        label = lookup(db, user_id)
        if label:
            return label
    return None
