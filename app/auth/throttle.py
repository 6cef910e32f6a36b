"""Sign-in throttling that slows an attacker without locking out the account's owner.

Failures are counted per (account, address) pair: a few are free, then each further one doubles
the wait before the next try from that pair. Someone guessing from elsewhere therefore never
delays the owner signing in from their own address. A wider limit per address (all accounts
together) stops one address from spraying many accounts. Every refusal says when to retry.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth.models import LoginAttempt
from app.db import utcnow
from app.errors import TooManyRequests


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free and how fast the wait grows after them."""

    free_failures: int = 4  # per account and address, before any wait
    first_wait_seconds: float = 2.0  # after the first failure past the free ones; doubles each time
    longest_wait_seconds: float = 15 * 60
    per_address: int = 20  # failures from one address over all accounts within the window
    window: timedelta = timedelta(minutes=15)


class SignInThrottled(TooManyRequests):
    """Too many recent failures; carries the seconds until the next try is allowed."""

    def __init__(self, retry_after: int, reason: str) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"{reason} Try again in {_readable(self.retry_after)}.")
        self.headers = {"Retry-After": str(self.retry_after)}


def _readable(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def pair_wait(failures: int, policy: ThrottlePolicy) -> float:
    """Seconds to wait after `failures` recent failures of one account from one address."""
    if failures < policy.free_failures:
        return 0.0
    doublings = failures - policy.free_failures
    return min(policy.first_wait_seconds * 2 ** min(doublings, 30), policy.longest_wait_seconds)


def check(*, db: Session, email: str, address: str, policy: ThrottlePolicy) -> None:
    """Raise SignInThrottled when this address, or this account from this address, must wait."""
    now, since = utcnow(), utcnow() - policy.window
    count, oldest = db.execute(
        select(func.count(), func.min(LoginAttempt.attempted_at)).where(
            LoginAttempt.address == address, LoginAttempt.attempted_at >= since
        )
    ).one()
    if count >= policy.per_address:
        retry = (_aware(oldest) + policy.window - now).total_seconds()
        raise SignInThrottled(math.ceil(retry), "Too many failed sign-ins from this address.")
    count, latest = db.execute(
        select(func.count(), func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email,
            LoginAttempt.address == address,
            LoginAttempt.attempted_at >= since,
        )
    ).one()
    wait = pair_wait(count, policy)
    if wait and latest is not None:
        retry = (_aware(latest) + timedelta(seconds=wait) - now).total_seconds()
        if retry > 0:
            raise SignInThrottled(math.ceil(retry), "Too many failed sign-ins for this account.")


def record_failure(*, db: Session, email: str, address: str) -> None:
    """Count one failed sign-in of this account from this address."""
    db.add(LoginAttempt(email=email[:320], address=address[:64]))
    db.flush()


def clear(*, db: Session, email: str, address: str) -> None:
    """After a success: this pair starts afresh (failures from other addresses still count there)."""
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.address == address))
