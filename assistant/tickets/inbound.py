"""An e-mail that came back to a ticket's reply address, read: which conversation it
answers (by the signed address alone), the customer's new text without the quoted
history or signature, the attachments it carried, and whether it is a bounce or an
automatic reply rather than the customer writing."""

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import lxml.html
from django.conf import settings
from mailparser_reply import EmailReplyParser

from assistant.tickets.addresses import conversation_of_reply_address

# Where the reply address may stand: the headers, then what mail servers add for the
# envelope's recipient.
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
# The languages whose "On ... wrote:" lines and signatures mail-parser-reply knows.
REPLY_LANGUAGES = ["en", "de", "cs", "da", "es", "fr", "it", "ja", "ko", "nl", "pl", "sv", "zh"]
SYSTEM_SENDERS = {"mailer-daemon", "postmaster"}


@dataclass(frozen=True)
class InboundMail:
    conversation_id: int | None  # None: not an address Keel signed
    sender: str
    message_id: str
    text: str  # the new text, with a line per attachment not shown
    bounce: str  # why, for a bounce or an automatic reply; "" for the customer writing


def inbound_mail_read(*, raw: bytes) -> InboundMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    sender = parseaddr(str(message.get("From", "")))[1]
    return InboundMail(
        conversation_id=_conversation_id(message),
        sender=sender,
        message_id=str(message.get("Message-ID", "")).strip()[:998],
        text=_text(message),
        bounce=_bounce(message, sender=sender),
    )


def _conversation_id(message: EmailMessage) -> int | None:
    values = [str(value) for name in RECIPIENT_HEADERS for value in message.get_all(name, [])]
    for _, address in getaddresses(values):
        conversation_id = conversation_of_reply_address(address=address)
        if conversation_id is not None:
            return conversation_id
    return None


def _text(message: EmailMessage) -> str:
    """The customer's new words (quoted history and signature gone), then a note for each
    attachment, so that an e-mail of attachments alone is not an empty message."""
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        text = body.get_content()
        if body.get_content_type() == "text/html":
            text = lxml.html.fromstring(text).text_content() if text.strip() else ""
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text).replies
        text = replies[0].body if replies else ""
    text = text.strip()
    limit = settings.KEEL_MAX_MESSAGE_CHARS
    if len(text) > limit:  # as long as a chat message may be, and the rest said to be cut
        cut = len(text) - limit
        text = f"{text[:limit]}\n(the rest of this e-mail, {cut:,} characters, is not shown)"
    notes = [
        f"(attachment not shown: {part.get_filename() or part.get_content_type()})"
        for part in message.iter_attachments()
    ]
    return "\n".join([text, *notes]).strip()


def _bounce(message: EmailMessage, *, sender: str) -> str:
    """A delivery report, an automatic reply (RFC 3834) or a mail system's message: why."""
    if message.get_content_type() == "multipart/report":
        for part in message.walk():
            if part.get_content_type() == "message/delivery-status":
                fields = [block for block in part.get_payload() if isinstance(block, EmailMessage)]
                for block in fields:
                    reason = block.get("Diagnostic-Code") or block.get("Status")
                    if reason:
                        return f"Delivery failed: {' '.join(str(reason).split())}"[:500]
        return "Delivery failed (a delivery report)."
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto_submitted != "no":
        return f"An automatic reply ({auto_submitted}): {message.get('Subject', '')}"[:500]
    if sender.partition("@")[0].lower() in SYSTEM_SENDERS:
        return f"A message from the customer's mail system: {message.get('Subject', '')}"[:500]
    return ""
