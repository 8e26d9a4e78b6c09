"""Each chunk's readable sentences are embedded at indexing, for the extractive answerer and
the grounding rail; chunks indexed before that still get them, at answer time."""

import numpy as np
import pytest

from assistant.answering.extractive import extractive_answer
from assistant.rails.grounding import sentence_grounded
from knowledge.embeddings import texts_embed
from knowledge.models import Chunk
from knowledge.search import chunk_search
from tests.support.commands import ingest

pytestmark = pytest.mark.django_db

SHIPPING = """# Shipping to Canada

- Orders ship out within two business days.
- Bikes reach Toronto in five to eight business days.

| Item | Shipping cost | Carrier |
| --- | --- | --- |
| Bikes | CA$89 | Courier |
| Helmets | CA$9 | Post |
"""


def test_indexing_stores_readable_sentences_with_their_vectors(tmp_path, knowledge_base):
    (tmp_path / "canada.md").write_text(SHIPPING)
    ingest(tmp_path, knowledge_base)

    [chunk] = Chunk.objects.filter(knowledge_base=knowledge_base)
    [hit] = chunk_search(knowledge_bases=[knowledge_base], query="shipping to Canada", k=1)
    assert chunk.sentences == [
        "Orders ship out within two business days.",
        "Bikes reach Toronto in five to eight business days.",
        "Bikes — Shipping cost: CA$89; Carrier: Courier.",
        "Helmets — Shipping cost: CA$9; Carrier: Post.",
    ]
    assert hit.sentences.texts == chunk.sentences
    fresh = texts_embed(texts=chunk.sentences)
    assert hit.sentences.vectors.dtype == np.float32
    # Stored as float16: each vector within rounding of its freshly computed one.
    assert np.einsum("ij,ij->i", hit.sentences.vectors, fresh).min() > 0.999


def test_a_chunk_indexed_before_sentences_were_stored_still_answers(tmp_path, knowledge_base):
    (tmp_path / "canada.md").write_text(SHIPPING)
    ingest(tmp_path, knowledge_base)
    chunks = Chunk.objects.filter(knowledge_base=knowledge_base)
    stored = list(chunks.values_list("sentences", flat=True))
    chunks.update(sentences=[], sentence_embeddings=b"")  # as index version 4 left them

    [hit] = chunk_search(knowledge_bases=[knowledge_base], query="cost to ship a bike", k=1)
    assert hit.stored_sentences is None
    assert [hit.sentences.texts] == stored
    answer = extractive_answer(question="What does shipping a bike to Canada cost?", sources=[hit])
    assert answer == "Bikes — Shipping cost: CA$89; Carrier: Courier [1]."
    assert sentence_grounded(sentence="Shipping a bike costs CA$89 [1].", sources=[hit])
    assert not sentence_grounded(
        sentence="Delivery to Canada is free for every order [1].", sources=[hit]
    )


def test_a_sentence_in_another_language_is_held_to_the_figures_of_its_source(
    tmp_path, knowledge_base
):
    """An English-only embedding cannot tell a faithful translation from an invention, so
    an answer in the customer's language must at least state no figure its source lacks."""
    (tmp_path / "canada.md").write_text(SHIPPING)
    ingest(tmp_path, knowledge_base)
    [hit] = chunk_search(knowledge_bases=[knowledge_base], query="cost to ship a bike", k=1)

    assert sentence_grounded(
        sentence="Enviar una bicicleta a Canadá cuesta 89 dólares canadienses [1].", sources=[hit]
    )
    assert not sentence_grounded(
        sentence="Enviar una bicicleta a Canadá cuesta 49 dólares canadienses [1].", sources=[hit]
    )
    # In the sources' own language the meaning check alone decides: figures are not enough.
    assert not sentence_grounded(
        sentence="A drone flies each helmet to your door in 89 minutes [1].", sources=[hit]
    )
