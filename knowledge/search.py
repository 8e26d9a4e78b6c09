"""Hybrid retrieval: HNSW cosine search and PostgreSQL full-text search, fused by rank.

Reciprocal rank fusion (RRF) needs no score calibration between the two lists: a chunk
ranked high by either, and better by both, comes first. Both lists are filtered to the
given knowledge bases; pgvector's iterative index scan keeps the vector list full when
that filter removes most of the nearest neighbours.

Each chunk is stemmed in its own language (`Chunk.language`); the question is stemmed
once per language among the searched documents, and each stemming is matched against the
chunks of that language only: a Spanish page answers a Spanish question in Spanish stems.

The full-text list matches any of the question's words (AND semantics, as in
`websearch_to_tsquery`, would match almost nothing for a long natural question) and weighs
each word by its inverse document frequency among the searched chunks, as BM25 does:
plain `ts_rank` has no notion of a rare word. On BEIR SciFact this lifts full-text
nDCG@10 from 0.45 to 0.68 and hybrid from 0.63 to 0.71 (see `make bench`).

Scoring every chunk that holds any of the question's words grows with the knowledge base
(over a second a question at 100k chunks), so the full-text leg scores at most
`KEEL_KEYWORD_BUDGET` chunks: those holding the question's rarest words, rarest first,
while their chunks fit the budget (the rarest word's always, cut to the budget in chunk
order if it alone is in more). A chunk without any of them holds only words common enough
to weigh little. A word's chunks, for its IDF, are read from `Lexeme`, and the chunks of
each language from `LanguageChunks`, which triggers keep as chunks come and go: counting
them per question took longer than the vector leg. While a question's words fit the
budget, the list is exact; `python -m bench scale` measures how far it agrees with the
exhaustive list. Nor does the leg read a chunk's row: `ts_rank` of one lexeme depends on
the chunk and the lexeme only, so indexing stores it per chunk and lexeme (`ChunkTerm`,
its postings), and the leg sums idf times that weight from one narrow index, where
fetching and ranking the thousand chunks holding a rare word was most of its time.

Newest fact wins: help centers keep superseded pages (last year's fees beside this
year's). Among the best fused passages, one that restates a passage of a document with a
later effective date (`Document.effective_date`; cosine similarity of the two passages at
least `SAME_PASSAGE_SIMILARITY`) is dropped, so an answer never quotes the superseded
value. Passages of one document never supersede each other, and undated documents are
never dropped: only a dated, newer restatement of the same thing outranks a passage.
Passages of an archived document are dropped there too (kept, never answered from), and
so are those of a temporary notice outside its period (`Document.valid_from`/`valid_until`):
neither answers, nor outranks a passage as its newer restatement. The period is that of
today or of a day the question names (`knowledge.dates.days_asked`): "Can I still return it
on 10 January?" is answered by the holiday notice in force then.
A superseded page is often rewritten, not restated (the passages then score below that
bar), and the newer page's passage need not be among this question's best at all (it
speaks of more things, or in other words): so a passage is dropped too when one of its
sentences gives a value that a sentence of any newer, searchable document of its
knowledge base gives differently ("within 14 days" against "within 30 days",
`knowledge.conflicts`, the test of the admins' Conflicts page). Those pairs are found
when a passage is indexed and stored (`Contradiction`), so a question reads them, never
compares passages. The whole passage goes, not only its sentence: what is left of a
superseded page beside it is as old, and a quote never reads a passage with a hole in it.
A page that says it replaces an older one ("This policy replaces the one dated
1 February 2024") takes that one out of search wholly while it is searchable itself
(`Document.superseded_by`, `knowledge.supersession`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cached_property

from django.conf import settings
from django.db import connection
from django.utils import timezone
from pgvector import Vector

from knowledge.dates import days_asked
from knowledge.embeddings import query_embed
from knowledge.languages import FALLBACK_CONFIG, TEXT_SEARCH_CONFIGS
from knowledge.models import KnowledgeBase
from knowledge.sentences import Sentences, chunk_sentences

RRF_K = 60
CANDIDATES = 50
# Two passages this alike say the same thing (an old and a new version of a paragraph
# score 0.95-1.0 with all-MiniLM-L6-v2; two pages on neighbouring subjects, such as
# shipping to two countries, stay below 0.7).
SAME_PASSAGE_SIMILARITY = 0.85
# The best fused passages checked against each other for superseded ones, per hit asked:
# a superseded passage dropped leaves room for the next.
SUPERSEDED_POOL = 2


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    VECTOR = "vector"  # evaluation only: one leg, to measure what fusion adds
    KEYWORD = "keyword"


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    document_id: int
    document_title: str
    document_url: str
    heading: str
    page: int | None
    text: str
    score: float  # fused RRF score: the order of the hits
    similarity: float | None  # cosine similarity, when in the vector list
    keyword_score: float | None  # IDF-weighted term rank, when in the full-text list
    vector_rank: int | None
    keyword_rank: int | None
    effective_date: date | None
    stored_sentences: Sentences | None = field(default=None, compare=False, repr=False)

    @cached_property
    def sentences(self) -> Sentences:
        """As stored at indexing; embedded now for a chunk indexed before they were."""
        if self.stored_sentences is not None:
            return self.stored_sentences
        return Sentences.embedded(texts=chunk_sentences(self.text))


# The HNSW settings and the search, sent as one message: one round trip, and PostgreSQL
# runs the two statements in one transaction (implicit, or the caller's), so the settings,
# local to it, hold for this search only and on its connection, even behind PgBouncer's
# transaction pooling. Django's cursors bind parameters client-side, which is what lets
# one message carry two statements.
_SETTINGS_SQL = """
SELECT set_config('hnsw.ef_search', %(ef_search)s, true),
       set_config('hnsw.iterative_scan', 'relaxed_order', true);
"""

_SEARCH_SQL = """
WITH vector_hits AS (
    SELECT id, similarity, row_number() OVER (ORDER BY similarity DESC) AS rank
    FROM (
        SELECT id, 1 - (embedding <=> %(embedding)s::vector) AS similarity
        FROM knowledge_chunk
        WHERE knowledge_base_id = ANY(%(knowledge_base_ids)s) AND NOT quarantined
        ORDER BY embedding <=> %(embedding)s::vector
        LIMIT %(vector_candidates)s
    ) nearest
),
searched AS (  -- the searched chunks' languages, and how many chunks each (`LanguageChunks`)
    SELECT language, sum(chunks) AS chunks
    FROM knowledge_languagechunks
    WHERE knowledge_base_id = ANY(%(knowledge_base_ids)s) AND chunks > 0
    GROUP BY language
),
query_terms AS (  -- the question stemmed as each language's chunks are; already normalised:
                  -- to_tsquery would stem each lexeme a second time
    SELECT DISTINCT searched.language, searched.chunks AS searched, lexeme
    FROM searched
    LEFT JOIN unnest(%(languages)s::text[], %(configs)s::text[]) AS config(language, name)
        USING (language),
    LATERAL unnest(tsvector_to_array(
        to_tsvector(coalesce(config.name, %(fallback_config)s)::regconfig, %(query)s)
    )) AS lexeme
),
term_weights AS MATERIALIZED (  -- each lexeme's chunks, as indexing counted them (`Lexeme`)
    SELECT language, lexeme, counted.ids, counted.chunks,
           ln(1 + (searched - counted.chunks + 0.5) / (counted.chunks + 0.5)) AS idf
    FROM query_terms,
    LATERAL (  -- one row per searched knowledge base holding it
        SELECT coalesce(sum(chunks), 0) AS chunks, array_agg(id) AS ids
        FROM knowledge_lexeme
        WHERE knowledge_base_id = ANY(%(knowledge_base_ids)s)
            AND language = query_terms.language AND lexeme = query_terms.lexeme
    ) counted
    WHERE counted.chunks > 0
),
rare_terms AS (  -- the rarest lexemes, up to the budget of chunks (always the rarest one)
    SELECT ids
    FROM (
        SELECT ids, chunks,
               sum(chunks) OVER (ORDER BY chunks, language, lexeme ROWS UNBOUNDED PRECEDING)
                   AS running
        FROM term_weights
    ) ranked
    WHERE running <= %(keyword_budget)s OR running = chunks
),
rare_postings AS MATERIALIZED (  -- the rare lexemes' postings: the candidates, up to the budget
    SELECT posting.chunk_id, term.idf * posting.weight AS part
    FROM (
        SELECT idf, unnest(ids) AS lexeme_id
        FROM term_weights
        WHERE ids IN (SELECT ids FROM rare_terms)
    ) term
    JOIN knowledge_chunkterm posting USING (lexeme_id)
    LIMIT %(keyword_budget)s
),
common_terms AS (  -- the question's other lexemes: weighed for those candidates only
    SELECT idf, unnest(ids) AS lexeme_id
    FROM term_weights
    WHERE ids NOT IN (SELECT ids FROM rare_terms)
),
keyword_hits AS (  -- per candidate, the sum of idf * weight over the question's lexemes
    SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS rank
    FROM (
        SELECT chunk_id AS id, sum(part) AS score
        FROM (
            SELECT chunk_id, part FROM rare_postings
            UNION ALL
            SELECT posting.chunk_id, common_terms.idf * posting.weight
            FROM common_terms
            JOIN knowledge_chunkterm posting USING (lexeme_id)
            -- as arrays: one index scan visits every (lexeme, candidate) pair in key order,
            -- where a join would read each common lexeme's postings whole
            WHERE posting.lexeme_id = ANY(ARRAY(SELECT lexeme_id FROM common_terms))
                AND posting.chunk_id = ANY(ARRAY(SELECT DISTINCT chunk_id FROM rare_postings))
        ) parts
        GROUP BY chunk_id
        ORDER BY score DESC, chunk_id
        LIMIT %(keyword_candidates)s
    ) matching
),
fused AS (
    SELECT id, sum(1.0 / (%(rrf_k)s + rank)) AS score
    FROM (SELECT id, rank FROM vector_hits UNION ALL SELECT id, rank FROM keyword_hits) ranked
    GROUP BY id
    ORDER BY score DESC
    LIMIT %(pool)s
),
pool AS MATERIALIZED (  -- the best fused passages, with what their freshness is judged on:
                       -- judged here, after the join, so no estimate of how many documents
                       -- are in their period can start the plan from the documents
    SELECT fused.id, fused.score, chunk.embedding, document.effective_date,
           document.superseded_by_id,
           NOT document.archived
               AND daterange(document.valid_from, document.valid_until, '[]')
                   @> ANY(%(days)s::date[]) AS searchable
    FROM fused
    JOIN knowledge_chunk chunk ON chunk.id = fused.id
    JOIN knowledge_document document ON document.id = chunk.document_id
),
fresh AS (  -- without passages a newer document restates (see the module's docstring)
    SELECT pool.id, pool.score
    FROM pool
    WHERE pool.searchable
        AND NOT EXISTS (
            SELECT 1
            FROM pool newer
            WHERE newer.searchable
                AND newer.effective_date > pool.effective_date
                AND 1 - (newer.embedding <=> pool.embedding) >= %(same_passage)s
        )
        AND NOT EXISTS (  -- a searchable newer document says it replaces this one
            SELECT 1
            FROM knowledge_document newer_document
            WHERE newer_document.id = pool.superseded_by_id
                AND NOT newer_document.archived
                AND daterange(newer_document.valid_from, newer_document.valid_until, '[]')
                    @> ANY(%(days)s::date[])
        )
        AND NOT EXISTS (  -- a value a newer document's passage gives differently, anywhere
            SELECT 1
            FROM knowledge_contradiction contradiction
            JOIN knowledge_chunk newer ON newer.id = contradiction.other_chunk_id
            JOIN knowledge_document newer_document ON newer_document.id = newer.document_id
            WHERE contradiction.chunk_id = pool.id
                AND newer_document.effective_date > pool.effective_date
                AND NOT newer.quarantined
                AND NOT newer_document.archived
                AND daterange(newer_document.valid_from, newer_document.valid_until, '[]')
                    @> ANY(%(days)s::date[])
        )
    ORDER BY pool.score DESC
    LIMIT %(k)s
)
SELECT chunk.id, document.id, document.title, document.url, chunk.heading, chunk.page,
       chunk.text, fresh.score, vector_hits.similarity, keyword_hits.score,
       vector_hits.rank, keyword_hits.rank, document.effective_date,
       chunk.sentences, chunk.sentence_embeddings
FROM fresh
JOIN knowledge_chunk chunk ON chunk.id = fresh.id
JOIN knowledge_document document ON document.id = chunk.document_id
LEFT JOIN vector_hits ON vector_hits.id = fresh.id
LEFT JOIN keyword_hits ON keyword_hits.id = fresh.id
ORDER BY fresh.score DESC, chunk.id
"""


def chunk_search(
    *,
    knowledge_bases: Sequence[KnowledgeBase],
    query: str,
    k: int = 8,
    mode: SearchMode = SearchMode.HYBRID,
) -> list[Hit]:
    knowledge_base_ids = [knowledge_base.pk for knowledge_base in knowledge_bases]
    if not knowledge_base_ids or not query.strip():
        return []
    embedding = query_embed(query=query)  # before the statement, never inside a transaction
    candidates = max(CANDIDATES, k)
    with connection.cursor() as cursor:
        cursor.execute(
            _SETTINGS_SQL + _SEARCH_SQL,
            {
                "ef_search": str(max(settings.KEEL_HNSW_EF_SEARCH, k)),
                "embedding": Vector(embedding).to_text(),
                "knowledge_base_ids": knowledge_base_ids,
                "query": query,
                "languages": list(TEXT_SEARCH_CONFIGS),
                "configs": list(TEXT_SEARCH_CONFIGS.values()),
                "fallback_config": FALLBACK_CONFIG,
                "vector_candidates": candidates if mode != SearchMode.KEYWORD else 0,
                "keyword_candidates": candidates if mode != SearchMode.VECTOR else 0,
                "keyword_budget": settings.KEEL_KEYWORD_BUDGET,
                "rrf_k": RRF_K,
                "pool": k * SUPERSEDED_POOL,
                "k": k,
                "same_passage": SAME_PASSAGE_SIMILARITY,
                "days": days_asked(text=query, today=timezone.localdate()),
            },
        )
        cursor.nextset()  # past the settings' row, to the search's
        rows = cursor.fetchall()
    return [Hit(*row[:-2], stored_sentences=_stored(*row[-2:])) for row in rows]


def _stored(texts: list[str], packed: bytes) -> Sentences | None:
    """None for a chunk indexed before its sentences were stored (index version 4)."""
    return Sentences.unpacked(texts=texts, packed=packed) if texts else None
