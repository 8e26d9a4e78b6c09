"""Help centers of our own for tests that need real passages: pages written to files and
ingested as an upload is, then searched and answered as the pipeline does."""

from pathlib import Path

from assistant.answering.extractive import MAX_WORDS, extractive_answer
from assistant.answering.pipeline import SOURCES_PER_ANSWER
from assistant.widget.demo import DEMO_KNOWLEDGE_DIR
from knowledge.ingest import files_ingest, folder_files
from knowledge.models import Chunk, Contradiction, Document, KnowledgeBase
from knowledge.search import chunk_search
from tests.support.commands import ingest


def pages_ingest(*, knowledge_base: KnowledgeBase, pages: dict[str, str], folder: Path) -> None:
    """`pages` (file name → text) written to `folder` and ingested into `knowledge_base`."""
    for name, text in pages.items():
        (folder / name).write_text(text)
    list(files_ingest(knowledge_base=knowledge_base, paths=sorted(folder.iterdir())))


def answer_from_pages(folder, knowledge_base, question, max_words=MAX_WORDS, **files):
    """The offline answer to `question` from `files` (name → text), ingested by
    `manage.py ingest` and searched for as many passages as an answer gets."""
    for name, text in files.items():
        (folder / name).write_text(text)
    ingest(folder, knowledge_base)
    hits = chunk_search(knowledge_bases=[knowledge_base], query=question, k=SOURCES_PER_ANSWER)
    return extractive_answer(question=question, sources=hits, max_words=max_words)


_demo_rows: dict[type, list[dict]] = {}


def demo_help_center_index(*, knowledge_base: KnowledgeBase) -> None:
    """The demo help center in `knowledge_base` (empty): indexed once per test process
    (real parsing, real embeddings), then copied row for row, its documents, passages and
    their conflicts, since indexing it again takes seconds a time (the passages' postings
    and word counts follow the copy through their triggers, as at indexing)."""
    if not _demo_rows:
        list(
            files_ingest(knowledge_base=knowledge_base, paths=folder_files(path=DEMO_KNOWLEDGE_DIR))
        )
        documents = Document.objects.filter(knowledge_base=knowledge_base)
        chunks = Chunk.objects.filter(knowledge_base=knowledge_base)
        _demo_rows[Document] = list(documents.values())
        _demo_rows[Chunk] = list(chunks.values())
        _demo_rows[Contradiction] = list(Contradiction.objects.filter(chunk__in=chunks).values())
        return
    documents = {}
    for row in _demo_rows[Document]:
        fields = {name: value for name, value in row.items() if name != "id"}
        fields.update(knowledge_base_id=knowledge_base.pk, superseded_by_id=None)
        documents[row["id"]] = Document.objects.create(**fields)
    for row in _demo_rows[Document]:
        if row["superseded_by_id"]:
            Document.objects.filter(pk=documents[row["id"]].pk).update(
                superseded_by=documents[row["superseded_by_id"]]
            )
    chunks = Chunk.objects.bulk_create(
        Chunk(
            **{
                **{name: value for name, value in row.items() if name not in {"id", "search"}},
                "knowledge_base_id": knowledge_base.pk,
                "document_id": documents[row["document_id"]].pk,
            }
        )
        for row in _demo_rows[Chunk]
    )
    chunk_ids = {row["id"]: chunk.pk for row, chunk in zip(_demo_rows[Chunk], chunks, strict=True)}
    Contradiction.objects.bulk_create(
        Contradiction(
            **{
                **{name: value for name, value in row.items() if name != "id"},
                "chunk_id": chunk_ids[row["chunk_id"]],
                "other_chunk_id": chunk_ids[row["other_chunk_id"]],
            }
        )
        for row in _demo_rows[Contradiction]
    )
