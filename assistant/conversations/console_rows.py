"""The console's conversation list: who each customer is, what they need in one line,
unread messages and how long they wait. Here, below the console, because the pushes after a
commit (`partials`) render the same list as the console's pages."""

import enum
import hashlib
import textwrap
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser

from assistant.conversations.selectors import conversations_search, queue_waiting
from assistant.models import Conversation, Handoff, Message, ReadMarker, Workspace

LIST_LENGTH = 50
NEED_CHARS = 110
# A customer message of fewer words ("I want a person.", "hello?") says little of the need.
SUBSTANTIVE_WORDS = 5


class Show(enum.StrEnum):
    """The list's filters."""

    WAITING = "waiting"
    MINE = "mine"
    TICKETS = "tickets"
    ALL = "all"


@dataclass(frozen=True)
class ConsoleRow:
    conversation: Conversation
    handoff: Handoff | None
    name: str
    need: str
    unread: int
    since: datetime  # waiting since the handoff if one is open, else the last message

    @property
    def ticket(self) -> bool:
        return bool(self.handoff and self.handoff.customer_email)


def visitor_name(*, key: str) -> str:
    """A stable, readable name for a customer Keel knows nothing of ("Visitor 4821"), the
    same for the same visitor key on every page and every day."""
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4]) % 9000 + 1000
    return f"Visitor {number}"


def customer_name(*, conversation: Conversation, handoff: Handoff | None) -> str:
    """The e-mail the customer left when known, else their stable visitor name (from the
    host's signed id if it gave one)."""
    if handoff is not None and handoff.customer_email:
        return handoff.customer_email
    return visitor_name(key=conversation.customer_id or conversation.visitor_key)


def customer_need(*, handoff: Handoff | None, questions: list[str]) -> str:
    """One line of what the customer needs: why a person was asked for, and the latest
    customer message that says something (a bare "a person please" does not; with no
    message, the handoff packet's summary), shortened at a word."""
    said = [" ".join(question.split()) for question in questions]
    substantive = [text for text in said if len(text.split()) >= SUBSTANTIVE_WORDS]
    packet = [handoff.summary] if handoff is not None and handoff.summary else [""]
    latest = (substantive or said or packet)[-1]
    line = latest
    if handoff is not None:
        reason = handoff.get_reason_display()
        if handoff.reason_detail:
            reason = f"{reason} ({handoff.reason_detail})"
        line = f"{reason}: {latest}" if latest else reason
    return textwrap.shorten(line, width=NEED_CHARS, placeholder=" …") if line else ""


def console_rows(
    *, workspace: Workspace, agent: AbstractBaseUser, show: Show, text: str = ""
) -> list[ConsoleRow]:
    """The console's list for `agent`: waiting (longest first), mine (claimed by the agent),
    tickets (e-mail left, still open) or all (latest first), optionally by words."""
    conversations = conversations_search(workspace=workspace, text=text).select_related("workspace")
    open_handoffs = Handoff.objects.filter(closed_at__isnull=True)
    if show is Show.WAITING:
        ids = open_handoffs.filter(claimed_by__isnull=True).values("conversation_id")
        conversations = conversations.filter(pk__in=ids).order_by("started_at", "pk")
    elif show is Show.MINE:
        conversations = conversations.filter(
            pk__in=open_handoffs.filter(claimed_by=agent).values("conversation_id")
        )
    elif show is Show.TICKETS:
        ids = open_handoffs.exclude(customer_email="").values("conversation_id")
        conversations = conversations.filter(pk__in=ids).order_by("started_at", "pk")
    conversations = list(conversations[:LIST_LENGTH])
    return _rows(conversations=conversations, agent=agent, show=show)


def waiting_rows(*, workspace_id: int) -> list[ConsoleRow]:
    """The workspace's queue, the same for every agent (pushed to all consoles at once):
    longest waiting first, with no one's unread counts."""
    conversations = list(
        Conversation.objects.filter(
            pk__in=queue_waiting(workspace_id=workspace_id).values("conversation_id")
        ).select_related("workspace")
    )
    return _rows(conversations=conversations, agent=None, show=Show.WAITING)


def _rows(*, conversations: list[Conversation], agent: AbstractBaseUser | None, show: Show):
    ids = [conversation.pk for conversation in conversations]
    handoffs = {
        handoff.conversation_id: handoff
        for handoff in Handoff.objects.filter(conversation_id__in=ids)
        .select_related("claimed_by")
        .order_by("conversation_id", "-pk")
        .distinct("conversation_id")
    }
    reads = dict(
        ReadMarker.objects.filter(user=agent, conversation_id__in=ids).values_list(
            "conversation_id", "read_at"
        )
        if agent is not None
        else []
    )
    said: dict[int, list[str]] = {pk: [] for pk in ids}
    unread = dict.fromkeys(ids, 0)
    for conversation_id, text, created_at in (
        Message.objects.filter(conversation_id__in=ids, role=Message.Role.CUSTOMER)
        .order_by("pk")
        .values_list("conversation_id", "text", "created_at")
    ):
        said[conversation_id].append(text)
        read_at = reads.get(conversation_id)
        if agent is not None and (read_at is None or created_at > read_at):
            unread[conversation_id] += 1
    rows = []
    for conversation in conversations:
        handoff = handoffs.get(conversation.pk)
        is_open = handoff is not None and handoff.closed_at is None
        rows.append(
            ConsoleRow(
                conversation=conversation,
                handoff=handoff,
                name=customer_name(conversation=conversation, handoff=handoff),
                need=customer_need(
                    handoff=handoff if is_open else None, questions=said[conversation.pk]
                ),
                unread=unread[conversation.pk],
                since=handoff.created_at if is_open else conversation.last_message_at,
            )
        )
    if show in (Show.WAITING, Show.TICKETS):  # longest waiting first
        rows.sort(key=lambda row: row.since)
    return rows
