"""Retrieval at scale: `chunk_search` over 10k and 100k chunks, against bare HNSW and exact search.

Embedding 100k real texts would take the 2-core VM hours, so the chunks are synthesised
from real MiniLM vectors (the method is also written into the results, `SYNTHESIS`):
every SciFact abstract's title is embedded by the product's model; a chunk's vector is a
normalised random mix of two or three of them; its heading is the heaviest source's title
and its text a run of sentences from each source's abstract, so the full-text leg searches
real prose. The queries are the SciFact claims, embedded for real and never a source.

The chunks are copied in (COPY, binary) as the only chunks of the table, in a workspace of
their own; the HNSW and GIN indexes are then built from `Chunk.Meta.indexes`, the
definitions the migrations create, and the table is vacuumed and analysed. 10k chunks are
measured, then 90k more are added and the indexes rebuilt for 100k. At the end the
synthetic chunks are deleted, so other sections never search a table grown by this one.
"""

import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
from django.db import connection, transaction
from django.test import override_settings
from pgvector import Vector
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo
from tqdm import tqdm

from assistant.models import Workspace
from bench.measurements import WARM_UP_QUERIES, percentile_ms, scifact_load, shared_data_folder
from knowledge import search
from knowledge.embeddings import texts_embed
from knowledge.models import Chunk, Document, KnowledgeBase
from knowledge.search import SearchMode, chunk_search

SIZES = (10_000, 100_000)  # `python -m bench scale`
# The whole `make bench` stops at 10k: 100k adds about a quarter of an hour on a 2-core VM.
WHOLE_RUN_SIZES = (10_000,)
EF_SEARCH_VALUES = (40, 100, 150, 200)
RECALL_DEPTH = 10  # recall@10, and the k of every search timed here
KEYWORD_CHECK_QUERIES = 30  # the exhaustive full-text list takes seconds a question at 100k
EXHAUSTIVE_BUDGET = 2**31 - 1  # a KEEL_KEYWORD_BUDGET above any chunk count: nothing left out
LATENCY_TARGET_MS = 10.0
RECALL_TARGET = 0.97
CHUNKS_PER_DOCUMENT = 20
SEED = 2026
WORKSPACE_SLUG = "bench-scale"
# Building the 100k index in memory rather than on disk, as an operator would for a large
# build; the graph is the same either way (pgvector builds it in memory when it fits).
BUILD_MAINTENANCE_WORK_MEM = "1GB"
SYNTHESIS = (
    "each chunk vector is a normalised random mix of 2 or 3 real all-MiniLM-L6-v2 vectors "
    "of SciFact abstract titles (flat Dirichlet weights); heading: the heaviest source's "
    "title; text: a run of sentences from each source's abstract, in proportion to its "
    "weight; queries: the SciFact test claims, embedded for real (never a source)"
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Source:
    title: str
    sentences: list[str]


@dataclass(frozen=True)
class Synthetic:
    headings: list[str]
    texts: list[str]
    vectors: np.ndarray  # float32, normalised


def scale_measure(*, project_root: Path, sizes: Sequence[int] = SIZES) -> dict:
    """Per size: index build, exact search, and per ef_search bare HNSW and `chunk_search`."""
    scifact = scifact_load(folder=shared_data_folder(project_root) / "scifact")
    sources = [
        Source(title=abstract.title, sentences=SENTENCE_END.split(abstract.text))
        for abstract in scifact.abstracts
    ]
    source_vectors = texts_embed(texts=[source.title for source in sources])
    claims = list(scifact.claims.values())
    claim_vectors, embed_seconds = claims_embed(claims=claims)
    synthetic = chunks_synthesise(
        sources=sources, vectors=source_vectors, count=max(sizes), seed=SEED
    )

    figures = {}
    indexes_drop()
    try:
        bench_workspaces_delete()
        knowledge_base = knowledge_base_create()
        loaded = 0
        for size in sorted(sizes):
            started = time.perf_counter()
            chunks_copy(knowledge_base=knowledge_base, synthetic=synthetic, start=loaded, end=size)
            load_seconds = time.perf_counter() - started
            loaded = size
            build_seconds = indexes_build()
            load_before = os.getloadavg()[0]
            figures[str(size)] = {
                "load_seconds": round(load_seconds, 1),
                "index_build_seconds": round(build_seconds, 1),
                "index_mib": index_mib(name="chunk_embedding_hnsw"),
                **size_measure(
                    knowledge_base=knowledge_base,
                    claim_vectors=claim_vectors,
                    label=f"{size:,}",
                ),
                "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
            }
            indexes_drop()
        started = time.perf_counter()
        bench_workspaces_delete()  # as deleting a knowledge base of that size would
        delete_seconds = time.perf_counter() - started
    finally:
        indexes_build()
    return {
        "synthesis": SYNTHESIS,
        "sources": len(sources),
        "queries": len(claims),
        "k": RECALL_DEPTH,
        "ef_search_values": list(EF_SEARCH_VALUES),
        "latency_target_ms": LATENCY_TARGET_MS,
        "recall_target": RECALL_TARGET,
        "build_maintenance_work_mem": BUILD_MAINTENANCE_WORK_MEM,
        "query_embedding": {
            "p50_ms": percentile_ms(embed_seconds, 50),
            "p95_ms": percentile_ms(embed_seconds, 95),
        },
        "sizes": figures,
        "delete_seconds": round(delete_seconds, 1),
    }


def claims_embed(*, claims: Sequence[str]) -> tuple[dict[str, np.ndarray], list[float]]:
    """Each claim embedded alone, as `chunk_search` does (uncached): its vector and how long
    it took."""
    for claim in claims[:WARM_UP_QUERIES]:
        texts_embed(texts=[claim])
    vectors, seconds = {}, []
    for claim in claims:
        started = time.perf_counter()
        [vectors[claim]] = texts_embed(texts=[claim])
        seconds.append(time.perf_counter() - started)
    return vectors, seconds


def chunks_synthesise(
    *, sources: Sequence[Source], vectors: np.ndarray, count: int, seed: int
) -> Synthetic:
    """`count` chunks, each a weighted mix of two or three real sources (see `SYNTHESIS`)."""
    rng = np.random.default_rng(seed)
    headings, texts = [], []
    mixed = np.empty((count, vectors.shape[1]), dtype=np.float32)
    for row in range(count):
        parts = rng.choice(len(sources), size=rng.integers(2, 4), replace=False)
        weights = rng.dirichlet(np.ones(len(parts)))
        mix = weights @ vectors[parts]
        mixed[row] = mix / np.linalg.norm(mix)
        headings.append(sources[parts[np.argmax(weights)]].title)
        runs = []
        for part, weight in zip(parts, weights, strict=True):
            sentences = sources[part].sentences
            length = max(1, round(weight * len(sentences)))
            first = rng.integers(0, len(sentences) - length + 1)
            runs.extend(sentences[first : first + length])
        texts.append(" ".join(runs))
    return Synthetic(headings=headings, texts=texts, vectors=mixed)


def bench_workspaces_delete() -> None:
    """Leave the scale chunks alone in the table: every bench workspace goes (each section
    makes its own again when it runs). The synthetic chunks are never cited, so SQL deletes
    them without Django collecting 100k rows first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM knowledge_chunk WHERE knowledge_base_id IN ("
            " SELECT id FROM knowledge_knowledgebase WHERE workspace_id IN ("
            "  SELECT id FROM assistant_workspace WHERE slug = %s))",
            [WORKSPACE_SLUG],
        )
    Workspace.objects.filter(slug__startswith="bench-").delete()


def knowledge_base_create() -> KnowledgeBase:
    workspace = Workspace.objects.create(name="Bench: scale", slug=WORKSPACE_SLUG)
    knowledge_base = KnowledgeBase.objects.create(
        workspace=workspace, name="Synthetic SciFact", slug="synthetic"
    )
    others = Chunk.objects.exclude(knowledge_base=knowledge_base).count()
    if others:  # the bare HNSW baseline and exact search read the whole table
        raise RuntimeError(f"{others} chunks of non-bench workspaces are in the bench database")
    return knowledge_base


def chunks_copy(*, knowledge_base: KnowledgeBase, synthetic: Synthetic, start: int, end: int):
    """Synthetic chunks `start` to `end`, CHUNKS_PER_DOCUMENT to a document, by binary COPY."""
    documents = Document.objects.bulk_create(
        Document(
            knowledge_base=knowledge_base,
            title=synthetic.headings[first],
            source=f"synthetic/{first // CHUNKS_PER_DOCUMENT}",
            status=Document.Status.READY,
            chunk_count=min(CHUNKS_PER_DOCUMENT, end - first),
        )
        for first in range(start, end, CHUNKS_PER_DOCUMENT)
    )
    columns = (
        "document_id, knowledge_base_id, position, heading, text, token_count, embedding,"
        " quarantined, quarantine_reason"
    )
    connection.ensure_connection()
    raw = connection.connection
    vector_type = TypeInfo.fetch(raw, "vector")
    with transaction.atomic(), raw.cursor() as cursor:
        register_vector_info(cursor, vector_type)
        with cursor.copy(f"COPY knowledge_chunk ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(
                ["int8", "int8", "int4", "varchar", "text", "int4", "vector", "bool", "varchar"]
            )
            for row in tqdm(range(start, end), desc="Copying synthetic chunks", unit="chunk"):
                text = synthetic.texts[row]
                copy.write_row(
                    (
                        documents[(row - start) // CHUNKS_PER_DOCUMENT].pk,
                        knowledge_base.pk,
                        row % CHUNKS_PER_DOCUMENT,
                        synthetic.headings[row],
                        text,
                        len(text.split()),  # words, not word pieces: nothing searched reads it
                        synthetic.vectors[row],
                        False,
                        "",
                    )
                )


def production_indexes() -> list:
    return [index for index in Chunk._meta.indexes if index.name in INDEX_NAMES]


INDEX_NAMES = ("chunk_embedding_hnsw", "chunk_search_gin")


def indexes_drop() -> None:
    with connection.cursor() as cursor:
        for name in INDEX_NAMES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


def indexes_build() -> float:
    """Both search indexes as the migrations define them, then VACUUM ANALYZE (the postings
    too: the full-text leg reads them by index-only scans); seconds taken."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = %s", [BUILD_MAINTENANCE_WORK_MEM])
        with connection.schema_editor() as editor:
            for index in production_indexes():
                if not index_exists(name=index.name):
                    editor.add_index(Chunk, index)
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("VACUUM ANALYZE knowledge_chunk, knowledge_chunkterm")
    return time.perf_counter() - started


def index_exists(*, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def index_mib(*, name: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s::regclass)", [name])
        return round(cursor.fetchone()[0] / 1024**2, 1)


def size_measure(
    *,
    knowledge_base: KnowledgeBase,
    claim_vectors: dict[str, np.ndarray],
    label: str,
) -> dict:
    exact, exact_seconds = exact_nearest(knowledge_base=knowledge_base, vectors=claim_vectors)
    by_ef = {}
    for ef_search in EF_SEARCH_VALUES:
        with (
            precomputed_query_embeddings(vectors=claim_vectors),
            override_settings(KEEL_HNSW_EF_SEARCH=ef_search),
        ):
            by_ef[str(ef_search)] = searches_time(
                timers=searchers(knowledge_base=knowledge_base, ef_search=ef_search),
                vectors=claim_vectors,
                exact=exact,
                desc=f"{label}, ef_search {ef_search}",
            )
    with precomputed_query_embeddings(vectors=claim_vectors):
        keyword = keyword_agreement(knowledge_base=knowledge_base, claims=list(claim_vectors))
    return {
        "exact": {
            "p50_ms": percentile_ms(exact_seconds, 50),
            "p95_ms": percentile_ms(exact_seconds, 95),
        },
        "ef_search": by_ef,
        "keyword_against_exhaustive": keyword,
    }


def keyword_agreement(*, knowledge_base: KnowledgeBase, claims: Sequence[str]) -> dict:
    """The full-text list within KEEL_KEYWORD_BUDGET against the exhaustive one, which scores
    every chunk holding any of the question's words: recall@10, and the exhaustive's cost."""
    claims = claims[:KEYWORD_CHECK_QUERIES]

    def keyword_list(claim: str) -> set[int]:
        hits = chunk_search(
            knowledge_bases=[knowledge_base], query=claim, k=RECALL_DEPTH, mode=SearchMode.KEYWORD
        )
        return {hit.chunk_id for hit in hits}

    budgeted = {claim: keyword_list(claim) for claim in claims}
    exhaustive, seconds = {}, []
    with override_settings(KEEL_KEYWORD_BUDGET=EXHAUSTIVE_BUDGET):
        for claim in tqdm(claims, desc="Exhaustive full text", unit="claim"):
            started = time.perf_counter()
            exhaustive[claim] = keyword_list(claim)
            seconds.append(time.perf_counter() - started)
    recalls = [
        len(budgeted[claim] & exhaustive[claim]) / len(exhaustive[claim])
        for claim in claims
        if exhaustive[claim]
    ]
    return {
        "queries": len(claims),
        "recall_at_10": round(float(np.mean(recalls)), 4),
        "exhaustive_p50_ms": percentile_ms(seconds, 50),
        "exhaustive_p95_ms": percentile_ms(seconds, 95),
    }


def exact_nearest(
    *, knowledge_base: KnowledgeBase, vectors: dict[str, np.ndarray]
) -> tuple[dict[str, list[int]], list[float]]:
    """The true RECALL_DEPTH nearest chunks per claim: a sequential scan, no index."""
    nearest, seconds = {}, []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        for claim, vector in tqdm(vectors.items(), desc="Exact search", unit="claim"):
            started = time.perf_counter()
            cursor.execute(
                "SELECT id FROM knowledge_chunk WHERE knowledge_base_id = %s"
                " ORDER BY embedding <=> %s::vector LIMIT %s",
                [knowledge_base.pk, Vector(vector).to_text(), RECALL_DEPTH],
            )
            nearest[claim] = [row[0] for row in cursor.fetchall()]
            seconds.append(time.perf_counter() - started)
    return nearest, seconds


@contextmanager
def precomputed_query_embeddings(*, vectors: dict[str, np.ndarray]) -> Iterator[None]:
    """`chunk_search` with each claim's embedding looked up, not computed: the model's
    ~20 ms per query is the same at any size and is reported apart (`query_embedding`)."""
    with mock.patch.object(search, "query_embed", lambda *, query: vectors[query]):
        yield


Searcher = Callable[[str, np.ndarray], list[int]]


def searchers(*, knowledge_base: KnowledgeBase, ef_search: int) -> dict[str, Searcher]:
    """The bare HNSW query through psycopg (the baseline), and `chunk_search` in two modes."""
    connection.ensure_connection()
    raw = connection.connection
    raw.execute(f"SET hnsw.ef_search = {int(ef_search)}")

    def bare_hnsw(claim: str, vector: np.ndarray) -> list[int]:
        rows = raw.execute(
            "SELECT id FROM knowledge_chunk ORDER BY embedding <=> %s::vector LIMIT %s",
            [Vector(vector).to_text(), RECALL_DEPTH],
        ).fetchall()
        return [row[0] for row in rows]

    def product(mode: SearchMode) -> Searcher:
        def run(claim: str, vector: np.ndarray) -> list[int]:
            hits = chunk_search(
                knowledge_bases=[knowledge_base], query=claim, k=RECALL_DEPTH, mode=mode
            )
            return [hit.chunk_id for hit in hits]

        return run

    return {
        "bare_hnsw": bare_hnsw,
        "chunk_search_vector": product(SearchMode.VECTOR),
        "chunk_search_hybrid": product(SearchMode.HYBRID),
    }


def searches_time(
    *,
    timers: dict[str, Searcher],
    vectors: dict[str, np.ndarray],
    exact: dict[str, list[int]],
    desc: str,
) -> dict:
    """Each claim through every searcher in turn, so load on the VM falls on all alike.
    `chunk_search` is told ef_search by the caller (KEEL_HNSW_EF_SEARCH)."""
    claims = list(vectors)
    for claim in claims[:WARM_UP_QUERIES]:
        for run in timers.values():
            run(claim, vectors[claim])
    seconds = {name: [] for name in timers}
    recalls = {name: [] for name in timers}
    for claim in tqdm(claims, desc=desc, unit="claim"):
        for name, run in timers.items():
            started = time.perf_counter()
            ids = run(claim, vectors[claim])
            seconds[name].append(time.perf_counter() - started)
            recalls[name].append(len(set(ids) & set(exact[claim])) / RECALL_DEPTH)
    baseline = np.median(seconds["bare_hnsw"])
    figures = {}
    for name in timers:
        figures[name] = {
            "p50_ms": percentile_ms(seconds[name], 50),
            "p95_ms": percentile_ms(seconds[name], 95),
            "ratio_to_bare_p50": round(float(np.median(seconds[name]) / baseline), 2),
        }
        if name != "chunk_search_hybrid":  # fused with full text: not a nearest-neighbour list
            figures[name]["recall_at_10"] = round(float(np.mean(recalls[name])), 4)
    return figures
