"""Writes of e-mail tickets: opening one, an agent's reply that goes out by e-mail, and the
customer's e-mail that comes back. Each outgoing e-mail is queued in the transaction that
causes it and sent by the worker after the commit (`tickets.sending`)."""

import logging
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from assistant.common.audit import workspace_audit
from assistant.conversations.selectors import handoff_latest, policy_for_conversation
from assistant.conversations.services import question_add
from assistant.conversations.vault import conversation_placeholders
from assistant.handoffs.transitions import (
    handoff_agent_reply,
    handoff_create,
    note_add,
    ticket_email_set,
)
from assistant.models import AuditEvent, Conversation, Handoff, Message, TicketMail
from assistant.rails.input_rails import input_rails
from assistant.tickets.inbound import InboundMail, inbound_mail_read
from assistant.tickets.selectors import transcript_conversation
from assistant.tickets.tasks import ticket_mail_send_job

logger = logging.getLogger(__name__)


def ticket_open(*, handoff: Handoff, email: str) -> Handoff:
    """No one was online: the customer's address is kept and they are told by e-mail that a
    person will reply there."""
    with transaction.atomic():
        handoff = ticket_email_set(handoff=handoff, email=email)
        ticket_mail_queue(
            conversation=handoff.conversation, kind=TicketMail.Kind.ACKNOWLEDGEMENT, address=email
        )
    return handoff


def ticket_agent_reply(*, handoff: Handoff, agent: AbstractBaseUser, text: str) -> Message:
    """The agent's reply, as in any handoff; on a ticket it also goes to the customer's
    e-mail address, even while their chat is open: they chose e-mail, an open tab is not
    someone reading, and a reply seen twice costs less than one never seen."""
    with transaction.atomic():
        message = handoff_agent_reply(handoff=handoff, agent=agent, text=text)
        address = Handoff.objects.values_list("customer_email", flat=True).get(pk=handoff.pk)
        if address:
            ticket_mail_queue(
                conversation=handoff.conversation,
                kind=TicketMail.Kind.REPLY,
                address=address,
                message=message,
            )
    return message


def ticket_mail_queue(
    *,
    conversation: Conversation,
    kind: TicketMail.Kind,
    address: str,
    message: Message | None = None,
) -> TicketMail:
    """Call inside the transaction that causes the e-mail: the worker sends it once that
    commits, never for a change rolled back."""
    mail = TicketMail.objects.create(
        conversation=conversation,
        message=message,
        kind=kind,
        status=TicketMail.Status.QUEUED,
        address=address,
        internet_message_id=make_msgid(domain=settings.KEEL_REPLY_DOMAIN),
    )
    transaction.on_commit(lambda: ticket_mail_send_job.defer(mail_id=mail.pk))
    return mail


class InboundRejected(Exception):
    """Not an e-mail to a reply address Keel signed: nothing was created; the message says
    why."""


def ticket_mail_receive(*, raw: bytes) -> TicketMail:
    """An e-mail to a ticket's reply address: the customer's reply becomes their message in
    the conversation, checked and redacted as a chat message is (the input rails run
    before the transaction: they embed), and the conversation waits for a person again;
    a bounce or an automatic reply is only noted for the agents. The same e-mail posted
    twice (a provider's retry) is kept once."""
    mail = inbound_mail_read(raw=raw)
    conversation = (
        transcript_conversation(conversation_id=mail.conversation_id)
        if mail.conversation_id is not None
        else None
    )
    if conversation is None:
        logger.warning("Inbound e-mail rejected: no reply address signed by Keel in it")
        raise InboundRejected("This e-mail is not addressed to a ticket's reply address.")
    kept = TicketMail.objects.filter(conversation=conversation, internet_message_id=mail.message_id)
    if mail.message_id and kept.exists():
        return kept.first()
    if mail.bounce:
        return _bounce_record(conversation=conversation, mail=mail)
    if not mail.text:
        raise InboundRejected("This e-mail has no text and no attachment.")
    policy = policy_for_conversation(conversation=conversation)
    verdict = input_rails(
        text=mail.text,
        policy=policy,
        earlier=conversation_placeholders(conversation_id=conversation.pk),
    )
    with transaction.atomic():
        question = question_add(
            conversation=conversation, verdict=verdict, search_query="", policy=policy
        )
        received = _received(conversation=conversation, mail=mail, message=question)
        _waiting_again(conversation=conversation, summary=question.text)
    return received


def _bounce_record(*, conversation: Conversation, mail: InboundMail) -> TicketMail:
    """Kept off the transcript: a note the agents see beside it."""
    with transaction.atomic():
        received = _received(conversation=conversation, mail=mail, kind=TicketMail.Kind.BOUNCE)
        note_add(
            conversation=conversation,
            author=None,
            text=f"An e-mail to the customer came back. {mail.bounce}",
        )
    return received


def _received(
    *,
    conversation: Conversation,
    mail: InboundMail,
    message: Message | None = None,
    kind: TicketMail.Kind = TicketMail.Kind.INBOUND,
) -> TicketMail:
    received = TicketMail.objects.create(
        conversation=conversation,
        message=message,
        kind=kind,
        status=TicketMail.Status.RECEIVED,
        address=mail.sender[:254],
        internet_message_id=mail.message_id,
        error=mail.bounce,
    )
    workspace_audit(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        kind=AuditEvent.Kind.TICKET_MAIL,
        detail={"mail": kind, "status": TicketMail.Status.RECEIVED},
    )
    return received


def _waiting_again(*, conversation: Conversation, summary: str) -> None:
    """A ticket answered and closed (resolved, or handed back) opens again, to the same
    address; one still waiting or with a person stays as it is, the reply on its screen."""
    state = Conversation.objects.values_list("state", flat=True).get(pk=conversation.pk)
    if state not in (Conversation.State.BOT, Conversation.State.RESOLVED):
        return
    latest = handoff_latest(conversation_id=conversation.pk)
    handoff = handoff_create(
        conversation=conversation,
        reason=Handoff.Reason.ASKED,
        reason_detail="Replied by e-mail",
        summary=summary[:500],
        announced=True,
    )
    if latest is not None and latest.customer_email:
        ticket_email_set(handoff=handoff, email=latest.customer_email)
