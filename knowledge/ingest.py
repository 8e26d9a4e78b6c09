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
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from knowledge.chunking import ChunkDraft, sections_chunk
from knowledge.conflicts import contradictions_store, sentence_gives_value
from knowledge.dates import Period, stated_period, stated_replacement
from knowledge.embeddings import texts_embed
from knowledge.languages import text_language
from knowledge.models import DEFAULT_LANGUAGE, Chunk, Document, KnowledgeBase
from knowledge.parsing import (
    EMPTY_FILE,
    ParsedDocument,
    UnreadableDocument,
    document_parse,
    filename_title,
    sections_held_apart,
    unsupported_type_problem,
)
from knowledge.sentences import vectors_packed
from knowledge.signals import chunks_stored, sentences_screen
from knowledge.supersession import documents_supersede

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
# 6: each document's effective date is read (see `knowledge.dates`).
# 7: a temporary notice's period is read too.
# 8: a chunk that starts inside a table repeats the table's header line.
# 9: sentences giving a value are embedded with their heading too (`knowledge.conflicts`).
# 10: sentences that instruct an assistant are held apart; hidden text says how it hides.
INDEX_VERSION = 10


class Action(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    REMOVED = "removed"
    RENAMED = "renamed"


@dataclass(frozen=True)
class IngestOutcome:
    source: str
    action: Action
    document: Document | None = None
    reason: str = ""
    previous_source: str = ""  # of a renamed document


def document_submit(*, knowledge_base: KnowledgeBase, source: str, content: File) -> IngestOutcome:
    """Record a file as the current version of `source`; new content is left queued.

    A file that is too big, empty or of an unknown type fails here, before it is stored;
    an earlier good version of the same source is left as it was. A new version of an
    indexed document waits beside it (`pending_file`): the old one is searched until the
    new one is indexed, and stays if the new one cannot be read.
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
    if existing and _is_current(existing, content_hash=content_hash):
        return IngestOutcome(source=source, action=Action.UNCHANGED, document=existing)
    twin = (
        Document.objects.filter(
            Q(content_hash=content_hash) | Q(pending_hash=content_hash),
            knowledge_base=knowledge_base,
        )
        .exclude(source=source)
        .first()
    )
    if twin:
        return IngestOutcome(
            source=source,
            action=Action.SKIPPED,
            document=twin,
            reason=f"Same content as {twin.file_name!r}, already in this knowledge base.",
        )

    document = existing or Document(knowledge_base=knowledge_base, source=source)
    document.title = document.title or Path(content.name).name
    document.status = Document.Status.QUEUED
    document.error = ""
    if _has_indexed_version(document):
        _file_replace(document.pending_file, content=content)
        document.pending_hash = content_hash
    else:
        _file_replace(document.file, content=content)
        document.content_hash = content_hash
        document.size_bytes = content.size
    document.save()
    return IngestOutcome(
        source=source, action=Action.UPDATED if existing else Action.ADDED, document=document
    )


def _is_current(document: Document, *, content_hash: str) -> bool:
    """The same content is already indexed by this version of Keel, or queued."""
    if document.pending_file:
        return document.pending_hash == content_hash
    return (
        document.content_hash == content_hash
        and not document.error
        and document.index_version == INDEX_VERSION
    )


def _has_indexed_version(document: Document) -> bool:
    return document.indexed_at is not None and document.chunk_count > 0


def _file_replace(stored: FieldFile, *, content: File) -> None:
    """Store `content` in the field; the file it held goes once the change commits."""
    old_name = stored.name
    stored.save(Path(content.name).name, content, save=False)
    if old_name and old_name != stored.name:
        _file_delete_on_commit(stored.storage, old_name)


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
    headed_vectors: list[np.ndarray] = field(default_factory=list)  # the same, heading in front
    effective_date: date | None = None
    period: Period = field(default_factory=Period)
    language: str = DEFAULT_LANGUAGE
    replaces: str = ""  # what its text says it replaces (`knowledge.supersession`)
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
    return _chunks_embed_screened(_documents_chunk(documents))


def _chunks_embed_screened(chunked: list[PreparedIndex]) -> list[PreparedIndex]:
    """Embedded, then each document's sentences that instruct an assistant held apart."""
    return [_instructions_held(prepared) for prepared in _chunks_embed(chunked)]


def _instructions_held(prepared: PreparedIndex) -> PreparedIndex:
    """The sentences are screened on the vectors just computed (`signals.sentences_screen`:
    the assistant's `rails.document_instructions`); a document with some to hold, which
    is rare, is chunked and embedded again without them, so neither its passages' text
    nor their vectors carry an instruction, and the held sentences become passages of
    their own, quarantined."""
    screened = [
        (draft, vectors)
        for draft, vectors in zip(prepared.drafts, prepared.sentence_vectors, strict=True)
        if not draft.held and draft.sentences
    ]
    if not screened:
        return prepared
    sentences = [sentence for draft, _ in screened for sentence in draft.sentences]
    whys = _sentences_why_held(
        sentences=sentences, vectors=np.concatenate([vectors for _, vectors in screened])
    )
    held = {sentence: why for sentence, why in zip(sentences, whys, strict=True) if why}
    if not held:
        return prepared
    sections = sections_held_apart(sections=prepared.parsed.sections, held=held)
    [rechunked] = _chunks_embed(
        [
            replace(
                prepared,
                parsed=replace(prepared.parsed, sections=sections),
                drafts=sections_chunk(sections=sections, language=prepared.language),
            )
        ]
    )
    return rechunked


def _sentences_why_held(*, sentences: list[str], vectors: np.ndarray) -> list[str]:
    """Each sentence's first reason to be held that a receiver gives, "" for none."""
    answers = [
        whys
        for _, whys in sentences_screen.send(sender=Chunk, sentences=sentences, vectors=vectors)
    ]
    return [next(filter(None, whys), "") for whys in zip(*answers, strict=True)] or [""] * len(
        sentences
    )


def _documents_chunk(documents: list[Document]) -> list[PreparedIndex]:
    """Each stored file parsed and chunked, or why it cannot be."""
    chunked: list[PreparedIndex] = []
    for document in documents:
        try:
            version = _version_to_index(document)
            with version.open("rb") as stored:
                parsed = document_parse(filename=Path(version.name).name, data=stored.read())
            effective_date = _effective_date(document=document, parsed=parsed)
            language = _document_language(parsed)
            replacement = stated_replacement(f"{parsed.title}\n{parsed.visible_text}")
            chunked.append(
                PreparedIndex(
                    parsed=parsed,
                    drafts=sections_chunk(sections=parsed.sections, language=language),
                    effective_date=effective_date,
                    period=stated_period(
                        f"{parsed.title}\n{parsed.visible_text}",
                        written=effective_date or timezone.localdate(),
                    ),
                    language=language,
                    replaces=replacement.statement[:REPLACES_LENGTH] if replacement else "",
                )
            )
        except UnreadableDocument as problem:
            chunked.append(PreparedIndex(problem=str(problem)))
        except FileNotFoundError:
            chunked.append(PreparedIndex(problem="The stored file is missing; upload it again."))
    return chunked


def _document_language(parsed: ParsedDocument) -> str:
    """Told from what its readers see: text hidden in a page may be in any language."""
    sections = [section for section in parsed.sections if not section.held] or parsed.sections
    return text_language(text="\n".join(section.text for section in sections))


def _effective_date(*, document: Document, parsed: ParsedDocument) -> date | None:
    """The date its text states, else the modification date of the file it was ingested
    from, when that is a file on disk."""
    if parsed.effective_date or not Path(document.source).is_absolute():
        return parsed.effective_date
    try:
        modified = Path(document.source).stat().st_mtime
    except OSError:  # moved or removed since: no date rather than a wrong one
        return None
    return datetime.fromtimestamp(modified, tz=UTC).date()


def _version_to_index(document: Document) -> FieldFile:
    return document.pending_file or document.file


def _chunks_embed(chunked: list[PreparedIndex]) -> list[PreparedIndex]:
    """All the documents' chunks and sentences go to the model in one call: small files
    then fill its batches instead of each paying for a half-empty one. A sentence giving a
    value is embedded a second time, its heading in front (`knowledge.conflicts`)."""
    drafts = [draft for prepared in chunked for draft in prepared.drafts]
    sentences = [draft.sentences for draft in drafts]
    in_order = ((draft.heading, sentence) for draft in drafts for sentence in draft.sentences)
    valued = [
        (index, f"{heading}\n{sentence}")
        for index, (heading, sentence) in enumerate(in_order)
        if sentence_gives_value(sentence)
    ]
    vectors = texts_embed(
        texts=[
            *(draft.embedding_input for draft in drafts),
            *itertools.chain(*sentences),
            *(headed for _, headed in valued),
        ]
    )
    sentence_count = sum(len(s) for s in sentences)
    plain = vectors[len(drafts) : len(drafts) + sentence_count]
    headed = np.zeros_like(plain)
    headed[[index for index, _ in valued]] = vectors[len(drafts) + sentence_count :]
    bounds = np.cumsum([len(s) for s in sentences])[:-1]
    by_draft, headed_by_draft = np.split(plain, bounds), np.split(headed, bounds)
    embedded, start = [], 0
    for prepared in chunked:
        end = start + len(prepared.drafts)
        embedded.append(
            replace(
                prepared,
                vectors=vectors[start:end],
                sentence_vectors=by_draft[start:end],
                headed_vectors=headed_by_draft[start:end],
            )
        )
        start = end
    return embedded


def _documents_store(*, documents: list[Document], prepared: list[PreparedIndex]) -> list[Document]:
    """Each document's new chunks swapped in, or why it failed recorded, in one transaction
    for them all: each is still indexed entirely or not at all, and a group of documents
    pays for one commit and one insert of its chunks. A version that fails leaves the
    chunks of the one indexed before it in place."""
    now = timezone.now()
    with transaction.atomic():
        current = _versions_unchanged(documents)
        stored = [
            (document, index)
            for document, index in zip(documents, prepared, strict=True)
            if document.pk in current
        ]
        failed = [document for document, index in stored if index.problem]
        indexed = [document for document, index in stored if not index.problem]
        dated_by_hand = _dates_set_by_hand(indexed)
        Chunk.objects.filter(document__in=indexed).delete()
        chunks = Chunk.objects.bulk_create(
            chunk
            for document, index in stored
            if not index.problem
            for chunk in _chunks(document=document, prepared=index)
        )
        for document, index in stored:
            _document_outcome(
                document=document,
                prepared=index,
                now=now,
                dates_by_hand=dated_by_hand.get(document.pk),
            )
        Document.objects.bulk_update(failed, fields=FAILED_FIELDS)
        Document.objects.bulk_update(indexed, fields=INDEXED_FIELDS)
        contradictions_store(chunk_ids=[chunk.pk for chunk in chunks])
        for knowledge_base_id in {document.knowledge_base_id for document in indexed}:
            documents_supersede(knowledge_base=KnowledgeBase(pk=knowledge_base_id))
        # Receivers may quarantine chunks: in this transaction, before anyone can search them.
        for document in indexed:
            chunks_stored.send(
                sender=Document,
                document=document,
                chunks=[chunk for chunk in chunks if chunk.document_id == document.pk],
            )
    return documents


DATE_FIELDS = ["effective_date", "valid_from", "valid_until"]
FAILED_FIELDS = ["status", "error", "chunk_count", "updated_at", "pending_file", "pending_hash"]
INDEXED_FIELDS = [
    *FAILED_FIELDS,
    *["file", "content_hash", "size_bytes", "index_version", "title", "page_count", "indexed_at"],
    *DATE_FIELDS,
    "language",
    "replaces",
]
REPLACES_LENGTH = Document._meta.get_field("replaces").max_length


def _chunks(*, document: Document, prepared: PreparedIndex) -> Iterator[Chunk]:
    for position, (draft, vector, sentence_vectors, headed_vectors) in enumerate(
        zip(
            prepared.drafts,
            prepared.vectors,
            prepared.sentence_vectors,
            prepared.headed_vectors,
            strict=True,
        )
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
            headed_sentence_embeddings=vectors_packed(headed_vectors),
            quarantined=bool(draft.held),
            quarantine_reason=draft.held[: Chunk._meta.get_field("quarantine_reason").max_length],
            language=prepared.language,
        )


def _document_outcome(
    *, document: Document, prepared: PreparedIndex, now: datetime, dates_by_hand: tuple | None
) -> None:
    """The document's fields as indexing left it (saved by the caller), its dates those a
    person set if one did; the file it no longer needs is deleted once that commits."""
    document.updated_at = now
    if prepared.problem:
        _document_failed(document=document, problem=prepared.problem)
        return
    if document.pending_file:
        _file_delete_on_commit(document.file.storage, document.file.name)
        document.file, document.content_hash = document.pending_file.name, document.pending_hash
        document.size_bytes = document.file.size
        document.pending_file, document.pending_hash = "", ""
    document.title = prepared.parsed.title[: Document._meta.get_field("title").max_length]
    document.page_count = prepared.parsed.page_count
    document.effective_date, document.valid_from, document.valid_until = dates_by_hand or (
        prepared.effective_date,
        prepared.period.valid_from,
        prepared.period.valid_until,
    )
    document.language = prepared.language
    document.replaces = prepared.replaces
    document.chunk_count = len(prepared.drafts)
    document.status = Document.Status.READY
    document.error = ""
    document.indexed_at = now
    document.index_version = INDEX_VERSION


def _document_failed(*, document: Document, problem: str) -> None:
    """Failed, or, if an earlier version is indexed, that one still in use and why the
    latest is not."""
    if not _has_indexed_version(document):
        document.status, document.error, document.chunk_count = Document.Status.FAILED, problem, 0
    elif document.pending_file:
        document.status = Document.Status.READY
        document.error = f"The new version could not be indexed: {problem} {STILL_IN_USE}"
    else:
        document.status = Document.Status.READY
        document.error = f"Re-indexing failed: {problem} {STILL_SEARCHED}"
    if document.pending_file:
        _file_delete_on_commit(document.pending_file.storage, document.pending_file.name)
        document.pending_file, document.pending_hash = "", ""


STILL_IN_USE = "The previous version is still in use."
STILL_SEARCHED = "The passages indexed before are still searched."


def _versions_unchanged(documents: list[Document]) -> set[int]:
    """Lock the documents' rows; those deleted, or given a newer file, since they were read
    are left out: the newer file's own job indexes it.

    Saving a deleted document would insert it again, chunks and all.
    """
    rows = (
        Document.objects.select_for_update()
        .filter(pk__in=[document.pk for document in documents])
        .values_list("pk", "file", "pending_file")
    )
    read = {document.pk: (document.file.name, document.pending_file.name) for document in documents}
    return {pk for pk, file, pending_file in rows if read[pk] == (file, pending_file)}


def _dates_set_by_hand(documents: list[Document]) -> dict[int, tuple]:
    """The dates a person set on these (locked) documents, as they are now: re-indexing
    keeps them over the ones read from the text."""
    return {
        pk: tuple(dates)
        for pk, *dates in Document.objects.filter(
            pk__in=[document.pk for document in documents], dates_set_at__isnull=False
        ).values_list("pk", *DATE_FIELDS)
    }


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
    return embedder.submit(_chunks_embed_screened, _documents_chunk(documents))


def _file_submit(*, knowledge_base: KnowledgeBase, path: Path) -> IngestOutcome:
    """A file whose content a document has under a path that is gone was moved: that
    document is renamed, not skipped as a duplicate (and later removed by --sync)."""
    source = str(path.resolve())
    try:
        with path.open("rb") as handle:
            outcome = document_submit(
                knowledge_base=knowledge_base, source=source, content=File(handle)
            )
            if outcome.action == Action.SKIPPED and _moved_away(outcome.document):
                return document_rename(
                    document=outcome.document, source=source, content=File(handle)
                )
            return outcome
    except OSError as error:
        return IngestOutcome(
            source=source, action=Action.FAILED, reason=f"Cannot read the file ({error})."
        )


def _moved_away(document: Document) -> bool:
    """Ingested from a file that is no longer there (uploads have no path to look at)."""
    path = Path(document.source)
    return path.is_absolute() and not path.exists()


def document_rename(*, document: Document, source: str, content: File) -> IngestOutcome:
    """The same document under a new source: its id, chunks and citations stay, nothing is
    embedded again; the stored file takes the new name, and so does a title made from it."""
    old_source = document.source
    new_name = Path(content.name).name
    if document.title == filename_title(Path(document.file.name).name):
        document.title = filename_title(new_name)
    document.source = source
    with transaction.atomic():
        _file_replace(document.file, content=content)
        document.save(update_fields=["source", "title", "file", "updated_at"])
    return IngestOutcome(
        source=source, action=Action.RENAMED, document=document, previous_source=old_source
    )


def _indexed_outcomes(
    outcomes: list[IngestOutcome], preparing: Future[list[PreparedIndex]]
) -> Iterator[IngestOutcome]:
    documents = _documents_store(
        documents=[outcome.document for outcome in outcomes], prepared=preparing.result()
    )
    for outcome, document in zip(outcomes, documents, strict=True):
        if document.error:  # failed, or only its new version did
            outcome = replace(outcome, action=Action.FAILED, reason=document.error)
        yield outcome


@dataclass(frozen=True)
class FolderContents:
    files: list[Path]
    skipped: list[IngestOutcome]  # links out of the folder


def folder_scan(*, path: Path) -> FolderContents:
    """The files a folder ingest covers: every visible file below `path`, in a stable order.

    A link that leads out of the folder is not followed: it would bring in whatever it
    points to, under a path that `--sync` never looks at.
    """
    if path.is_file():
        return FolderContents(files=[path], skipped=[])
    root = path.resolve()
    files, skipped = [], []
    for entry in sorted(path.rglob("*")):
        if any(part.startswith(".") for part in entry.relative_to(path).parts):
            continue
        target = entry.resolve()
        if entry.is_symlink() and not target.is_relative_to(root):
            reason = f"A link to {target}, outside the folder: not followed."
            skipped.append(IngestOutcome(source=str(entry), action=Action.SKIPPED, reason=reason))
        elif entry.is_file():
            files.append(entry)
    return FolderContents(files=files, skipped=skipped)


def folder_files(*, path: Path) -> list[Path]:
    """Only the files, for callers that report nothing (test fixtures, benchmarks)."""
    return folder_scan(path=path).files


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


def document_archive(*, document: Document, archived: bool) -> None:
    """Archived, a document stays with its chunks (restored as it was) but is not searched."""
    document.archived = archived
    document.save(update_fields=["archived", "updated_at"])


def document_dates_set(
    *,
    document: Document,
    effective_date: date | None,
    valid_from: date | None,
    valid_until: date | None,
    actor: AbstractBaseUser,
) -> Document:
    """An admin's dates for the document, kept over those its text states, re-indexing
    included: the admin knows when a page took effect or a notice applies."""
    document.effective_date, document.valid_from, document.valid_until = (
        effective_date,
        valid_from,
        valid_until,
    )
    document.dates_set_by, document.dates_set_at = actor, timezone.now()
    with transaction.atomic():
        document.save(update_fields=[*DATE_FIELDS, "dates_set_by", "dates_set_at", "updated_at"])
        # A replaced page is found by its date: another date, another match.
        documents_supersede(knowledge_base=document.knowledge_base)
    return document


def document_delete(*, document: Document) -> None:
    with transaction.atomic():
        document.delete()
        for stored in (document.file, document.pending_file):
            if stored:
                _file_delete_on_commit(stored.storage, stored.name)


def _file_delete_on_commit(storage: Storage, name: str) -> None:
    """A file is removed once the change that let go of it commits: a rollback keeps it."""
    transaction.on_commit(lambda: storage.delete(name))
