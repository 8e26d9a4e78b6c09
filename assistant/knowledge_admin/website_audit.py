"""The audit of website sources: `knowledge` announces their changes (it never imports
`assistant`), and each becomes an event in the same transaction."""

from django.dispatch import receiver

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent
from knowledge.signals import website_source_added, website_source_removed, website_source_synced


def _source_audit(*, source, kind: AuditEvent.Kind, actor, **detail) -> None:
    workspace_audit(
        workspace_id=source.knowledge_base.workspace_id,
        kind=kind,
        actor=actor,
        detail={"url": source.start_url, "knowledge_base": source.knowledge_base.slug, **detail},
    )


@receiver(website_source_added)
def website_source_added_audit(sender, *, source, actor, **kwargs) -> None:
    _source_audit(
        source=source, kind=AuditEvent.Kind.WEBSITE_ADDED, actor=actor, kind_of_source=source.kind
    )


@receiver(website_source_removed)
def website_source_removed_audit(sender, *, source, actor, **kwargs) -> None:
    _source_audit(source=source, kind=AuditEvent.Kind.WEBSITE_REMOVED, actor=actor)


@receiver(website_source_synced)
def website_source_synced_audit(sender, *, source, actor, **kwargs) -> None:
    _source_audit(
        source=source,
        kind=AuditEvent.Kind.WEBSITE_SYNCED,
        actor=actor,
        counts=source.last_counts,
        error=source.last_error,
    )
