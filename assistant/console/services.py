"""Writes of the agent console: canned replies (audited) and read markers."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent, CannedReply, ReadMarker, Workspace


def canned_reply_create(
    *, workspace: Workspace, actor: AbstractBaseUser, shortcut: str, title: str, body: str
) -> CannedReply:
    with transaction.atomic():
        canned = CannedReply.objects.create(
            workspace=workspace, shortcut=shortcut, title=title, body=body
        )
        _audit(canned, actor=actor, action="created")
    return canned


def canned_reply_update(
    *, canned_reply: CannedReply, actor: AbstractBaseUser, shortcut: str, title: str, body: str
) -> CannedReply:
    with transaction.atomic():
        canned_reply.shortcut, canned_reply.title, canned_reply.body = shortcut, title, body
        canned_reply.save()
        _audit(canned_reply, actor=actor, action="changed")
    return canned_reply


def canned_reply_delete(*, canned_reply: CannedReply, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        _audit(canned_reply, actor=actor, action="deleted")
        canned_reply.delete()


def _audit(canned_reply: CannedReply, *, actor: AbstractBaseUser, action: str) -> None:
    workspace_audit(
        workspace_id=canned_reply.workspace_id,
        kind=AuditEvent.Kind.CANNED_REPLY,
        detail={"action": action, "shortcut": canned_reply.shortcut, "title": canned_reply.title},
        actor=actor,
    )


def read_marker_update(*, agent: AbstractBaseUser, conversation_id: int) -> None:
    """The agent has seen the conversation as it is now: what came before is read."""
    ReadMarker.objects.update_or_create(
        user=agent, conversation_id=conversation_id, defaults={"read_at": timezone.now()}
    )
