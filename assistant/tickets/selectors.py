"""Reads for e-mail tickets: a ticket's thread, its transcript, and the handoffs agents
want to hear of."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from assistant.conversations.selectors import conversation_messages
from assistant.models import (
    AgentPresence,
    Conversation,
    Handoff,
    Membership,
    Message,
    NotificationPreference,
    TicketMail,
    WaitNotification,
)


def ticket_mail_for_sending(*, mail_id: int) -> TicketMail | None:
    return (
        TicketMail.objects.select_related(
            "conversation__workspace", "message__author", "message__conversation"
        )
        .filter(pk=mail_id)
        .first()
    )


def ticket_thread_ids(*, conversation_id: int, before: TicketMail) -> list[str]:
    """The Message-IDs of the ticket's e-mails before `before`, oldest first: what its
    References header lists."""
    return list(
        TicketMail.objects.filter(conversation_id=conversation_id, pk__lt=before.pk)
        .exclude(internet_message_id="")
        .exclude(kind=TicketMail.Kind.BOUNCE)
        .values_list("internet_message_id", flat=True)
    )


def transcript_conversation(*, conversation_id: int) -> Conversation | None:
    """A customer's conversation (never a sandbox's), for its transcript link."""
    return (
        Conversation.objects.select_related("workspace")
        .filter(pk=conversation_id, sandbox=False)
        .first()
    )


def transcript_messages(*, conversation_id: int) -> QuerySet[Message]:
    """What the customer saw: finished messages, none still being written."""
    return conversation_messages(conversation_id=conversation_id).exclude(
        outcome=Message.Outcome.STREAMING
    )


def notification_preference(*, membership: Membership) -> NotificationPreference:
    """The member's choices, or the defaults (nothing on) when they never chose."""
    found = NotificationPreference.objects.filter(membership=membership).first()
    return found or NotificationPreference(membership=membership)


def waits_to_notify() -> list[tuple[Handoff, NotificationPreference]]:
    """Each waiting handoff of a workspace with nobody online in its console, paired with
    each agent who asked to hear of it after this long and was not told of it yet."""
    now = timezone.now()
    online = AgentPresence.objects.values("workspace_id")
    preferences = NotificationPreference.objects.filter(
        by_email=True, membership__user__is_active=True
    ).select_related("membership__user", "membership__workspace")
    pairs = []
    for preference in preferences:
        told = WaitNotification.objects.filter(user_id=preference.membership.user_id).values(
            "handoff_id"
        )
        waiting = (
            Handoff.objects.filter(
                conversation__workspace_id=preference.membership.workspace_id,
                conversation__sandbox=False,
                conversation__state=Conversation.State.WAITING,
                closed_at__isnull=True,
                claimed_by__isnull=True,
                created_at__lte=now - timedelta(minutes=preference.after_minutes),
            )
            .exclude(conversation__workspace_id__in=online)
            .exclude(pk__in=told)
            .select_related("conversation__workspace")
        )
        pairs += [(handoff, preference) for handoff in waiting]
    return pairs
