"""Hybrid search: right answers from the demo help center, never another workspace's."""

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from assistant.widget.demo import DEMO_KNOWLEDGE_DIR
from knowledge.embeddings import query_embed
from knowledge.models import Chunk, Document
from knowledge.search import SearchMode, chunk_search
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory

pytestmark = pytest.mark.django_db


def documents_in_order(hits):
    seen = []
    for hit in hits:
        if hit.document_title not in seen:
            seen.append(hit.document_title)
    return seen


def filler_chunks_store(*, knowledge_base, vectors, text: str) -> None:
    """One filler document of a chunk per vector, straight into the table: `text` is
    formatted with the chunk's number `n`."""
    filler = Document.objects.create(
        knowledge_base=knowledge_base, source="filler.md", title="Filler"
    )
    Chunk.objects.bulk_create(
        Chunk(
            document=filler,
            knowledge_base=knowledge_base,
            position=n,
            text=text.format(n=n),
            token_count=len(text.split()),
            embedding=vector / np.linalg.norm(vector),
        )
        for n, vector in enumerate(vectors)
    )


def test_demo_questions_find_their_document_in_the_top_3(demo_knowledge_base):
    questions = json.loads((DEMO_KNOWLEDGE_DIR.parent / "questions.json").read_text())
    titles = {
        doc.source.rsplit("/", 1)[-1]: doc.title for doc in demo_knowledge_base.documents.all()
    }
    misses = []
    for case in questions:
        hits = chunk_search(knowledge_bases=[demo_knowledge_base], query=case["question"], k=10)
        if titles[case["document"]] not in documents_in_order(hits)[:3]:
            misses.append((case["question"], case["document"], documents_in_order(hits)[:3]))
    hit_rate = 1 - len(misses) / len(questions)
    assert hit_rate >= 0.9, f"hit@3 {hit_rate:.2f}; misses: {misses}"


def test_hits_carry_what_a_citation_needs(demo_knowledge_base):
    hits = chunk_search(knowledge_bases=[demo_knowledge_base], query="how do I return a bike", k=5)

    assert len(hits) == 5
    top = hits[0]
    assert top.document_title == "Returns and Refunds"
    assert top.heading.startswith("Returns and Refunds")
    assert "return" in top.text.lower()
    assert any("30 days" in hit.text for hit in hits[:3])
    assert top.similarity > 0.4 and top.keyword_score > 0
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_search_never_returns_another_workspace_chunks(tmp_path):
    ours, theirs = KnowledgeBaseFactory(), KnowledgeBaseFactory()
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    (tmp_path / "ours" / "returns.md").write_text("# Returns\n\nReturn a bike within 30 days.\n")
    (tmp_path / "theirs" / "returns.md").write_text(
        "# Returns\n\nReturn a bike within 90 days for a full refund.\n"
    )
    ingest(tmp_path / "ours", ours)
    ingest(tmp_path / "theirs", theirs)

    hits = chunk_search(knowledge_bases=[ours], query="return a bike full refund 90 days", k=10)

    assert [hit.text for hit in hits] == ["Return a bike within 30 days."]
    assert chunk_search(knowledge_bases=[], query="return a bike", k=10) == []


def test_a_small_knowledge_base_is_not_starved_by_a_big_neighbour(tmp_path):
    """Whatever plan PostgreSQL picks (HNSW with an iterative scan, or an exact scan of the
    knowledge base's rows), filtering must not leave the small knowledge base without hits.

    The neighbour's 5,000 chunks are all nearer to the question than anything in the small
    knowledge base: their vectors are the question's own embedding, slightly perturbed.
    """
    big, small = KnowledgeBaseFactory(), KnowledgeBaseFactory()
    question = "how do I return my bike?"
    near = query_embed(query=question)
    rng = np.random.default_rng(7)
    near_vectors = near + rng.normal(scale=0.02, size=(5000, near.size))
    unrelated_vectors = rng.normal(size=(1500, near.size))
    for knowledge_base, vectors in ((big, near_vectors), (small, unrelated_vectors)):
        filler_chunks_store(knowledge_base=knowledge_base, vectors=vectors, text="filler {n}")
    (tmp_path / "returns.md").write_text("# Returns\n\nBikes can be returned within 30 days.\n")
    ingest(tmp_path, small)

    hits = chunk_search(knowledge_bases=[small], query=question, k=3)

    assert hits[0].text == "Bikes can be returned within 30 days."
    assert hits[0].vector_rank == 1


@pytest.mark.django_db(transaction=True)
def test_the_search_settings_hold_for_the_search_only(tmp_path, knowledge_base):
    """The HNSW settings travel with the search in one message, in its transaction: on a
    connection in autocommit, as production's are, the next statement runs without them
    (behind PgBouncer, that statement may be another client's)."""
    (tmp_path / "returns.md").write_text("# Returns\n\nBikes can be returned within 30 days.\n")
    ingest(tmp_path, knowledge_base)

    hits = chunk_search(knowledge_bases=[knowledge_base], query="return my bike", k=3)

    assert [hit.text for hit in hits] == ["Bikes can be returned within 30 days."]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('hnsw.iterative_scan')")
        assert cursor.fetchone() == ("off",)


def test_the_keyword_leg_matches_words_as_the_chunks_store_them(tmp_path, knowledge_base):
    """A question's words are stemmed once, as the chunks' are: stemming "increases" a second
    time ("increas" → "increa") used to match nothing."""
    (tmp_path / "a.md").write_text("# Costs\n\nOur costs fell last year.\n")
    (tmp_path / "b.md").write_text("# Costs\n\nOur costs increased last year.\n")
    ingest(tmp_path, knowledge_base)

    hits = chunk_search(
        knowledge_bases=[knowledge_base], query="what increases costs", mode=SearchMode.KEYWORD
    )

    assert [hit.text for hit in hits] == [
        "Our costs increased last year.",
        "Our costs fell last year.",
    ]


def test_a_rare_word_wins_the_keyword_leg_among_thousands_of_common_ones(tmp_path):
    """The keyword leg scores only chunks holding the question's rarest words once the
    statistics show its common words in thousands of chunks: the rare word's chunk must win."""
    knowledge_base = KnowledgeBaseFactory()
    filler_chunks_store(
        knowledge_base=knowledge_base,
        vectors=np.random.default_rng(8).normal(size=(5000, 384)),
        text="Return the bike to the shop, ticket {n}.",
    )
    (tmp_path / "tandem.md").write_text("# Tandems\n\nReturn a tandem bike to the shop.\n")
    ingest(tmp_path, knowledge_base)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_chunk")

    hits = chunk_search(
        knowledge_bases=[knowledge_base],
        query="return my tandem bike to the shop",
        mode=SearchMode.KEYWORD,
    )

    assert hits[0].text == "Return a tandem bike to the shop."


def plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def test_the_keyword_leg_reads_no_chunk_row_beyond_its_hits(tmp_path, knowledge_base):
    """Fetching and scoring every chunk holding a rare word (a thousand rows a question at
    100k chunks) was most of the full-text leg's time: it now reads the postings, and
    reads chunks only for the few fused hits."""
    for n in range(40):
        (tmp_path / f"{n}.md").write_text(f"# Tandem {n}\n\nReturn a tandem bike, ticket {n}.\n")
    ingest(tmp_path, knowledge_base)
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        hits = chunk_search(
            knowledge_bases=[knowledge_base], query="return my tandem", k=1, mode=SearchMode.KEYWORD
        )
    [(sql, params)] = [statement for statement in statements if "keyword_hits" in statement[0]]
    _, _, search_sql = sql.partition(";")  # the HNSW settings come first
    with connection.cursor() as cursor:
        # Planned as at scale, where no table is small enough to be read whole.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {search_sql}", params)
        [[[explained]]] = cursor.fetchall()

    chunk_rows = sum(
        node["Actual Rows"] * node["Actual Loops"]
        for node in plan_nodes(explained["Plan"])
        if node.get("Relation Name") == "knowledge_chunk"
    )
    assert len(hits) == 1
    assert chunk_rows <= 2 * 2  # the fused pool (k * SUPERSEDED_POOL), and its final rows


def test_search_command_prints_scores_document_heading_and_page(demo_knowledge_base):
    out = StringIO()
    call_command(
        "search",
        "how do I return a bike",
        "--workspace",
        demo_knowledge_base.workspace.slug,
        stdout=out,
    )
    first = out.getvalue().splitlines()[:3]
    assert first[0].startswith("1. [0.0") and first[0].endswith("] Returns and Refunds")
    assert first[1].strip().startswith("Returns and Refunds >")
    assert first[2].strip().startswith("cosine 0.")


def test_search_command_prints_pdf_pages(demo_knowledge_base):
    pdf = demo_knowledge_base.documents.filter(source__endswith=".pdf").first()
    question = pdf.chunks.get(position=0).text[:120]
    out = StringIO()
    call_command(
        "search", question, "--workspace", demo_knowledge_base.workspace.slug, "-k", "1", stdout=out
    )
    assert out.getvalue().startswith("1. [") and f"{pdf.title} · page 1" in out.getvalue()


@pytest.mark.parametrize(
    "query",
    [
        "what's O'Reilly's e-bike: & | ! ( ) <-> :* 'quote' \\ price?",
        "foo:*A & !bar",
        "über café naïve 日本語 🚲",
        "return " * 2000,
    ],
)
def test_any_text_is_a_valid_question(demo_knowledge_base, query):
    hits = chunk_search(knowledge_bases=[demo_knowledge_base], query=query, k=3)
    assert len(hits) == 3  # the vector leg always answers, whatever the words


def test_a_question_of_stop_words_still_gets_vector_hits(demo_knowledge_base):
    hits = chunk_search(knowledge_bases=[demo_knowledge_base], query="how do I", k=3)
    assert len(hits) == 3 and all(hit.keyword_rank is None for hit in hits)


def test_an_empty_question_finds_nothing(demo_knowledge_base):
    assert chunk_search(knowledge_bases=[demo_knowledge_base], query="  \n ", k=3) == []
