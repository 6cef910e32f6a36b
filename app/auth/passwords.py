"""Which new passwords we refuse: too short, too common, or made of the person's own email or name.

When the `zxcvbn` package is installed its estimator decides (it ships frequency lists built from
leaked-password corpora and knows keyboard walks, dates and l33t spellings). Without it, the rules
below still catch the usual weak choices: a common word with digits around it ("password1234"),
runs like "12345678" or "qwertyui", few distinct characters, and the account's own email or name.
"""

import re

from app.errors import DomainError

MIN_LENGTH = 8
MAX_LENGTH = 1024
ZXCVBN_MIN_SCORE = 3  # of 0-4: "safely unguessable: moderate protection from offline attacks"

# Words people build passwords on, written down here by us; a password that is one of them
# once digits and symbols are stripped and l33t is undone is refused.
COMMON_WORDS = frozenset(
    """
    password passwort passw0rd pass secret letmein welcome hello admin administrator root login
    qwerty qwertz azerty asdf zxcvbn iloveyou love lovely monkey dragon master shadow sunshine
    princess football baseball soccer hockey batman superman starwars pokemon freedom whatever
    trustno charlie michael jennifer jordan hunter ranger buster thomas tigger summer winter
    spring autumn flower cookie cheese chocolate computer internet default changeme test
    testing guest user username abc abcd abcdef loraface lora face model photo picture
    """.split()
)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop")


class WeakPassword(DomainError):
    """A password we refuse; the message says why and what would do."""


def _zxcvbn():
    try:
        from zxcvbn import zxcvbn  # optional: a better estimator when installed
    except ImportError:
        return None
    return zxcvbn


def _personal_parts(email: str, display_name: str) -> list[str]:
    local, _, domain = email.lower().partition("@")
    parts = [local, domain.split(".")[0], *re.split(r"[\W_]+", local), *display_name.lower().split()]
    return [p for p in parts if len(p) >= 3]


def _is_run(text: str) -> bool:
    """Most of the password is one run along the alphabet, the digits or a keyboard row."""
    if len(text) < 4:
        return False
    for run in _RUNS:
        for source in (run, run[::-1]):
            if text in source or (
                len(text) >= 6 and any(text[i : i + 6] in source for i in range(len(text) - 5))
            ):
                return True
    return False


def _common(core: str) -> bool:
    """A common word, or one repeated ("passwordpassword")."""
    return core in COMMON_WORDS or any(core == w * (len(core) // len(w)) for w in COMMON_WORDS)


def _rule_problem(password: str, personal: list[str]) -> str | None:
    lowered = password.lower()
    # Digits and symbols around a word are padding; inside it they are often l33t ("p@ssw0rd").
    middle = re.sub(r"^[^a-z]+|[^a-z]+$", "", lowered)
    cores = {re.sub(r"[^a-z]", "", middle), re.sub(r"[^a-z]", "", middle.translate(_LEET))}
    if any(part in lowered or any(part in core for core in cores) for part in personal):
        return "It contains your email address or name; choose something others cannot guess from them."
    if any(not core or _common(core) for core in cores):
        return "It is one of the most common passwords; a few unrelated words together make a strong one."
    if len(set(lowered)) < 4 or _is_run(lowered) or _is_run(re.sub(r"[^a-z0-9]", "", lowered)):
        return "It is a simple run or repetition of characters; a few unrelated words together make a strong one."
    return None


def check(password: str, *, email: str = "", display_name: str = "") -> None:
    """Raise WeakPassword unless the password is long enough and not easy to guess."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use a password of at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword("That password is too long.")
    personal = _personal_parts(email, display_name)
    problem = _rule_problem(password, personal)
    estimator = _zxcvbn()
    if problem is None and estimator is not None:
        result = estimator(password[:100], user_inputs=[email, display_name, *personal])
        if result["score"] < ZXCVBN_MIN_SCORE:
            warning = result["feedback"].get("warning") or "It would be easy to guess."
            problem = f"{warning.rstrip('.')}. A few unrelated words together make a strong password."
    if problem:
        raise WeakPassword(f"That password is too easy to guess. {problem}")
