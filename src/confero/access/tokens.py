"""API tokens: `cfo_test_…` (UAT) or `cfo_live_…` (Production) plus 40 random base62 characters.

Only the SHA-256 digest is stored. A plain digest (no salt, no slow KDF) is enough because the
secret part carries ~238 bits of randomness: it cannot be guessed or brute-forced from the digest,
and a fast digest keeps authentication cheap on every call (docs/decisions/0004).
"""

import datetime as dt
import hashlib
import secrets
import string
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from confero.access.models import ApiProfile, ApiToken
from confero.access.redaction import PREFIX_LENGTH, public_prefix
from confero.access.redaction import redact_tokens as redact_tokens  # for the API (moved)
from confero.errors import ValidationFailed
from confero.events.models import Environment

ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 40
KIND_PREFIX = {Environment.UAT: "cfo_test_", Environment.PRODUCTION: "cfo_live_"}


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plain: str  # shown once, never stored


@transaction.atomic
def issue_token(
    profile: ApiProfile, *, label: str = "", expires_at: dt.datetime | None = None
) -> IssuedToken:
    kind = KIND_PREFIX[profile.site.environment]
    for _ in range(5):
        plain = kind + "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
        prefix = public_prefix(plain)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    token = ApiToken.objects.create(
        profile=profile,
        prefix=prefix,
        token_hash=hash_token(plain),
        label=label[:100],
        expires_at=expires_at,
    )
    return IssuedToken(token=token, plain=plain)


def revoke_token(prefix: str) -> ApiToken:
    """Revokes by public prefix (as shown in the console, the CLI and the call log)."""
    prefix = prefix.strip().rstrip("…").rstrip(".")
    matches = list(ApiToken.objects.filter(prefix=prefix)[:2])
    if not matches and len(prefix) > 9 + PREFIX_LENGTH:
        # A whole token pasted: revoke exactly that one.
        matches = list(ApiToken.objects.filter(token_hash=hash_token(prefix))[:2])
    if not matches:
        raise ValidationFailed("prefix", f"no token with prefix '{prefix}'")
    token = matches[0]
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def looks_like_token(plain: str) -> bool:
    """Worth a lookup: the kind prefix and a sane length (anything else cannot be a token)."""
    return plain.startswith(("cfo_test_", "cfo_live_")) and len(plain) <= 200


# When this process last wrote each token's last use: the token it is given may be a moment old
# (confero.access.gatecache), and must not make every call write again.
_marked: dict[int, dt.datetime] = {}


def mark_used(token: ApiToken, *, now: dt.datetime) -> None:
    """Records use at most once a minute per token and process: one write less on nearly every
    call."""
    last = max(filter(None, [token.last_used_at, _marked.get(token.pk)]), default=None)
    if last is None or now - last >= dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = _marked[token.pk] = now


def forget_marks() -> None:
    """Forgets which last uses this process wrote (tests: token IDs repeat across them)."""
    _marked.clear()
