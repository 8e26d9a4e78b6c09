"""Reads for workspaces, their staff and their conversations."""

import math
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet, Sum
from django.utils import timezone

from assistant.models import (
    AgentNote,
    AgentPresence,
    AuditEvent,
    Citation,
    Conversation,
    Handoff,
    Membership,
    Message,
    PolicyCheck,
    PolicyCheckResult,
    PolicyVersion,
    VaultEntry,
    Workspace,
)
from knowledge.models import Document


def membership_first(*, user: AbstractBaseUser) -> Membership | None:
    """The membership a signed-in person lands in when they open Keel."""
    return Membership.objects.select_related("workspace").filter(user=user).order_by("pk").first()


def workspaces_administered(*, user: AbstractBaseUser) -> QuerySet[Workspace]:
    """The workspaces where the user is an admin, by name: the dashboard's switcher."""
    return Workspace.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.ADMIN
    ).order_by("name", "pk")


def workspace_by_public_key(*, public_key: str) -> Workspace | None:
    return Workspace.objects.filter(public_key=public_key).first()


def workspace_avatar_exists(*, name: str) -> bool:
    """Whether `name` (as stored, under MEDIA_ROOT) is a workspace's current avatar."""
    return Workspace.objects.filter(avatar=name).exists()


def conversation_of_customer(
    *, workspace: Workspace, visitor_key: str, customer_id: str
) -> Conversation | None:
    """The customer's latest conversation: by their verified id if the host signed one."""
    conversations = Conversation.objects.filter(workspace=workspace, sandbox=False)
    if customer_id:
        conversations = conversations.filter(customer_id=customer_id)
    else:
        conversations = conversations.filter(visitor_key=visitor_key, customer_id="")
    return conversations.order_by("-last_message_at").first()


def messages_for_display() -> QuerySet[Message]:
    """Messages with all their partial shows: citations, feedback, the workspace's look."""
    return Message.objects.select_related(
        "feedback", "author", "conversation__workspace"
    ).prefetch_related("citations")


def conversation_messages(*, conversation_id: int) -> QuerySet[Message]:
    return messages_for_display().filter(conversation_id=conversation_id)


def customer_questions_recent(*, conversation_id: int, count: int = 3) -> list[str]:
    """The customer's last few messages, oldest first: enough to tell their language."""
    texts = Message.objects.filter(
        conversation_id=conversation_id, role=Message.Role.CUSTOMER
    ).order_by("-created_at", "-pk")[:count]
    return list(reversed(texts.values_list("text", flat=True)))


def message_in_conversation(*, conversation_id: int, message_id: int) -> Message | None:
    """A message, only if it belongs to this conversation: customers reach no other."""
    return Message.objects.filter(conversation_id=conversation_id, pk=message_id).first()


def conversation_so_far(*, conversation_id: int) -> list[Message]:
    """Its finished messages, oldest first, with their ratings (without their traces): all
    that answering the next question reads of it, in one query. Questions still queued
    are not asked yet."""
    return list(
        Message.objects.filter(conversation_id=conversation_id, queued=False)
        .exclude(outcome=Message.Outcome.STREAMING)
        .select_related("feedback")
        .defer("trace")
        .order_by("pk")
    )


def question_queued_next(*, conversation_id: int) -> Message | None:
    """The oldest of its questions stored while another was answered, not answered yet."""
    return Message.objects.filter(conversation_id=conversation_id, queued=True).first()


def assistant_message_latest(*, conversation_id: int) -> Message | None:
    return (
        Message.objects.filter(conversation_id=conversation_id, role=Message.Role.ASSISTANT)
        .order_by("-pk")
        .first()
    )


def citation_for_customer(*, public_key: str, citation_id: str) -> Citation | None:
    return (
        Citation.objects.select_related("chunk", "document", "message__conversation__workspace")
        .filter(public_id=citation_id, message__conversation__workspace__public_key=public_key)
        .first()
    )


def answer_in_workspace(*, workspace: Workspace, message_id: int) -> Message | None:
    return (
        Message.objects.filter(
            pk=message_id, role=Message.Role.ASSISTANT, conversation__workspace=workspace
        )
        .select_related("policy", "conversation__workspace")
        .prefetch_related("citations")
        .first()
    )


def question_of(*, answer: Message) -> Message | None:
    """The customer message an answer replies to."""
    return (
        Message.objects.filter(
            conversation_id=answer.conversation_id, role=Message.Role.CUSTOMER, pk__lt=answer.pk
        )
        .order_by("-pk")
        .first()
    )


def message_audit_events(*, messages: list[Message]) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(message__in=messages).order_by("pk")


def audit_events(
    *,
    workspace: Workspace,
    kind: str = "",
    since: date | None = None,
    until: date | None = None,
    include_sandbox: bool = False,
) -> QuerySet[AuditEvent]:
    """The workspace's audit trail, newest first; the bounds are whole days, inclusive.
    Events in sandbox conversations (the publish gate's checks, evaluation runs, admins'
    trials) flood it, so they are left out unless asked for."""
    events = AuditEvent.objects.filter(workspace=workspace).select_related(
        "actor", "message", "conversation"
    )
    if not include_sandbox:
        events = events.exclude(conversation__sandbox=True)
    if kind:
        events = events.filter(kind=kind)
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    return events.order_by("-created_at", "-pk")


def policy_in_force(*, workspace_id: int) -> PolicyVersion:
    """The highest published version; the defaults (unsaved) until one is published."""
    published = PolicyVersion.objects.filter(workspace_id=workspace_id, number__isnull=False)
    return published.order_by("-number").first() or PolicyVersion(workspace_id=workspace_id)


def policy_draft(*, workspace_id: int) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(workspace_id=workspace_id, number__isnull=True).first()


def policy_for_conversation(*, conversation: Conversation) -> PolicyVersion:
    """An evaluation's pinned version; a sandbox tries the draft; customers get the
    version in force."""
    if conversation.pinned_policy_id:
        return PolicyVersion.objects.get(pk=conversation.pinned_policy_id)
    if conversation.sandbox:
        draft = policy_draft(workspace_id=conversation.workspace_id)
        if draft is not None:
            return draft
    return policy_in_force(workspace_id=conversation.workspace_id)


def policy_versions(*, workspace: Workspace) -> QuerySet[PolicyVersion]:
    """Published versions, newest first."""
    return (
        PolicyVersion.objects.filter(workspace=workspace, number__isnull=False)
        .select_related("author")
        .order_by("-number")
    )


def policy_version(*, workspace: Workspace, number: int) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(workspace=workspace, number=number).first()


def policy_check_latest(*, policy: PolicyVersion) -> PolicyCheck | None:
    return policy.checks.select_related("started_by").order_by("-pk").first() if policy.pk else None


def policy_check_results(*, policy_check: PolicyCheck) -> QuerySet[PolicyCheckResult]:
    return policy_check.results.select_related("answer")


def sandbox_conversation(*, workspace: Workspace, user: AbstractBaseUser) -> Conversation | None:
    """The staff member's latest sandbox chat in the workspace."""
    return (
        Conversation.objects.filter(
            workspace=workspace, sandbox=True, visitor_key=f"staff-{user.pk}"
        )
        .order_by("-pk")
        .first()
    )


PRESENCE_FRESH_MINUTES = 30  # a crashed server's sockets stop counting after this
DEFAULT_WAIT_MINUTES = 3
RECENT_CLAIMS = 20


def handoff_open(*, conversation_id: int) -> Handoff | None:
    return (
        Handoff.objects.filter(conversation_id=conversation_id, closed_at__isnull=True)
        .select_related("claimed_by", "conversation")
        .order_by("-pk")
        .first()
    )


def handoff_latest(*, conversation_id: int) -> Handoff | None:
    return (
        Handoff.objects.filter(conversation_id=conversation_id)
        .select_related("claimed_by")
        .order_by("-pk")
        .first()
    )


def customer_handoffs(*, workspace_id: int) -> QuerySet[Handoff]:
    """The workspace's handoffs of customers' conversations: never a sandbox's (an admin
    trying the policy, a check, an evaluation), which no person is waiting on."""
    return Handoff.objects.filter(
        conversation__workspace_id=workspace_id, conversation__sandbox=False
    )


def queue_waiting(*, workspace_id: int) -> QuerySet[Handoff]:
    """Handoffs no one has taken yet, longest waiting first."""
    return (
        customer_handoffs(workspace_id=workspace_id)
        .filter(claimed_by__isnull=True, closed_at__isnull=True)
        .select_related("conversation__workspace")
        .order_by("created_at", "pk")
    )


def queue_in_progress(*, workspace_id: int) -> QuerySet[Handoff]:
    return (
        customer_handoffs(workspace_id=workspace_id)
        .filter(claimed_by__isnull=False, closed_at__isnull=True)
        .select_related("conversation__workspace", "claimed_by")
        .order_by("claimed_at", "pk")
    )


def agents_online(*, workspace_id: int) -> list[AbstractBaseUser]:
    fresh = timezone.now() - timedelta(minutes=PRESENCE_FRESH_MINUTES)
    presences = AgentPresence.objects.filter(workspace_id=workspace_id, last_seen__gte=fresh)
    users = {presence.user_id: presence.user for presence in presences.select_related("user")}
    return sorted(users.values(), key=lambda user: user.get_username())


def queue_position(*, handoff: Handoff) -> int:
    """1 for the next conversation an agent will take."""
    return (
        queue_waiting(workspace_id=handoff.conversation.workspace_id)
        .filter(created_at__lte=handoff.created_at)
        .count()
    )


def expected_wait_minutes(*, workspace_id: int, position: int, agents: int) -> int:
    """The median wait of the last claimed handoffs, times the customers ahead, shared by
    the agents online."""
    waits = sorted(
        (handoff.claimed_at - handoff.created_at).total_seconds() / 60
        for handoff in customer_handoffs(workspace_id=workspace_id)
        .filter(claimed_at__isnull=False)
        .order_by("-claimed_at")[:RECENT_CLAIMS]
    )
    median = waits[len(waits) // 2] if waits else DEFAULT_WAIT_MINUTES
    return max(1, math.ceil(median * position / max(agents, 1)))


def conversation_for_staff(*, workspace: Workspace, conversation_id: int) -> Conversation | None:
    """A customer conversation of the workspace (never a sandbox)."""
    return Conversation.objects.filter(
        workspace=workspace, pk=conversation_id, sandbox=False
    ).first()


def conversations_search(
    *, workspace: Workspace, text: str = "", state: str = ""
) -> QuerySet[Conversation]:
    """Customer conversations, latest first, by words in their messages and by state."""
    conversations = Conversation.objects.filter(workspace=workspace, sandbox=False)
    if text:
        conversations = conversations.filter(messages__text__icontains=text).distinct()
    if state:
        conversations = conversations.filter(state=state)
    return conversations.order_by("-last_message_at")


def conversation_citations(*, conversation_id: int) -> QuerySet[Citation]:
    """The passages the assistant cited in the conversation, latest answer first."""
    return Citation.objects.filter(message__conversation_id=conversation_id).order_by(
        "-message_id", "marker"
    )


def conversation_notes(*, conversation_id: int) -> QuerySet[AgentNote]:
    return AgentNote.objects.filter(conversation_id=conversation_id).select_related("author")


def conversation_vault(*, conversation_id: int) -> QuerySet[VaultEntry]:
    return VaultEntry.objects.filter(message__conversation_id=conversation_id).order_by("pk")


def workspace_admin(*, user: AbstractBaseUser, workspace_id: int) -> bool:
    return Membership.objects.filter(
        user=user, workspace_id=workspace_id, role=Membership.Role.ADMIN
    ).exists()


def staff_membership(*, user: AbstractBaseUser, workspace_slug: str) -> Membership | None:
    """The user's agent or admin membership of the workspace, checked on every action."""
    return (
        Membership.objects.select_related("workspace")
        .filter(
            user=user,
            workspace__slug=workspace_slug,
            role__in=[Membership.Role.AGENT, Membership.Role.ADMIN],
        )
        .first()
    )


def knowledge_language(*, workspace_id: int) -> str:
    """The language most of the workspace's passages are written in ("" with none): what
    a question in another language is translated into for the search. Each document's
    language is told at indexing (`knowledge.languages`)."""
    most = (
        Document.objects.filter(knowledge_base__workspace_id=workspace_id, archived=False)
        .values("language")
        .annotate(chunks=Sum("chunk_count"))
        .filter(chunks__gt=0)
        .order_by("-chunks", "language")
        .first()
    )
    return most["language"] if most else ""
