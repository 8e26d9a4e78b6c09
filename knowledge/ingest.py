"""Writes for knowledge bases: accept files as documents, index them, remove them.

Indexing embeds first and writes after, in one short transaction: a document is either
fully indexed (all chunks, status ready) or not at all, whoever kills the process when.
"""

import hashlib
import itertools
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from knowledge.chunking import ChunkDraft, sections_chunk
from knowledge.embeddings import texts_embed
from knowledge.models import Chunk, Document, KnowledgeBase
from knowledge.parsing import (
    EMPTY_FILE,
    ParsedDocument,
    UnreadableDocument,
    document_parse,
    unsupported_type_problem,
)
from knowledge.sentences import vectors_packed
from knowledge.signals import chunks_stored

# Documents whose chunks the folder ingest embeds in one model call. On 500 SciFact
# abstracts (2 cores), pipeline/bare-encode throughput was 0.58-0.67 with 16, 0.75-0.84
# with 64; 128 and 256 were no better than 64 and leave less to overlap.
EMBEDDING_GROUP_SIZE = 64


# Bump when parsing or chunking changes what a file becomes: every document indexed by an
# older version is then re-indexed by the next ingest, even if its file is unchanged.
# 2: PDF lines wrapped mid-sentence are joined.
# 3: chunks are screened for instructions to an assistant (see `signals.chunks_stored`).
# 4: text a web page hides from readers is kept apart and quarantined.
# 5: each chunk's sentences are embedded too (see `knowledge.sentences`).
INDEX_VERSION = 5
HIDDEN_REASON = "Hidden in the page: its readers never see this text"


class Action(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    REMOVED = "removed"


@dataclass(frozen=True)
class IngestOutcome:
    source: str
    action: Action
    document: Document | None = None
    reason: str = ""


def document_submit(*, knowledge_base: KnowledgeBase, source: str, content: File) -> IngestOutcome:
    """Record a file as the current version of `source`; new content is left queued.

    A file that is too big, empty or of an unknown type fails here, before it is stored;
    an earlier good version of the same source is left as it was.
    """
    existing = Document.objects.filter(knowledge_base=knowledge_base, source=source).first()
    problem = _submission_problem(content)
    if problem:
        if existing is None:
            existing = Document.objects.create(
                knowledge_base=knowledge_base,
                source=source,
                title=Path(content.name).name,
                size_bytes=content.size,
                status=Document.Status.FAILED,
                error=problem,
            )
        return IngestOutcome(source=source, action=Action.FAILED, document=existing, reason=problem)

    content_hash = _sha256(content)
    if (
        existing
        and existing.content_hash == content_hash
        and existing.status != Document.Status.FAILED
        and existing.index_version == INDEX_VERSION
    ):
        return IngestOutcome(source=source, action=Action.UNCHANGED, document=existing)
    twin = (
        Document.objects.filter(knowledge_base=knowledge_base, content_hash=content_hash)
        .exclude(source=source)
        .first()
    )
    if twin:
        return IngestOutcome(
            source=source,
            action=Action.SKIPPED,
            document=twin,
            reason=f"Same content as {twin.source!r}, already in this knowledge base.",
        )

    document = existing or Document(knowledge_base=knowledge_base, source=source)
    old_file = document.file.name if document.file else ""
    document.title = document.title or Path(content.name).name
    document.content_hash = content_hash
    document.size_bytes = content.size
    document.status = Document.Status.QUEUED
    document.error = ""
    document.file.save(Path(content.name).name, content, save=False)
    document.save()
    if old_file and old_file != document.file.name:
        _file_delete_on_commit(document.file.storage, old_file)
    return IngestOutcome(
        source=source, action=Action.UPDATED if existing else Action.ADDED, document=document
    )


def _submission_problem(content: File) -> str:
    limit = settings.KEEL_MAX_UPLOAD_BYTES
    unsupported = unsupported_type_problem(Path(content.name).suffix)
    if unsupported:
        return unsupported
    if content.size == 0:
        return EMPTY_FILE
    if content.size > limit:
        return f"The file is {filesizeformat(content.size)}; the limit is {filesizeformat(limit)}."
    return ""


def _sha256(content: File) -> str:
    digest = hashlib.sha256()
    for piece in content.chunks():
        digest.update(piece)
    content.seek(0)
    return digest.hexdigest()


@dataclass(frozen=True)
class PreparedIndex:
    """What indexing computes before it touches the database: parsed, chunked, embedded."""

    parsed: ParsedDocument | None = None
    drafts: list[ChunkDraft] = field(default_factory=list)
    vectors: np.ndarray | None = None
    sentence_vectors: list[np.ndarray] = field(default_factory=list)  # one array per draft
    problem: str = ""


def document_index(*, document: Document) -> Document:
    """Parse, chunk and embed the stored file, then swap the document's chunks in one go."""
    _documents_mark_processing([document])
    [indexed] = _documents_store(documents=[document], prepared=_documents_prepare([document]))
    return indexed


def _documents_mark_processing(documents: list[Document]) -> None:
    Document.objects.filter(pk__in=[document.pk for document in documents]).update(
        status=Document.Status.PROCESSING, updated_at=timezone.now()
    )


def _documents_prepare(documents: list[Document]) -> list[PreparedIndex]:
    """The slow part, with no database access, so it can run beside other documents' writes."""
    return _chunks_embed(_documents_chunk(documents))


def _documents_chunk(documents: list[Document]) -> list[PreparedIndex]:
    """Each stored file parsed and chunked, or why it cannot be."""
    chunked: list[PreparedIndex] = []
    for document in documents:
        try:
            with document.file.open("rb") as stored:
                parsed = document_parse(filename=Path(document.file.name).name, data=stored.read())
            chunked.append(
                PreparedIndex(parsed=parsed, drafts=sections_chunk(sections=parsed.sections))
            )
        except UnreadableDocument as problem:
            chunked.append(PreparedIndex(problem=str(problem)))
        except FileNotFoundError:
            chunked.append(PreparedIndex(problem="The stored file is missing; upload it again."))
    return chunked


def _chunks_embed(chunked: list[PreparedIndex]) -> list[PreparedIndex]:
    """All the documents' chunks and sentences go to the model in one call: small files
    then fill its batches instead of each paying for a half-empty one."""
    drafts = [draft for prepared in chunked for draft in prepared.drafts]
    sentences = [draft.sentences for draft in drafts]
    vectors = texts_embed(
        texts=[*(draft.embedding_input for draft in drafts), *itertools.chain(*sentences)]
    )
    by_draft = np.split(vectors[len(drafts) :], np.cumsum([len(s) for s in sentences])[:-1])
    embedded, start = [], 0
    for prepared in chunked:
        end = start + len(prepared.drafts)
        embedded.append(
            replace(prepared, vectors=vectors[start:end], sentence_vectors=by_draft[start:end])
        )
        start = end
    return embedded


def _documents_store(*, documents: list[Document], prepared: list[PreparedIndex]) -> list[Document]:
    """Each document's new chunks swapped in, or why it failed recorded, in one transaction
    for them all: each is still indexed entirely or not at all, and a group of documents
    pays for one commit and one insert of its chunks."""
    now = timezone.now()
    with transaction.atomic():
        there = _still_there(documents)
        stored = [
            (document, index)
            for document, index in zip(documents, prepared, strict=True)
            if document.pk in there
        ]
        Chunk.objects.filter(document__in=[document for document, _ in stored]).delete()
        chunks = Chunk.objects.bulk_create(
            chunk
            for document, index in stored
            if not index.problem
            for chunk in _chunks(document=document, prepared=index)
        )
        failed = [document for document, index in stored if index.problem]
        indexed = [document for document, index in stored if not index.problem]
        for document, index in stored:
            _document_outcome(document=document, prepared=index, now=now)
        Document.objects.bulk_update(failed, fields=FAILED_FIELDS)
        Document.objects.bulk_update(indexed, fields=INDEXED_FIELDS)
        # Receivers may quarantine chunks: in this transaction, before anyone can search them.
        for document in indexed:
            chunks_stored.send(
                sender=Document,
                document=document,
                chunks=[chunk for chunk in chunks if chunk.document_id == document.pk],
            )
    return documents


FAILED_FIELDS = ["status", "error", "chunk_count", "updated_at"]
INDEXED_FIELDS = [*FAILED_FIELDS, "index_version", "title", "page_count", "indexed_at"]


def _chunks(*, document: Document, prepared: PreparedIndex) -> Iterator[Chunk]:
    for position, (draft, vector, sentence_vectors) in enumerate(
        zip(prepared.drafts, prepared.vectors, prepared.sentence_vectors, strict=True)
    ):
        yield Chunk(
            document=document,
            knowledge_base_id=document.knowledge_base_id,
            position=position,
            heading=draft.heading[: Chunk._meta.get_field("heading").max_length],
            page=draft.page,
            text=draft.text,
            token_count=draft.token_count,
            embedding=vector,
            sentences=draft.sentences,
            sentence_embeddings=vectors_packed(sentence_vectors),
            quarantined=draft.hidden,
            quarantine_reason=HIDDEN_REASON if draft.hidden else "",
        )


def _document_outcome(*, document: Document, prepared: PreparedIndex, now: datetime) -> None:
    """The document's fields as indexing left it (saved by the caller)."""
    document.updated_at = now
    if prepared.problem:
        document.status = Document.Status.FAILED
        document.error = prepared.problem
        document.chunk_count = 0
        return
    document.title = prepared.parsed.title[: Document._meta.get_field("title").max_length]
    document.page_count = prepared.parsed.page_count
    document.chunk_count = len(prepared.drafts)
    document.status = Document.Status.READY
    document.error = ""
    document.indexed_at = now
    document.index_version = INDEX_VERSION


def _still_there(documents: list[Document]) -> set[int]:
    """Lock the documents' rows; those deleted while they were being indexed are missing.

    Saving a deleted document would insert it again, chunks and all.
    """
    return set(
        Document.objects.select_for_update()
        .filter(pk__in=[document.pk for document in documents])
        .values_list("pk", flat=True)
    )


def files_ingest(
    *, knowledge_base: KnowledgeBase, paths: Iterable[Path]
) -> Iterator[IngestOutcome]:
    """Submit and index files from disk in this process (the `ingest` command).

    Documents are embedded in groups, on a second thread (the model releases the GIL):
    while one group is embedded, the next is submitted and the previous one stored.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as embedder:
        waiting: tuple[list[IngestOutcome], Future[list[PreparedIndex]]] | None = None
        group: list[IngestOutcome] = []
        for path in paths:
            outcome = _file_submit(knowledge_base=knowledge_base, path=path)
            if outcome.action not in (Action.ADDED, Action.UPDATED):
                yield outcome
                continue
            group.append(outcome)
            if len(group) == EMBEDDING_GROUP_SIZE:
                preparing = _group_prepare(group, embedder=embedder)
                if waiting:
                    yield from _indexed_outcomes(*waiting)
                waiting, group = (group, preparing), []
        if waiting:
            yield from _indexed_outcomes(*waiting)
        if group:
            yield from _indexed_outcomes(group, _group_prepare(group, embedder=embedder))


def _group_prepare(
    group: list[IngestOutcome], *, embedder: ThreadPoolExecutor
) -> Future[list[PreparedIndex]]:
    """The group marked as processing and chunked here (the embedding thread has no
    database, and never waits for the parser), then embedded on the embedding thread."""
    documents = [outcome.document for outcome in group]
    _documents_mark_processing(documents)
    return embedder.submit(_chunks_embed, _documents_chunk(documents))


def _file_submit(*, knowledge_base: KnowledgeBase, path: Path) -> IngestOutcome:
    source = str(path.resolve())
    try:
        with path.open("rb") as handle:
            return document_submit(
                knowledge_base=knowledge_base, source=source, content=File(handle)
            )
    except OSError as error:
        return IngestOutcome(
            source=source, action=Action.FAILED, reason=f"Cannot read the file ({error})."
        )


def _indexed_outcomes(
    outcomes: list[IngestOutcome], preparing: Future[list[PreparedIndex]]
) -> Iterator[IngestOutcome]:
    documents = _documents_store(
        documents=[outcome.document for outcome in outcomes], prepared=preparing.result()
    )
    for outcome, document in zip(outcomes, documents, strict=True):
        if document.status == Document.Status.FAILED:
            outcome = replace(outcome, action=Action.FAILED, reason=document.error)
        yield outcome


def folder_files(*, path: Path) -> list[Path]:
    """The files a folder ingest covers: every visible file below `path`, in a stable order."""
    if path.is_file():
        return [path]
    return sorted(
        file
        for file in path.rglob("*")
        if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts)
    )


def documents_remove_missing(
    *, knowledge_base: KnowledgeBase, folder: Path, present: Iterable[Path]
) -> list[IngestOutcome]:
    """Delete the documents ingested from `folder` whose files are no longer there."""
    prefix = str(folder.resolve()) + os.sep
    kept = {str(path.resolve()) for path in present}
    gone = Document.objects.filter(
        knowledge_base=knowledge_base, source__startswith=prefix
    ).exclude(source__in=kept)
    outcomes = []
    for document in gone:
        document_delete(document=document)
        outcomes.append(IngestOutcome(source=document.source, action=Action.REMOVED))
    return outcomes


def document_delete(*, document: Document) -> None:
    with transaction.atomic():
        document.delete()
        if document.file:
            _file_delete_on_commit(document.file.storage, document.file.name)


def _file_delete_on_commit(storage: Storage, name: str) -> None:
    """A file is removed once the change that let go of it commits: a rollback keeps it."""
    transaction.on_commit(lambda: storage.delete(name))
