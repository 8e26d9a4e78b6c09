"""Full-text search in each page's own language, and the lexeme counts it weighs words by."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from knowledge.ingest import document_delete
from knowledge.models import Chunk, Document, LanguageChunks, Lexeme
from knowledge.search import SearchMode, chunk_search
from tests.support.commands import ingest

pytestmark = pytest.mark.django_db

SPANISH_REFUNDS = """# Reembolsos

Reembolsamos las devoluciones en diez días hábiles, con el mismo medio de pago.
"""
ENGLISH_REFUNDS = """# Refunds

We refund returned items within ten working days, to the card you paid with.
"""
ENGLISH_DELIVERY = """# Delivery

Parcels reach most addresses within three working days of dispatch.
"""


@pytest.fixture
def help_center(tmp_path, knowledge_base):
    (tmp_path / "reembolsos.md").write_text(SPANISH_REFUNDS)
    (tmp_path / "refunds.md").write_text(ENGLISH_REFUNDS)
    (tmp_path / "delivery.md").write_text(ENGLISH_DELIVERY)
    ingest(tmp_path, knowledge_base)
    return tmp_path


def keyword_first(*, knowledge_base, query: str) -> str:
    """The title of the document the keyword leg ranks first among the hybrid hits."""
    hits = chunk_search(knowledge_bases=[knowledge_base], query=query, k=3)
    [first] = [hit for hit in hits if hit.keyword_rank == 1]
    return first.document_title


def test_each_page_and_its_chunks_know_their_language(help_center, knowledge_base):
    languages = dict(knowledge_base.documents.values_list("title", "language"))
    assert languages == {"Reembolsos": "es", "Refunds": "en", "Delivery": "en"}
    assert set(
        Chunk.objects.filter(document__title="Reembolsos").values_list("language", flat=True)
    ) == {"es"}


def test_a_spanish_question_finds_the_spanish_page_by_its_stems(help_center, knowledge_base):
    """ "reembolsan" and "devolución" are in the page only as "reembolsamos" and
    "devoluciones": English stemming leaves them apart, Spanish stemming joins them."""
    question = "¿Cuándo me reembolsan una devolución?"

    assert keyword_first(knowledge_base=knowledge_base, query=question) == "Reembolsos"


def test_an_english_question_still_finds_the_english_page_by_its_stems(help_center, knowledge_base):
    assert keyword_first(knowledge_base=knowledge_base, query="Do you refund returns?") == "Refunds"
    hits = chunk_search(
        knowledge_bases=[knowledge_base], query="Do you refund returns?", mode=SearchMode.KEYWORD
    )
    assert [hit.document_title for hit in hits] == ["Refunds"]


def lexemes_counted_now() -> dict[tuple[int, str, str], int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT knowledge_base_id, language, lexeme, count(*)"
            " FROM knowledge_chunk, unnest(tsvector_to_array(search)) AS lexeme"
            " GROUP BY 1, 2, 3"
        )
        return {(kb, language, lexeme): chunks for kb, language, lexeme, chunks in cursor}


def lexemes_kept() -> dict[tuple[int, str, str], int]:
    return {
        (row.knowledge_base_id, row.language, row.lexeme): row.chunks
        for row in Lexeme.objects.exclude(chunks=0)
    }


def languages_counted_now() -> dict[tuple[int, str], int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT knowledge_base_id, language, count(*) FROM knowledge_chunk GROUP BY 1, 2"
        )
        return {(kb, language): chunks for kb, language, chunks in cursor}


def languages_kept() -> dict[tuple[int, str], int]:
    return {
        (row.knowledge_base_id, row.language): row.chunks
        for row in LanguageChunks.objects.exclude(chunks=0)
    }


def counts_follow_the_chunks() -> bool:
    return lexemes_kept() == lexemes_counted_now() and languages_kept() == languages_counted_now()


def test_word_and_language_counts_follow_the_chunks_through_every_change(
    help_center, knowledge_base
):
    assert counts_follow_the_chunks()
    assert lexemes_kept()[(knowledge_base.pk, "es", "reembols")] == 1
    spanish_chunks = languages_kept()[(knowledge_base.pk, "es")]
    assert spanish_chunks == Chunk.objects.filter(document__title="Reembolsos").count()

    (help_center / "refunds.md").write_text(
        ENGLISH_REFUNDS + "\nRefunds of gift cards go to a new gift card.\n"
    )
    ingest(help_center, knowledge_base)  # re-indexed: old chunks out, new ones in
    assert lexemes_kept()[(knowledge_base.pk, "en", "gift")] == 1

    delivery = Chunk.objects.filter(document__title="Delivery")
    delivery.update(quarantined=True)  # counts stay
    delivery.update(language="es")  # stemmed again, counted under Spanish
    assert counts_follow_the_chunks()
    assert (knowledge_base.pk, "en", "parcel") not in lexemes_kept()
    assert languages_kept()[(knowledge_base.pk, "es")] == spanish_chunks + delivery.count()
    document_delete(document=Document.objects.get(title="Reembolsos"))
    assert (knowledge_base.pk, "es", "reembols") not in lexemes_kept()
    assert languages_kept()[(knowledge_base.pk, "es")] == delivery.count()

    deleted = knowledge_base.pk
    knowledge_base.delete()
    # Other tests' knowledge bases may still be in the database: only this one's go.
    assert counts_follow_the_chunks()
    assert not any(kept_in == deleted for kept_in, _, _ in lexemes_kept())
    assert not any(kept_in == deleted for kept_in, _ in languages_kept())


@pytest.mark.django_db(transaction=True)
def test_the_migration_restems_chunks_indexed_before_languages(help_center, knowledge_base):
    """A database indexed before 0010 (every chunk stemmed as English) comes out of the
    migration with each document's language found and its chunks stemmed and counted."""
    executor = MigrationExecutor(connection)
    executor.migrate([("knowledge", "0009_document_period_and_dates_set_by")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM knowledge_chunk WHERE search @@ 'reembols'::tsquery")
        assert cursor.fetchone()[0] == 0  # English stems: "reembolsamo"

    executor = MigrationExecutor(connection)
    # Up to the latest: search reads tables added after 0010 too.
    executor.migrate(executor.loader.graph.leaf_nodes("knowledge"))

    assert Document.objects.get(title="Reembolsos").language == "es"
    assert (
        keyword_first(knowledge_base=knowledge_base, query="¿Cuándo me reembolsan una devolución?")
        == "Reembolsos"
    )
    assert counts_follow_the_chunks()  # the chunks indexed before 0019 counted by it
