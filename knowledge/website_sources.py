"""An admin's writes on a knowledge base's website sources: add, sync now, remove."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from knowledge.ingest import document_delete
from knowledge.models import KnowledgeBase, WebsiteSource
from knowledge.signals import website_source_added, website_source_removed
from knowledge.website_tasks import website_source_sync_defer


def website_source_add(
    *,
    knowledge_base: KnowledgeBase,
    start_url: str,
    kind: str,
    include_patterns: str = "",
    exclude_patterns: str = "",
    schedule: str = WebsiteSource.Schedule.DAILY,
    page_cap: int = 200,
    actor: AbstractBaseUser | None,
) -> WebsiteSource:
    """A new source, its first sync queued in the same transaction."""
    with transaction.atomic():
        source = WebsiteSource.objects.create(
            knowledge_base=knowledge_base,
            start_url=start_url,
            kind=kind,
            include_patterns=include_patterns,
            exclude_patterns=exclude_patterns,
            schedule=schedule,
            page_cap=page_cap,
        )
        website_source_added.send(sender=WebsiteSource, source=source, actor=actor)
        website_source_sync_defer(source=source, actor=actor)
    return source


def website_source_sync_request(*, source: WebsiteSource, actor: AbstractBaseUser) -> None:
    """Sync now: queued for the worker, which fetches the site."""
    with transaction.atomic():
        website_source_sync_defer(source=source, actor=actor)


def website_source_remove(*, source: WebsiteSource, actor: AbstractBaseUser | None) -> None:
    """The source and the documents made from its pages (their files once this commits)."""
    with transaction.atomic():
        website_source_removed.send(sender=WebsiteSource, source=source, actor=actor)
        for page in source.pages.select_related("document"):
            document_delete(document=page.document)
        source.delete()
