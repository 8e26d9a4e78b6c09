"""Citation markers: what the customer sees of a generator's [n], streamed and stored."""

import pytest

from assistant.answering.citations import MarkerFilter, citations_number
from assistant.conversations.services import Timings, answer_finish
from assistant.models import Message, PolicyVersion
from knowledge.models import Chunk, Document
from knowledge.search import chunk_search
from tests.support.factories import AnswerFactory, ConversationFactory


def streamed(pieces: list[str], *, source_count: int) -> list[str]:
    markers = MarkerFilter(source_count=source_count)
    return [markers.feed(piece) for piece in pieces] + [markers.flush()]


def test_marker_split_across_pieces_is_held_back_until_it_closes():
    shown = streamed(["Thirty days [", "1", "] and more."], source_count=2)
    assert shown == ["Thirty days", "", " [1] and more.", ""]


def test_marker_naming_no_source_never_leaves_the_filter():
    shown = streamed(["Thirty days [", "7", "]. Also [0] and [2]."], source_count=2)
    assert "".join(shown) == "Thirty days. Also and [2]."
    assert not any("7" in piece for piece in shown)


def test_unclosed_bracket_at_the_end_is_let_through():
    assert "".join(streamed(["Sizes [S, M", "", "L"], source_count=3)) == "Sizes [S, ML"


@pytest.mark.parametrize(
    ("text", "expected_text", "expected_cited"),
    [
        ("A [2]. B [1]. C [2].", "A [1]. B [2]. C [1].", [1, 0]),
        ("A [1, 3].", "A [1][2].", [0, 2]),
        ("A [9]. B [1].", "A. B [1].", [0]),
        ("A [1] [1].", "A [1].", [0]),
        ("No markers at all.", "No markers at all.", []),
    ],
)
def test_stored_answer_keeps_valid_markers_renumbered_in_order_of_use(
    text, expected_text, expected_cited
):
    numbered = citations_number(text=text, source_count=3)
    assert (numbered.text, numbered.cited) == (expected_text, expected_cited)


@pytest.mark.django_db
def test_a_source_re_indexed_or_deleted_since_the_search_is_still_quoted(demo_knowledge_base):
    hits = chunk_search(knowledge_bases=[demo_knowledge_base], query="return a bike refund", k=20)
    one_per_document = list({hit.document_id: hit for hit in hits}.values())[:3]
    re_indexed, deleted, unchanged = one_per_document
    Chunk.objects.filter(pk=re_indexed.chunk_id).delete()  # the document has new chunks
    Document.objects.filter(pk=deleted.document_id).delete()
    answer = AnswerFactory(
        conversation=ConversationFactory(workspace=demo_knowledge_base.workspace),
        outcome=Message.Outcome.STREAMING,
    )

    answer_finish(
        message=answer,
        text="One [1]. Two [2]. Three [3].",
        outcome=Message.Outcome.ANSWERED,
        cited=one_per_document,
        backend="extractive",
        generation_error="",
        timings=Timings(retrieval_ms=1, first_token_ms=2, total_ms=3),
        policy=PolicyVersion(),
    )

    stored = [
        (citation.chunk_id, citation.document_id, citation.quote)
        for citation in answer.citations.order_by("marker")
    ]
    assert stored == [
        (None, re_indexed.document_id, re_indexed.text),
        (None, None, deleted.text),
        (unchanged.chunk_id, unchanged.document_id, unchanged.text),
    ]
