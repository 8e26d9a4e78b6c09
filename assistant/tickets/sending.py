"""Sending one queued e-mail of a ticket, in the worker, and what each attempt records."""

import smtplib

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assistant.common.audit import workspace_audit
from assistant.handoffs.transitions import note_add
from assistant.models import AuditEvent, TicketMail
from assistant.tickets.emails import ticket_email
from assistant.tickets.selectors import ticket_mail_for_sending

# What a mail server that is down, slow or refusing raises: the job is tried again.
SENDING_FAILED = (smtplib.SMTPException, OSError)


def ticket_mail_send(*, mail_id: int, last_attempt: bool = False) -> None:
    """Sends a queued e-mail once; a failure is recorded and raised again, for the job's
    retries, and after the `last_attempt` the agents are told in a note. A mail already
    sent (a retried job that had succeeded) is not sent again."""
    mail = ticket_mail_for_sending(mail_id=mail_id)
    if mail is None or mail.status == TicketMail.Status.SENT:
        return
    try:
        ticket_email(mail=mail).send()
    except SENDING_FAILED as error:
        ticket_mail_attempted(
            mail=mail, error=f"{type(error).__name__}: {error}"[:1000], last_attempt=last_attempt
        )
        raise
    ticket_mail_attempted(mail=mail)


def ticket_mail_attempted(*, mail: TicketMail, error: str = "", last_attempt: bool = False) -> None:
    """One attempt at sending, recorded on the mail and audited (without the address)."""
    status = TicketMail.Status.FAILED if error else TicketMail.Status.SENT
    with transaction.atomic():
        if error and last_attempt:
            note_add(
                conversation=mail.conversation,
                author=None,
                text=f"An e-mail to the customer ({mail.get_kind_display().lower()}) could "
                f"not be sent, and Keel stopped trying: {error}",
            )
        TicketMail.objects.filter(pk=mail.pk).update(
            status=status,
            error=error,
            attempts=F("attempts") + 1,
            sent_at=None if error else timezone.now(),
        )
        workspace_audit(
            workspace_id=mail.conversation.workspace_id,
            conversation=mail.conversation,
            kind=AuditEvent.Kind.TICKET_MAIL,
            detail={"mail": mail.kind, "status": status, "attempt": mail.attempts + 1},
        )
