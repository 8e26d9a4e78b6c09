"""An admin's changes to the workspace's knowledge bases, each audited in the transaction
that makes it; `knowledge.knowledge_bases` does the work."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent
from knowledge import knowledge_bases
from knowledge.models import KnowledgeBase


def knowledge_base_add(*, workspace_id: int, name: str, actor: AbstractBaseUser) -> KnowledgeBase:
    """Raises knowledge.knowledge_bases.NameTaken, auditing nothing."""
    with transaction.atomic():
        knowledge_base = knowledge_bases.knowledge_base_create(workspace_id=workspace_id, name=name)
        _knowledge_base_audit(knowledge_base=knowledge_base, action="create", actor=actor)
    return knowledge_base


def knowledge_base_name_change(
    *, knowledge_base: KnowledgeBase, name: str, actor: AbstractBaseUser
) -> KnowledgeBase:
    """Raises knowledge.knowledge_bases.NameTaken, auditing nothing."""
    before = knowledge_base.name
    with transaction.atomic():
        knowledge_bases.knowledge_base_rename(knowledge_base=knowledge_base, name=name)
        _knowledge_base_audit(
            knowledge_base=knowledge_base, action="rename", actor=actor, before=before
        )
    return knowledge_base


def knowledge_base_remove(*, knowledge_base: KnowledgeBase, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        deleted = knowledge_bases.knowledge_base_delete(knowledge_base=knowledge_base)
        _knowledge_base_audit(
            knowledge_base=knowledge_base, action="delete", actor=actor, documents=deleted
        )


def _knowledge_base_audit(
    *, knowledge_base: KnowledgeBase, action: str, actor: AbstractBaseUser, **more
) -> None:
    workspace_audit(
        workspace_id=knowledge_base.workspace_id,
        kind=AuditEvent.Kind.KNOWLEDGE_BASE,
        actor=actor,
        detail={
            "action": action,
            "knowledge_base": knowledge_base.slug,
            "name": knowledge_base.name,
            **more,
        },
    )
