"""The full-text leg's postings (`ChunkTerm`): a chunk's weight per lexeme, stored at
indexing, kept in step with the chunks, and scoring as ts_rank did per question."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from knowledge.ingest import document_archive, document_delete
from knowledge.models import Chunk, ChunkTerm, Document
from knowledge.search import SearchMode, chunk_search
from tests.support.commands import ingest
from tests.support.help_centers import pages_ingest

pytestmark = pytest.mark.django_db

TANDEMS = "# Tandems\n\nWe rent tandem bikes by the day. A tandem seats two riders.\n"
REPAIRS = "# Repairs\n\nWe repair any bike within two days; a puncture within the hour.\n"
REPARACIONES = "# Reparaciones\n\nReparamos cualquier bicicleta en dos días.\n"


@pytest.fixture
def bike_shop(tmp_path, knowledge_base):
    pages = {"tandems.md": TANDEMS, "repairs.md": REPAIRS, "reparaciones.md": REPARACIONES}
    pages_ingest(knowledge_base=knowledge_base, pages=pages, folder=tmp_path)
    return tmp_path


def postings_now() -> dict[tuple[int, str, str, int], float]:
    """Each searchable chunk's ts_rank for each lexeme it holds, computed from the chunks."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT knowledge_base_id, language, lexeme, id,"
            " ts_rank('{0.1, 0.2, 0.6, 1.0}', search, quote_literal(lexeme)::tsquery, 0)"
            " FROM knowledge_chunk, unnest(tsvector_to_array(search)) AS lexeme"
            " WHERE NOT quarantined"
        )
        return {row[:4]: row[4] for row in cursor}


def postings_kept() -> dict[tuple[int, str, str, int], float]:
    return {
        (kb, language, lexeme, chunk): weight
        for kb, language, lexeme, chunk, weight in ChunkTerm.objects.values_list(
            "lexeme__knowledge_base_id", "lexeme__language", "lexeme__lexeme", "chunk", "weight"
        )
    }


def kept_for(*, knowledge_base, lexeme: str) -> set[int]:
    """The chunks of `knowledge_base` with a posting for `lexeme` (other tests' may remain)."""
    postings = ChunkTerm.objects.filter(
        lexeme__knowledge_base=knowledge_base, lexeme__lexeme=lexeme
    )
    return set(postings.values_list("chunk", flat=True))


def test_postings_follow_the_chunks_through_every_change(bike_shop, knowledge_base):
    assert postings_kept() == postings_now()
    assert len(kept_for(knowledge_base=knowledge_base, lexeme="tandem")) == 1
    spanish = ChunkTerm.objects.filter(
        lexeme__knowledge_base=knowledge_base, lexeme__language="es"
    ).values_list("chunk", flat=True)
    assert set(spanish) == set(
        Chunk.objects.filter(document__title="Reparaciones").values_list("pk", flat=True)
    )

    (bike_shop / "repairs.md").write_text(REPAIRS + "\nWheel truing costs ten pounds.\n")
    ingest(bike_shop, knowledge_base)  # replaced: the old chunk's postings go, the new come
    assert postings_kept() == postings_now()
    [repairs] = Chunk.objects.filter(document__title="Repairs")
    assert kept_for(knowledge_base=knowledge_base, lexeme="wheel") == {repairs.pk}

    tandems = Chunk.objects.filter(document__title="Tandems")
    tandems.update(quarantined=True)  # held for review: not searchable, no postings
    assert kept_for(knowledge_base=knowledge_base, lexeme="tandem") == set()
    tandems.update(quarantined=False)
    assert postings_kept() == postings_now()
    tandems.update(language="es")  # stemmed again, under Spanish lexemes
    assert postings_kept() == postings_now()

    document_archive(document=Document.objects.get(title="Repairs"), archived=True)
    assert kept_for(knowledge_base=knowledge_base, lexeme="wheel") == {
        repairs.pk
    }  # kept, to be restored as it was
    assert (
        chunk_search(knowledge_bases=[knowledge_base], query="wheel", mode=SearchMode.KEYWORD) == []
    )

    document_delete(document=Document.objects.get(title="Repairs"))
    assert kept_for(knowledge_base=knowledge_base, lexeme="wheel") == set()
    assert postings_kept() == postings_now()

    knowledge_base.delete()
    assert postings_kept() == postings_now()  # other tests' knowledge bases may remain
    assert not ChunkTerm.objects.filter(lexeme__knowledge_base_id=knowledge_base.pk).exists()


def test_the_keyword_score_is_idf_times_ts_rank_summed_over_the_question_words(
    bike_shop, knowledge_base
):
    """Stored weights score as ts_rank did, per question: Σ idf * ts_rank of each of the
    question's lexemes that the chunk holds, in its own language."""
    query = "Can you repair a tandem puncture within two days?"
    hits = chunk_search(knowledge_bases=[knowledge_base], query=query, mode=SearchMode.KEYWORD)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT chunk.id, sum(ln(1 + (total.chunks - counted.chunks + 0.5)"
            "   / (counted.chunks + 0.5))"
            "   * ts_rank('{0.1, 0.2, 0.6, 1.0}', chunk.search, quote_literal(term)::tsquery, 0))"
            " FROM knowledge_chunk chunk,"
            " unnest(tsvector_to_array(to_tsvector('english', %(query)s))) AS term,"
            " LATERAL (SELECT count(*) AS chunks FROM knowledge_chunk other"
            "   WHERE other.knowledge_base_id = chunk.knowledge_base_id"
            "     AND other.language = 'en' AND other.search @@ quote_literal(term)::tsquery"
            " ) counted,"
            " LATERAL (SELECT count(*) AS chunks FROM knowledge_chunk other"
            "   WHERE other.knowledge_base_id = chunk.knowledge_base_id AND other.language = 'en'"
            " ) total"
            " WHERE chunk.knowledge_base_id = %(kb)s AND chunk.language = 'en'"
            "   AND chunk.search @@ quote_literal(term)::tsquery"
            " GROUP BY chunk.id",
            {"query": query, "kb": knowledge_base.pk},
        )
        expected = dict(cursor.fetchall())

    assert [hit.document_title for hit in hits] == ["Repairs", "Tandems"]
    assert {hit.chunk_id: hit.keyword_score for hit in hits} == pytest.approx(expected)


@pytest.mark.django_db(transaction=True)
def test_the_migration_weighs_the_chunks_already_indexed(bike_shop, knowledge_base):
    executor = MigrationExecutor(connection)
    executor.migrate([("knowledge", "0016_website_sources")])  # before postings
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("knowledge"))

    assert postings_kept() == postings_now()
    hits = chunk_search(knowledge_bases=[knowledge_base], query="tandem", mode=SearchMode.KEYWORD)
    assert [hit.document_title for hit in hits] == ["Tandems"]
