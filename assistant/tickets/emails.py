"""A ticket's e-mail as it goes out: text and escaped HTML from templates, the signed reply
address, and the headers that thread it (never the subject)."""

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from assistant.models import TicketMail
from assistant.tickets.addresses import reply_address, transcript_link
from assistant.tickets.selectors import ticket_thread_ids


def ticket_email(*, mail: TicketMail) -> EmailMultiAlternatives:
    """The envelope's sender is the reply address too, so a bounce comes back to the
    ticket it belongs to."""
    conversation = mail.conversation
    workspace = conversation.workspace
    replies_to = reply_address(conversation_id=conversation.pk)
    context = {
        "workspace": workspace,
        "message": mail.message,
        "link": transcript_link(conversation_id=conversation.pk),
    }
    headers = {
        "From": formataddr((workspace.name, settings.DEFAULT_FROM_EMAIL)),
        "Message-ID": mail.internet_message_id,
    }
    if mail.kind == TicketMail.Kind.ACKNOWLEDGEMENT:
        headers["Auto-Submitted"] = "auto-replied"  # RFC 3834: no autoresponder answers it
    thread = ticket_thread_ids(conversation_id=conversation.pk, before=mail)
    if thread:
        headers["In-Reply-To"] = thread[-1]
        headers["References"] = " ".join(thread)
    subject = f"Your question to {workspace.name}"
    email = EmailMultiAlternatives(
        subject=f"Re: {subject}" if thread else subject,
        body=render_to_string(f"tickets/email_{mail.kind}.txt", context),
        from_email=replies_to,
        to=[mail.address],
        reply_to=[replies_to],
        headers=headers,
    )
    email.attach_alternative(
        render_to_string(f"tickets/email_{mail.kind}.html", context), "text/html"
    )
    return email
