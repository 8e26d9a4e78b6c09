"""Who is chatting: an anonymous visitor key, and optionally an identity the host site signed.

The widget keeps the visitor token in the host page's own storage (first-party, so it
survives reloads even where third-party cookies are blocked). Tokens are signed by Keel,
so a made-up token is worth nothing. A host site that knows its customer signs their id
with the workspace's identity secret; an id without a valid signature is ignored.
"""

import hashlib
import hmac
import secrets

from django.core import signing

VISITOR_SALT = "keel.visitor"


def visitor_token_new() -> tuple[str, str]:
    """A fresh visitor key and the signed token the widget stores."""
    visitor_key = secrets.token_urlsafe(24)
    return visitor_key, signing.dumps(visitor_key, salt=VISITOR_SALT)


def visitor_key_from(*, token: str) -> str | None:
    try:
        visitor_key = signing.loads(token, salt=VISITOR_SALT)
    except signing.BadSignature:
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
