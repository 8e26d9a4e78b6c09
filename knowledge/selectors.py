"""Reads for knowledge bases."""

import itertools
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from knowledge.languages import FALLBACK_CONFIG, TEXT_SEARCH_CONFIGS
from knowledge.models import Chunk, Document, KnowledgeBase, WebsiteSource


def knowledge_bases_in_workspace(*, workspace_slug: str) -> QuerySet[KnowledgeBase]:
    return KnowledgeBase.objects.filter(workspace__slug=workspace_slug).order_by("slug")


def knowledge_base_list(*, workspace_slug: str) -> QuerySet[KnowledgeBase]:
    """The workspace's knowledge bases with their document counts, for the overview page."""
    return knowledge_bases_in_workspace(workspace_slug=workspace_slug).annotate(
        document_count=Count("documents")
    )


def document_list(*, knowledge_base: KnowledgeBase) -> QuerySet[Document]:
    """Last changed first: what an admin just uploaded or touched is on top."""
    return Document.objects.filter(knowledge_base=knowledge_base).order_by("-updated_at", "-pk")


def document_chunks(*, document: Document) -> QuerySet[Chunk]:
    """Its passages in reading order, as search holds them (without their vectors)."""
    return (
        Chunk.objects.filter(document=document)
        .only(
            "document_id",
            "position",
            "heading",
            "page",
            "text",
            "token_count",
            "quarantined",
            "quarantine_reason",
        )
        .order_by("position")
    )


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
    """Whether any document is still waiting for or going through indexing, or a website
    sync that may bring some."""
    return (
        Document.objects.filter(
            knowledge_base=knowledge_base,
            status__in=[Document.Status.QUEUED, Document.Status.PROCESSING],
        ).exists()
        or WebsiteSource.objects.filter(
            knowledge_base=knowledge_base,
            status__in=[WebsiteSource.Status.QUEUED, WebsiteSource.Status.SYNCING],
        ).exists()
    )


def chunks_quarantined(*, knowledge_base: KnowledgeBase) -> QuerySet[Chunk]:
    return (
        Chunk.objects.filter(knowledge_base=knowledge_base, quarantined=True)
        .select_related("document")
        .order_by("document__title", "position")
    )


_LEXEME_CHUNKS_SQL = """
WITH bases AS (
    SELECT DISTINCT knowledge_base_id FROM knowledge_document WHERE id = ANY(%(documents)s)
)
SELECT asked.lexeme, coalesce(sum(counted.chunks), 0)
FROM unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, %(text)s))) AS asked(lexeme)
LEFT JOIN knowledge_lexeme counted
    ON counted.lexeme = asked.lexeme AND counted.language = %(language)s
    AND counted.knowledge_base_id IN (SELECT knowledge_base_id FROM bases)
GROUP BY asked.lexeme
UNION ALL  -- a row with no lexeme: whether those knowledge bases hold the language at all
SELECT NULL, count(*) FROM (
    SELECT 1 FROM knowledge_lexeme
    WHERE language = %(language)s AND knowledge_base_id IN (SELECT knowledge_base_id FROM bases)
    LIMIT 1
) held
"""


def lexeme_chunks(*, text: str, language: str, document_ids: list[int]) -> dict[str, int] | None:
    """Each lexeme of `text` (stemmed as full-text search stems `language`, stop words
    left out) and how many chunks of the documents' knowledge bases hold it: none names
    a thing those knowledge bases never mention. None when they have no chunk in
    `language` (nothing to tell)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _LEXEME_CHUNKS_SQL,
            {
                "documents": document_ids,
                "config": TEXT_SEARCH_CONFIGS.get(language, FALLBACK_CONFIG),
                "text": text,
                "language": language,
            },
        )
        rows = cursor.fetchall()
    counts = {lexeme: int(chunks) for lexeme, chunks in rows if lexeme is not None}
    held = any(lexeme is None and chunks for lexeme, chunks in rows)
    return counts if held else None


_LEXEME_DOCUMENTS_SQL = """
WITH searched AS (
    SELECT chunk.document_id, chunk.search FROM knowledge_chunk chunk
    JOIN knowledge_document document ON document.id = chunk.document_id
    WHERE chunk.knowledge_base_id = ANY(%(bases)s) AND chunk.language = %(language)s
        AND NOT chunk.quarantined AND NOT document.archived
)
SELECT asked.lexeme, count(DISTINCT searched.document_id)
FROM unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, %(text)s))) AS asked(lexeme)
LEFT JOIN searched ON searched.search @@ quote_literal(asked.lexeme)::tsquery
GROUP BY asked.lexeme
UNION ALL  -- a row with no lexeme: the documents searched
SELECT NULL, count(DISTINCT document_id) FROM searched
"""
# A word on this share of the pages or more tells none of them apart.
EVERYWHERE_SHARE = 0.75
EVERYWHERE_MIN_DOCUMENTS = 4  # of two or three pages, any word may be on all


def lexemes_everywhere(
    *, text: str, language: str, knowledge_bases: list[KnowledgeBase]
) -> frozenset[str]:
    """The lexemes of `text` (stemmed as full-text search stems `language`) that nearly
    every searched document of the knowledge bases holds (the company's name, "account"
    on a bank's pages): a sentence that leaves one out still speaks of it."""
    with connection.cursor() as cursor:
        cursor.execute(
            _LEXEME_DOCUMENTS_SQL,
            {
                "bases": [knowledge_base.pk for knowledge_base in knowledge_bases],
                "config": TEXT_SEARCH_CONFIGS.get(language, FALLBACK_CONFIG),
                "text": text,
                "language": language,
            },
        )
        rows = cursor.fetchall()
    documents = next(count for lexeme, count in rows if lexeme is None)
    if documents < EVERYWHERE_MIN_DOCUMENTS:
        return frozenset()
    return frozenset(
        lexeme
        for lexeme, count in rows
        if lexeme is not None and count >= EVERYWHERE_SHARE * documents
    )


_PHRASE_CHUNKS_SQL = """
SELECT asked.phrase, count(chunk.id)
FROM unnest(%(phrases)s::text[]) AS asked(phrase)
LEFT JOIN knowledge_chunk chunk
    ON chunk.search @@ phraseto_tsquery(%(config)s::regconfig, asked.phrase)
    AND chunk.language = %(language)s
    AND chunk.knowledge_base_id IN (
        SELECT DISTINCT knowledge_base_id FROM knowledge_document WHERE id = ANY(%(documents)s)
    )
GROUP BY asked.phrase
"""


def phrase_chunks(*, phrases: list[str], language: str, document_ids: list[int]) -> dict[str, int]:
    """How many chunks of the documents' knowledge bases hold each phrase, its words in
    order ("model 10"): the knowledge base may know the name with other numbers only."""
    with connection.cursor() as cursor:
        cursor.execute(
            _PHRASE_CHUNKS_SQL,
            {
                "phrases": phrases,
                "config": TEXT_SEARCH_CONFIGS.get(language, FALLBACK_CONFIG),
                "language": language,
                "documents": document_ids,
            },
        )
        return {phrase: int(chunks) for phrase, chunks in cursor.fetchall()}


_DOCUMENTS_GIVING_SQL = """
SELECT given.key, count(DISTINCT chunk.document_id)
FROM unnest(%(keys)s::text[], %(patterns)s::text[]) AS given(key, pattern)
JOIN knowledge_chunk chunk ON chunk.text ~* given.pattern
JOIN knowledge_document document ON document.id = chunk.document_id
JOIN knowledge_knowledgebase base ON base.id = chunk.knowledge_base_id
WHERE base.workspace_id = %(workspace)s AND NOT chunk.quarantined AND NOT document.archived
GROUP BY given.key
"""


def documents_giving(*, workspace_id: int, patterns: dict[str, str]) -> dict[str, int]:
    """For each key, how many searchable documents of the workspace have a passage that
    matches its pattern (a PostgreSQL regular expression, case-insensitive): one pass over
    the passages' text, read only for the rare answer sentence that needs it."""
    with connection.cursor() as cursor:
        cursor.execute(
            _DOCUMENTS_GIVING_SQL,
            {
                "keys": list(patterns),
                "patterns": list(patterns.values()),
                "workspace": workspace_id,
            },
        )
        return dict(cursor.fetchall())


def website_source_list(*, knowledge_base: KnowledgeBase) -> QuerySet[WebsiteSource]:
    """The knowledge base's website sources, each with how many pages it keeps."""
    return (
        WebsiteSource.objects.filter(knowledge_base=knowledge_base)
        .annotate(page_count=Count("pages"))
        .order_by("start_url")
    )


def website_sources_due(*, now: datetime | None = None) -> list[WebsiteSource]:
    """Sources on a schedule whose last sync ended longer ago than it says (or never ran),
    and that are not already waiting or syncing."""
    now = now or timezone.now()
    due = (
        Q(last_synced_at__isnull=True)
        | Q(schedule=WebsiteSource.Schedule.DAILY, last_synced_at__lte=now - timedelta(days=1))
        | Q(schedule=WebsiteSource.Schedule.WEEKLY, last_synced_at__lte=now - timedelta(days=7))
    )
    return list(
        WebsiteSource.objects.exclude(schedule=WebsiteSource.Schedule.MANUAL)
        .exclude(status__in=[WebsiteSource.Status.QUEUED, WebsiteSource.Status.SYNCING])
        .filter(due)
        .order_by("pk")
    )
