"""Reads for knowledge bases."""

import itertools

from django.db.models import Count, QuerySet

from knowledge.models import Chunk, Document, KnowledgeBase


def knowledge_bases_in_workspace(*, workspace_slug: str) -> QuerySet[KnowledgeBase]:
    return KnowledgeBase.objects.filter(workspace__slug=workspace_slug).order_by("slug")


def knowledge_base_list(*, workspace_slug: str) -> QuerySet[KnowledgeBase]:
    """The workspace's knowledge bases with their document counts, for the overview page."""
    return knowledge_bases_in_workspace(workspace_slug=workspace_slug).annotate(
        document_count=Count("documents")
    )


def document_list(*, knowledge_base: KnowledgeBase) -> QuerySet[Document]:
    return Document.objects.filter(knowledge_base=knowledge_base).order_by("title", "pk")


def document_source_free(*, knowledge_base: KnowledgeBase, stem: str, suffix: str) -> str:
    """`stem` + `suffix`, or with the first free number (stem-2, stem-3...) if a document has it."""
    taken = set(
        Document.objects.filter(knowledge_base=knowledge_base, source__startswith=stem).values_list(
            "source", flat=True
        )
    )
    names = (f"{stem}{f'-{n}' if n > 1 else ''}{suffix}" for n in itertools.count(1))
    return next(name for name in names if name not in taken)


def documents_pending(*, knowledge_base: KnowledgeBase) -> bool:
    """Whether any document is still waiting for or going through indexing."""
    return Document.objects.filter(
        knowledge_base=knowledge_base,
        status__in=[Document.Status.QUEUED, Document.Status.PROCESSING],
    ).exists()


def chunks_quarantined(*, knowledge_base: KnowledgeBase) -> QuerySet[Chunk]:
    return (
        Chunk.objects.filter(knowledge_base=knowledge_base, quarantined=True)
        .select_related("document")
        .order_by("document__title", "position")
    )
