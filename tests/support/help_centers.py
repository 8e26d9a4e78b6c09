"""Help centers of our own for tests that need real passages: pages written to files and
ingested as an upload is, then searched and answered as the pipeline does."""

from pathlib import Path

from assistant.answering.extractive import MAX_WORDS, extractive_answer
from assistant.answering.pipeline import SOURCES_PER_ANSWER
from knowledge.ingest import files_ingest
from knowledge.models import KnowledgeBase
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
