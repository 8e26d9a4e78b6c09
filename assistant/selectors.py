"""Reads for workspaces, their staff and their conversations."""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from assistant.models import (
    AuditEvent,
    Citation,
    Conversation,
    Membership,
    Message,
    PolicyCheck,
    PolicyCheckResult,
    PolicyVersion,
    Workspace,
)

HISTORY_TURNS = 6


def membership_first(*, user: AbstractBaseUser) -> Membership | None:
    """The membership a signed-in person lands in when they open Keel."""
    return Membership.objects.select_related("workspace").filter(user=user).order_by("pk").first()


def workspace_by_public_key(*, public_key: str) -> Workspace | None:
    return Workspace.objects.filter(public_key=public_key).first()


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
    return Message.objects.select_related("feedback", "conversation__workspace").prefetch_related(
        "citations"
    )


def conversation_messages(*, conversation_id: int) -> QuerySet[Message]:
    return messages_for_display().filter(conversation_id=conversation_id)


def message_in_conversation(*, conversation_id: int, message_id: int) -> Message | None:
    """A message, only if it belongs to this conversation: customers reach no other."""
    return Message.objects.filter(conversation_id=conversation_id, pk=message_id).first()


def conversation_recent_turns(*, conversation_id: int, before_id: int) -> list[Message]:
    """The last few finished turns before a message, oldest first, for context."""
    recent = Message.objects.filter(conversation_id=conversation_id, pk__lt=before_id).exclude(
        outcome=Message.Outcome.STREAMING
    )
    return list(reversed(recent.order_by("-pk")[:HISTORY_TURNS]))


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
) -> QuerySet[AuditEvent]:
    """The workspace's audit trail, newest first; the bounds are whole days, inclusive."""
    events = AuditEvent.objects.filter(workspace=workspace).select_related("actor")
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
    """A sandbox tries the draft; customers get the version in force."""
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
