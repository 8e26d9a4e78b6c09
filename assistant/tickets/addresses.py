"""The signed addresses of a ticket: the reply address its e-mails come back to, and the
customer's link to the conversation's transcript.

The reply address carries the conversation's id and an HMAC of it in lower-case hex, since
mail systems may change the case of an address's local part: a reply is threaded by this
address, never by its subject, and an address Keel did not sign is worth nothing.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

REPLY_SALT = "keel.tickets.reply-address"
TRANSCRIPT_SALT = "keel.tickets.transcript"
REPLY_LOCAL_PART = re.compile(r"^reply\+(?P<conversation_id>\d+)-(?P<signature>[0-9a-f]{32})$")


def reply_address(*, conversation_id: int) -> str:
    return f"reply+{conversation_id}-{_signature(conversation_id)}@{settings.KEEL_REPLY_DOMAIN}"


def conversation_of_reply_address(*, address: str) -> int | None:
    """The conversation an address of Keel's reply domain was signed for; None for any
    other address, or a tampered one."""
    local_part, _, domain = address.strip().lower().rpartition("@")
    found = REPLY_LOCAL_PART.match(local_part)
    if found is None or domain != settings.KEEL_REPLY_DOMAIN.lower():
        return None
    conversation_id = int(found["conversation_id"])
    if not constant_time_compare(found["signature"], _signature(conversation_id)):
        return None
    return conversation_id


def _signature(conversation_id: int) -> str:
    return salted_hmac(REPLY_SALT, str(conversation_id), algorithm="sha256").hexdigest()[:32]


def transcript_link(*, conversation_id: int) -> str:
    """The customer's link to the conversation, valid KEEL_TICKET_LINK_DAYS from now."""
    token = transcript_token(conversation_id=conversation_id)
    return settings.KEEL_PUBLIC_URL + reverse("ticket_transcript", args=[token])


def transcript_token(*, conversation_id: int) -> str:
    return signing.dumps(conversation_id, salt=TRANSCRIPT_SALT)


def conversation_of_transcript_token(*, token: str) -> int | None:
    try:
        conversation_id = signing.loads(
            token, salt=TRANSCRIPT_SALT, max_age=timedelta(days=settings.KEEL_TICKET_LINK_DAYS)
        )
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return conversation_id if isinstance(conversation_id, int) else None
