"""Who is chatting: an anonymous visitor key, and optionally an identity the host site signed.

The widget keeps the visitor token in the host page's own storage (first-party, so it
survives reloads even where third-party cookies are blocked). Tokens are signed by Keel,
so a made-up token is worth nothing. A token lasts `KEEL_VISITOR_TOKEN_MAX_AGE_DAYS`
(90 by default) from when it was signed, and every hello signs it again: a visitor who
comes back within that time keeps their conversation, one who stays away longer (or whose
token was copied long ago) starts afresh. A host site that knows its customer signs their id
with the workspace's identity secret; an id without a valid signature is ignored.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing

VISITOR_SALT = "keel.visitor"


def visitor_token_new(*, visitor_key: str | None = None) -> tuple[str, str]:
    """The visitor key (a fresh one unless given) and the token the widget stores, signed
    now: handing a returning visitor a new one renews its lifetime."""
    visitor_key = visitor_key or secrets.token_urlsafe(24)
    return visitor_key, signing.dumps(visitor_key, salt=VISITOR_SALT)


def visitor_key_from(*, token: str) -> str | None:
    """The visitor key of a token signed by Keel within its lifetime; None otherwise."""
    try:
        visitor_key = signing.loads(
            token,
            salt=VISITOR_SALT,
            max_age=timedelta(days=settings.KEEL_VISITOR_TOKEN_MAX_AGE_DAYS),
        )
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return visitor_key if isinstance(visitor_key, str) else None


def identity_signature(*, secret: str, customer_id: str) -> str:
    """What the host site computes on its server: hex HMAC-SHA256 of the id."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def identity_verified(*, secret: str, customer_id: str, signature: str) -> bool:
    if not customer_id or not signature:
        return False
    expected = identity_signature(secret=secret, customer_id=customer_id)
    return hmac.compare_digest(expected, signature.lower())
