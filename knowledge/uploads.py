"""Staff uploads and re-index requests: store the file, queue the indexing job, same transaction."""

from collections.abc import Iterable
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from knowledge.ingest import INDEX_VERSION, Action, IngestOutcome, document_submit
from knowledge.models import Document, KnowledgeBase
from knowledge.tasks import document_index_job


def documents_upload(
    *, knowledge_base: KnowledgeBase, files: Iterable[File]
) -> list[IngestOutcome]:
    """Store each uploaded file and queue its indexing job in the same transaction."""
    return [
        document_upload(
            knowledge_base=knowledge_base, source=Path(content.name).name, content=content
        )
        for content in files
    ]


def document_upload(*, knowledge_base: KnowledgeBase, source: str, content: File) -> IngestOutcome:
    """Store the file as `source` and queue its indexing job in the same transaction."""
    with transaction.atomic():
        outcome = document_submit(knowledge_base=knowledge_base, source=source, content=content)
        if outcome.action in (Action.ADDED, Action.UPDATED):
            document_index_job.defer(document_id=outcome.document.pk)
    return outcome


def document_reindex(*, document: Document) -> None:
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.QUEUED, error="", updated_at=timezone.now()
        )
        document_index_job.defer(document_id=document.pk)


def outdated_documents_reindex() -> int:
    """Queue every document indexed by an older `INDEX_VERSION` (after an upgrade)."""
    outdated = Document.objects.filter(
        status=Document.Status.READY, index_version__lt=INDEX_VERSION
    ).order_by("pk")
    for document in outdated:
        document_reindex(document=document)
    return len(outdated)


def document_dates_forget(*, document: Document) -> None:
    """Back to the dates the document's text states: it is indexed again to read them."""
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(dates_set_by=None, dates_set_at=None)
        if document.file:
            document_reindex(document=document)
