"""The ordinary questions a workspace's own help center answers, read from its passages.

Each document gives its title, its headings ("Returning a bike"), its FAQ questions ("Can
I pay by card?") and its tables' rows ("Shipping costs: Bikes"). The policy's rules must
not catch them (`assistant.rails.rules`), and the publish gate asks them of a draft,
which must answer them. They are read once per version of the knowledge base and process
(a version: which passages are searchable), and embedded once; each message then costs a
dot product. The worker embeds them as soon as a version changes (`own_questions_prepare`,
after indexing and every minute) and stores them, so a server process reads them instead
of making a customer wait while it embeds them.
"""

import threading
from dataclasses import dataclass
from itertools import chain, zip_longest

import numpy as np
from django.db.models import Count, Max, Sum

from knowledge.embeddings import texts_embed_cached
from knowledge.models import EMBEDDING_DIMENSIONS, Chunk, Document, OwnQuestionSet
from knowledge.sentences import sentence_table_rows

# Enough to cover a large help center's sections; the embedding is done once per version.
MAX_OWN_QUESTIONS = 600
MIN_QUESTION_WORDS = 3


@dataclass(frozen=True)
class OwnQuestions:
    version: str
    texts: tuple[str, ...]  # spread across documents: each one's first, then each second...
    vectors: np.ndarray | None = None  # embedded on first use, outside any transaction


_known: dict[int, OwnQuestions] = {}
_lock = threading.Lock()


def own_questions(*, workspace_id: int | None) -> tuple[str, ...]:
    """The questions, each document's title first (a read, no embedding)."""
    return _current(workspace_id).texts


def own_question_vectors(*, workspace_id: int | None) -> np.ndarray:
    """Their normalised embeddings, in the same order; call outside a transaction."""
    current = _current(workspace_id)
    if current.vectors is None:
        vectors = texts_embed_cached(list(current.texts))
        with _lock:
            if _known.get(workspace_id) is current:
                _known[workspace_id] = OwnQuestions(current.version, current.texts, vectors)
        return vectors
    return current.vectors


def own_questions_prepare(*, workspace_id: int) -> bool:
    """The questions of the knowledge base's current version embedded and stored, unless
    they are already; call outside a transaction. Whether anything was stored."""
    current = _current(workspace_id)
    if OwnQuestionSet.objects.filter(workspace_id=workspace_id, version=current.version).exists():
        return False
    vectors = own_question_vectors(workspace_id=workspace_id)
    OwnQuestionSet.objects.update_or_create(
        workspace_id=workspace_id,
        defaults={
            "version": current.version,
            "texts": list(current.texts),
            "vectors": vectors.astype(np.float32).tobytes(),
        },
    )
    return True


def _current(workspace_id: int | None) -> OwnQuestions:
    if workspace_id is None:  # a policy that belongs to no workspace (warm-up, benches)
        return OwnQuestions(version="", texts=())
    searchable = _searchable(workspace_id)
    version = _version(searchable)
    with _lock:
        known = _known.get(workspace_id)
    if known and known.version == version:
        return known
    fresh = _stored(workspace_id, version=version) or OwnQuestions(
        version=version, texts=_read(searchable)
    )
    with _lock:
        _known[workspace_id] = fresh
    return fresh


def _version(searchable) -> str:
    """Which passages are searchable: any indexed, archived, released or deleted changes it
    (new passages take new keys)."""
    found = searchable.aggregate(count=Count("pk"), last=Max("pk"), total=Sum("pk"))
    return "{count}:{last}:{total}".format(**found)


def _stored(workspace_id: int, *, version: str) -> OwnQuestions | None:
    stored = OwnQuestionSet.objects.filter(workspace_id=workspace_id, version=version).first()
    if stored is None:
        return None
    vectors = np.frombuffer(bytes(stored.vectors), dtype=np.float32)
    return OwnQuestions(
        version=version,
        texts=tuple(stored.texts),
        vectors=vectors.reshape(len(stored.texts), EMBEDDING_DIMENSIONS),
    )


def _searchable(workspace_id: int):
    return Chunk.objects.filter(
        knowledge_base__workspace_id=workspace_id,
        quarantined=False,
        document__archived=False,
        document__status=Document.Status.READY,
    )


def _read(searchable) -> tuple[str, ...]:
    per_document: dict[int, dict[str, None]] = {}
    rows = searchable.order_by("document_id", "position").values_list(
        "document_id", "document__title", "heading", "sentences", "text"
    )
    for document_id, title, heading, sentences, text in rows:
        found = per_document.setdefault(document_id, {title.strip(): None})
        sections = [part.strip() for part in heading.split(">") if part.strip()]
        section = sections[-1] if sections else title.strip()
        for question in chain(
            sections,
            (s for s in sentences if s.endswith("?") and len(s.split()) >= MIN_QUESTION_WORDS),
            (f"{section}: {row.name}" for row in sentence_table_rows(text).values()),
        ):
            found.setdefault(question, None)
    spread = chain.from_iterable(zip_longest(*per_document.values()))
    return tuple(dict.fromkeys(text for text in spread if text))[:MAX_OWN_QUESTIONS]
