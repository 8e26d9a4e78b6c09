"""The audit trail: one event per decision the assistant or staff take about a message."""

from django.contrib.auth.models import AbstractBaseUser

from assistant.common.metrics import decision_counted
from assistant.models import AuditEvent, Conversation, Message


def message_audit(*, message: Message, kind: AuditEvent.Kind, detail: dict) -> AuditEvent:
    """Records `kind` about `message`, in its conversation and workspace; call it inside the
    transaction that stores the decision, so both commit or neither does."""
    decision_counted(kind=kind)
    return AuditEvent.objects.create(
        workspace_id=message.conversation.workspace_id,
        conversation_id=message.conversation_id,
        message=message,
        kind=kind,
        detail=detail,
    )


def workspace_audit(
    *,
    workspace_id: int,
    kind: AuditEvent.Kind,
    detail: dict,
    actor: AbstractBaseUser | None = None,
    conversation: Conversation | None = None,
) -> AuditEvent:
    """Records `kind` about the workspace's knowledge, settings or policy, or about a whole
    `conversation` (its state), by `actor` if staff."""
    decision_counted(kind=kind)
    return AuditEvent.objects.create(
        workspace_id=workspace_id, conversation=conversation, actor=actor, kind=kind, detail=detail
    )
