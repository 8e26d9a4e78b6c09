"""The conversation's state machine: with the assistant, waiting for a person, with a person,
resolved, or back to the assistant. Every change goes through `_transition`, which refuses
illegal moves, locks the conversation row, records an audit event, and pushes the new
state to the customer and to the console after the commit.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistant.common.audit import workspace_audit
from assistant.common.languages import in_language
from assistant.common.metrics import handoff_counted
from assistant.conversations import events
from assistant.conversations.selectors import workspace_admin
from assistant.models import AgentNote, AuditEvent, Conversation, Handoff, Message

State = Conversation.State
ALLOWED = {
    (State.BOT, State.WAITING),
    (State.RESOLVED, State.WAITING),
    (State.WAITING, State.AGENT),
    (State.WAITING, State.BOT),
    (State.AGENT, State.BOT),
    (State.WAITING, State.RESOLVED),
    (State.AGENT, State.RESOLVED),
    (State.RESOLVED, State.BOT),
}
HANDOFF_MESSAGE = _("I'm passing you to a person from our team. They will see everything above.")


class IllegalTransition(Exception):
    """The conversation is not in a state that allows this; the message says why."""


class NotAllowed(Exception):
    """This person may not do this to the conversation; the message says why."""


def handoff_create(
    *,
    conversation: Conversation,
    reason: Handoff.Reason,
    reason_detail: str = "",
    summary: str,
    suggested_reply: str = "",
    confidence: float | None = None,
    language: str = "",
    safety_message: str = "",
    announced: bool = False,
) -> Handoff:
    """The conversation goes to the queue; the assistant says so, and falls silent.
    `safety_message` (an escalation rule's "say:") comes first, as the reply's first
    paragraph, so the customer reads what to do now before waiting for anyone.
    `announced`: the caller says so itself (`handoff_reply`), in the answer on screen.

    A sandbox conversation (an admin trying the policy, a check, an evaluation) only shows
    what would happen: the handoff is recorded already closed, so no queue, count or
    chart holds it, and the conversation stays with the assistant, which answers the
    next question."""
    with transaction.atomic():
        if not conversation.sandbox:
            _transition(
                conversation,
                State.WAITING,
                detail={
                    "reason": reason,
                    "rule": reason_detail,
                    "safety_message_sent": bool(safety_message),
                },
            )
            handoff_counted(reason=reason)
        handoff = Handoff.objects.create(
            conversation=conversation,
            reason=reason,
            reason_detail=reason_detail[:200],
            summary=summary,
            suggested_reply=suggested_reply,
            confidence=confidence,
            language=language,
            closed_at=timezone.now() if conversation.sandbox else None,
        )
        if announced:
            return handoff
        message = Message.objects.create(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            text=handoff_reply(safety_message=safety_message, language=language),
            outcome=Message.Outcome.HANDED_OFF,
            trace={
                "handoff": {
                    "reason": reason,
                    "rule": reason_detail,
                    "safety_message_sent": bool(safety_message),
                }
            },
        )
        events.messages_added(messages=[message])
    return handoff


def handoff_reply(*, safety_message: str, language: str) -> str:
    """What the assistant says as it hands over: the rule's safety message first."""
    paragraphs = [safety_message, in_language(HANDOFF_MESSAGE, language=language)]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def handoff_claim(*, handoff: Handoff, agent: AbstractBaseUser) -> Handoff:
    """Takes the conversation; of two agents claiming at once, exactly one wins."""
    with transaction.atomic():
        taken = Handoff.objects.filter(
            pk=handoff.pk, claimed_by__isnull=True, closed_at__isnull=True
        ).update(claimed_by=agent, claimed_at=timezone.now())
        if not taken:
            holder = Handoff.objects.select_related("claimed_by").get(pk=handoff.pk).claimed_by
            raise IllegalTransition(
                f"{holder.get_username()} has already taken this conversation."
                if holder
                else "This conversation is no longer waiting."
            )
        _transition(handoff.conversation, State.AGENT, actor=agent)
    handoff.refresh_from_db()
    return handoff


def handoff_agent_reply(*, handoff: Handoff, agent: AbstractBaseUser, text: str) -> Message:
    with transaction.atomic():
        conversation = _locked(handoff.conversation)
        if conversation.state != State.AGENT or handoff.claimed_by_id != agent.pk:
            raise IllegalTransition("Take the conversation before replying.")
        message = Message.objects.create(
            conversation=conversation, role=Message.Role.AGENT, text=text, author=agent
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
        Handoff.objects.filter(pk=handoff.pk, first_reply_at__isnull=True).update(
            first_reply_at=timezone.now()
        )
        events.messages_added(messages=[message])
    return message


def handoff_hand_back(*, handoff: Handoff, agent: AbstractBaseUser) -> Handoff:
    """The assistant answers again. Only the agent who took it, or an admin, may."""
    return _close(handoff=handoff, agent=agent, to=State.BOT)


def handoff_resolve(*, handoff: Handoff, agent: AbstractBaseUser) -> Handoff:
    """Done; the customer is asked to rate the help. Only the agent who took it, or an admin,
    may."""
    return _close(handoff=handoff, agent=agent, to=State.RESOLVED)


def conversation_reopen(*, conversation: Conversation) -> None:
    """A customer writing after a resolution is with the assistant again."""
    with transaction.atomic():
        _transition(conversation, State.BOT)


def ticket_email_set(*, handoff: Handoff, email: str) -> Handoff:
    """No one was online: the conversation becomes a ticket answered by e-mail."""
    return _handoff_update(handoff, customer_email=email)


def csat_record(*, handoff: Handoff, rating: int) -> Handoff:
    return _handoff_update(handoff, csat=rating)


def _handoff_update(handoff: Handoff, **fields) -> Handoff:
    """A change both sides see, though the state stays."""
    with transaction.atomic():
        Handoff.objects.filter(pk=handoff.pk).update(**fields)
        for name, value in fields.items():
            setattr(handoff, name, value)
        _pushes(handoff.conversation)
    return handoff


def note_add(
    *, conversation: Conversation, author: AbstractBaseUser | None, text: str
) -> AgentNote:
    """`author` None: Keel's own note, such as a ticket's e-mail that bounced."""
    with transaction.atomic():
        note = AgentNote.objects.create(conversation=conversation, author=author, text=text)
        events.notes_changed_after_commit(conversation=conversation)
    return note


def _close(*, handoff: Handoff, agent: AbstractBaseUser, to: State) -> Handoff:
    with transaction.atomic():
        _locked(handoff.conversation)
        # Read again under the lock: it may have been taken or closed since it was shown.
        current = Handoff.objects.select_related("claimed_by").get(pk=handoff.pk)
        if current.closed_at is not None:
            raise IllegalTransition("This conversation was already closed.")
        holder = current.claimed_by
        if (
            holder is not None
            and holder.pk != agent.pk
            and not workspace_admin(user=agent, workspace_id=handoff.conversation.workspace_id)
        ):
            raise NotAllowed(
                f"{holder.get_username()} has taken this conversation: only they or an admin "
                "may hand it back or resolve it."
            )
        _transition(handoff.conversation, to, actor=agent)
        Handoff.objects.filter(pk=handoff.pk).update(closed_at=timezone.now())
    handoff.refresh_from_db()
    return handoff


def _transition(
    conversation: Conversation,
    to: State,
    *,
    actor: AbstractBaseUser | None = None,
    detail: dict | None = None,
) -> None:
    """Call inside a transaction: the row lock holds until it commits."""
    locked = _locked(conversation)
    if (locked.state, to) not in ALLOWED:
        raise IllegalTransition(
            f"A conversation {locked.get_state_display().lower()} cannot go to "
            f"“{State(to).label.lower()}”."
        )
    Conversation.objects.filter(pk=conversation.pk).update(state=to)
    workspace_audit(
        workspace_id=locked.workspace_id,
        conversation=locked,
        kind=AuditEvent.Kind.HANDOFF,
        actor=actor,
        detail={"from": locked.state, "to": to, **(detail or {})},
    )
    conversation.state = to
    _pushes(conversation)


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _pushes(conversation: Conversation) -> None:
    events.handoff_changed_after_commit(conversation=conversation)
