"""What `make bench` measures: ingestion, retrieval quality, search and answer latency.

Everything goes through Keel's public functions (`files_ingest`, `chunk_search`, ...),
so the figures are the product's own, not a re-implementation's.
"""

import gzip
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from tqdm import tqdm

from assistant.models import Workspace
from knowledge.embeddings import embedding_model, query_embed, texts_embed
from knowledge.ingest import Action, files_ingest, folder_files
from knowledge.models import Chunk, Document, KnowledgeBase
from knowledge.search import Hit, SearchMode, chunk_search

NDCG_DEPTH = 10
RECALL_DEPTH = 100  # also the k of the quality searches: 100 chunks, so at most 100 documents
LATENCY_K = 8  # what the assistant asks for
WARM_UP_QUERIES = 10
RATIO_TARGET = 0.9
HYBRID_NDCG_TARGET = 0.70
# Each abstract is written as `<corpus id>.md`: the pipeline parses a file by its extension,
# and the document's source (the file's path) gives the corpus id back as its stem.
ABSTRACT_SUFFIX = ".md"
PUBLISHED_NDCG_AT_10 = {"BM25 (BEIR paper)": 0.665, "all-MiniLM-L6-v2 (dense only)": 0.645}


class IngestionFailed(Exception):
    """An abstract the pipeline refused: figures over a partial corpus would mislead."""


@dataclass(frozen=True)
class Abstract:
    id: str
    title: str
    text: str

    @property
    def markdown(self) -> str:
        return f"# {self.title}\n\n{self.text}\n"

    @property
    def file_name(self) -> str:
        return f"{self.id}{ABSTRACT_SUFFIX}"


@dataclass(frozen=True)
class SciFact:
    abstracts: list[Abstract]
    claims: dict[str, str]  # query id → claim, for the claims that have relevance judgements
    relevant: dict[str, set[str]]  # query id → ids of the abstracts it cites


@dataclass(frozen=True)
class Ingestion:
    indexed: int
    duplicates: int  # same content as an abstract already in: skipped by `document_submit`
    chunks: int
    seconds: float


@dataclass(frozen=True)
class Latency:
    queries: int
    p50_ms: float
    p95_ms: float
    embed_p50_ms: float
    embed_p95_ms: float
    rest_p50_ms: float
    rest_p95_ms: float


SECTIONS = ("knowledge", "answers", "rails", "quarantine", "scale", "load")


def benchmark_run(
    *,
    project_root: Path,
    sections: Sequence[str] = SECTIONS,
    scale_sizes: Sequence[int] | None = None,
) -> dict:
    """The chosen sections' measurements, as one JSON-ready dict."""
    results = {}
    if "knowledge" in sections:
        results.update(knowledge_measure(project_root=project_root))
    if "answers" in sections:
        results["answers"] = answers_measure(project_root=project_root)
    if "rails" in sections:
        from bench.rails import injection_measure, personal_data_measure, policy_rules_measure

        shared_data = shared_data_folder(project_root)
        redteam_file = project_root / "assistant" / "rails" / "redteam_cases.jsonl"
        results["personal_data"] = personal_data_measure(shared_data=shared_data)
        results["injection"] = injection_measure(
            shared_data=shared_data,
            redteam_file=redteam_file,
            demo_questions_file=project_root / "knowledge" / "demo" / "questions.json",
            foreign_questions_file=project_root / "bench" / "foreign_questions.json",
        )
        demo = knowledge_base_fresh(
            workspace_slug="bench-rails", slug="help-center", name="Help center"
        )
        folder_ingest(
            knowledge_base=demo, folder=project_root / "knowledge" / "demo" / "help-center"
        )
        results["policy_rules"] = policy_rules_measure(
            redteam_file=redteam_file,
            demo_questions_file=project_root / "knowledge" / "demo" / "questions.json",
            workspace=demo.workspace,
        )
    if "quarantine" in sections:
        from bench.quarantine import quarantine_measure

        results["quarantine"] = quarantine_measure(
            project_root=project_root, shared_data=shared_data_folder(project_root)
        )
    if "load" in sections:
        results["load"] = load_section_measure(project_root=project_root)
    if "scale" in sections:
        from bench.scale import WHOLE_RUN_SIZES, scale_measure

        results["scale"] = scale_measure(
            project_root=project_root, sizes=scale_sizes or WHOLE_RUN_SIZES
        )
    return results


def load_section_measure(*, project_root: Path) -> dict:
    from bench.load import load_measure

    demo = knowledge_base_fresh(workspace_slug="bench-load", slug="help-center", name="Help center")
    folder_ingest(knowledge_base=demo, folder=project_root / "knowledge" / "demo" / "help-center")
    cases = json.loads((project_root / "knowledge" / "demo" / "questions.json").read_text())
    return load_measure(
        workspace_public_key=demo.workspace.public_key,
        questions=[case["question"] for case in cases],
    )


def shared_data_folder(project_root: Path) -> Path:
    return (project_root / os.environ.get("KEEL_SHARED_DATA", "../shared/data")).resolve()


def answers_measure(*, project_root: Path) -> dict:
    from bench.answers import answer_path_measure

    demo = knowledge_base_fresh(
        workspace_slug="bench-answers", slug="help-center", name="Help center"
    )
    folder_ingest(knowledge_base=demo, folder=project_root / "knowledge" / "demo" / "help-center")
    from bench.cold_start import cold_start_measure
    from bench.confidence import confidence_measure
    from bench.handoff import handoff_latency_measure
    from bench.rails import publish_gate_measure

    cases = json.loads((project_root / "knowledge" / "demo" / "questions.json").read_text())
    questions = [case["question"] for case in cases]
    expected_files = [case["document"] for case in cases]
    return {
        **answer_path_measure(
            workspace=demo.workspace, questions=questions, expected_files=expected_files
        ),
        "publish_gate": publish_gate_measure(workspace=demo.workspace),
        "handoff": handoff_latency_measure(workspace=demo.workspace),
        "cold_start": cold_start_measure(workspace=demo.workspace, questions=questions),
        "confidence": confidence_measure(
            workspace=demo.workspace,
            questions=questions,
            expected_files=expected_files,
            redteam_file=project_root / "assistant" / "rails" / "redteam_cases.jsonl",
        ),
    }


def knowledge_measure(*, project_root: Path) -> dict:
    """Ingestion, retrieval quality and search latency, in the order that keeps each fair."""
    scifact_folder = shared_data_folder(project_root) / "scifact"
    scifact = scifact_load(folder=scifact_folder)
    knowledge_base = knowledge_base_fresh(
        workspace_slug="bench-scifact", slug="scifact", name="SciFact"
    )
    model_warm_up(abstracts=scifact.abstracts)

    ingestion = scifact_ingest(knowledge_base=knowledge_base, abstracts=scifact.abstracts)
    texts = embedded_texts(knowledge_base=knowledge_base)
    bare_seconds = seconds_taken(
        lambda: embedding_model().encode(
            texts, batch_size=settings.KEEL_EMBEDDING_BATCH_SIZE, normalize_embeddings=True
        )
    )
    encoder_seconds = seconds_taken(lambda: texts_embed(texts=texts))
    pipeline_rate = ingestion.chunks / ingestion.seconds
    bare_rate = ingestion.chunks / bare_seconds
    encoder_rate = ingestion.chunks / encoder_seconds

    quality = {
        mode.value: retrieval_quality(knowledge_base=knowledge_base, scifact=scifact, mode=mode)
        for mode in SearchMode
    }
    scifact_latency, _ = search_latency(
        knowledge_base=knowledge_base, questions=list(scifact.claims.values())
    )

    demo_folder = project_root / "knowledge" / "demo" / "help-center"
    demo = knowledge_base_fresh(workspace_slug="bench-demo", slug="help-center", name="Help center")
    demo_documents = folder_ingest(knowledge_base=demo, folder=demo_folder)
    cases = json.loads((project_root / "knowledge" / "demo" / "questions.json").read_text())
    demo_latency, demo_hits = search_latency(
        knowledge_base=demo, questions=[case["question"] for case in cases]
    )
    demo_hit_rate = hit_rate_at_3(
        hits_by_question=demo_hits,
        expected_files=[case["document"] for case in cases],
        sources=document_sources(knowledge_base=demo),
    )

    return {
        "dataset": {
            "name": "SciFact (BEIR test split)",
            "folder": str(scifact_folder),
            "abstracts": len(scifact.abstracts),
            "queries": len(scifact.claims),
        },
        "ingestion": {
            "documents_indexed": ingestion.indexed,
            "duplicates_skipped": ingestion.duplicates,
            "chunks": ingestion.chunks,
            "embedding_batch_size": settings.KEEL_EMBEDDING_BATCH_SIZE,
            "pipeline_seconds": round(ingestion.seconds, 2),
            "pipeline_chunks_per_second": round(pipeline_rate, 2),
            "texts_embedded": len(texts),
            "bare_seconds": round(bare_seconds, 2),
            "bare_chunks_per_second": round(bare_rate, 2),
            "ratio_pipeline_to_bare": round(pipeline_rate / bare_rate, 3),
            "keel_encoder_seconds": round(encoder_seconds, 2),
            "keel_encoder_chunks_per_second": round(encoder_rate, 2),
            "ratio_pipeline_to_keel_encoder": round(pipeline_rate / encoder_rate, 3),
            "ratio_target": RATIO_TARGET,
        },
        "retrieval": {
            "ndcg_depth": NDCG_DEPTH,
            "recall_depth": RECALL_DEPTH,
            "modes": quality,
            "published_ndcg_at_10": PUBLISHED_NDCG_AT_10,
            "hybrid_ndcg_target": HYBRID_NDCG_TARGET,
        },
        "latency": {
            "k": LATENCY_K,
            "hnsw_ef_search": settings.KEEL_HNSW_EF_SEARCH,
            "scifact": asdict(scifact_latency),
            "demo_help_center": {
                **asdict(demo_latency),
                "documents": demo_documents,
                "hit_at_3": round(demo_hit_rate, 3),
            },
        },
    }


def scifact_load(*, folder: Path) -> SciFact:
    """The BEIR test split, read in place: the data set is never copied into the project."""
    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        abstracts = [
            Abstract(id=row["_id"], title=row["title"], text=row["text"])
            for row in map(json.loads, lines)
        ]
    with (folder / "queries.jsonl").open(encoding="utf-8") as lines:
        claims = {row["_id"]: row["text"] for row in map(json.loads, lines)}
    relevant: dict[str, set[str]] = {}
    qrels = (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for line in qrels:
        query_id, corpus_id, score = line.split("\t")
        if int(score) > 0:
            relevant.setdefault(query_id, set()).add(corpus_id)
    return SciFact(
        abstracts=abstracts,
        claims={query_id: claims[query_id] for query_id in relevant},
        relevant=relevant,
    )


def knowledge_base_fresh(
    *, workspace_slug: str, slug: str, name: str, workspace_name: str = ""
) -> KnowledgeBase:
    """An empty knowledge base in a bench workspace (named `workspace_name`, else after the
    knowledge base); the last run's workspace, files included, goes."""
    bench_workspace_delete(workspace_slug=workspace_slug)
    with transaction.atomic():
        workspace = Workspace.objects.create(
            name=workspace_name or f"Bench: {name}", slug=workspace_slug
        )
        return KnowledgeBase.objects.create(workspace=workspace, name=name, slug=slug)


def bench_workspace_delete(*, workspace_slug: str) -> None:
    """A bench workspace gone with its stored files, so no other run reads its rows."""
    stale_files = list(
        Document.objects.filter(knowledge_base__workspace__slug=workspace_slug)
        .exclude(file="")
        .values_list("file", flat=True)
    )
    Workspace.objects.filter(slug=workspace_slug).delete()
    for file_name in stale_files:
        default_storage.delete(file_name)


def model_warm_up(*, abstracts: Sequence[Abstract]) -> None:
    """Load the model and run both batch shapes once, so neither timing pays for it."""
    texts = [abstract.markdown for abstract in abstracts[:64]]
    texts_embed(texts=texts)
    for text in texts[:8]:
        texts_embed(texts=[text])


def scifact_ingest(*, knowledge_base: KnowledgeBase, abstracts: Sequence[Abstract]) -> Ingestion:
    """Every abstract as a Markdown file, through `files_ingest`, as `manage.py ingest` runs.

    The files are written to a temporary folder first; only the ingestion itself is timed.
    """
    with tempfile.TemporaryDirectory(prefix="keel-bench-scifact-") as folder:
        paths = []
        for abstract in abstracts:
            path = Path(folder) / abstract.file_name
            path.write_text(abstract.markdown)
            paths.append(path)
        started = time.perf_counter()
        outcomes = list(
            tqdm(
                files_ingest(knowledge_base=knowledge_base, paths=paths),
                total=len(paths),
                desc="Ingesting SciFact",
                unit="doc",
            )
        )
        seconds = time.perf_counter() - started
    failed = [outcome for outcome in outcomes if outcome.action == Action.FAILED]
    if failed:
        raise IngestionFailed(f"{len(failed)} abstracts failed, e.g. {failed[0].reason}")
    return Ingestion(
        indexed=sum(outcome.action == Action.ADDED for outcome in outcomes),
        duplicates=sum(outcome.action == Action.SKIPPED for outcome in outcomes),
        chunks=Chunk.objects.filter(knowledge_base=knowledge_base).count(),
        seconds=seconds,
    )


def embedded_texts(*, knowledge_base: KnowledgeBase) -> list[str]:
    """What the pipeline embedded: each stored chunk (`ChunkDraft.embedding_input`) and
    each of its sentences (`ChunkDraft.sentences`)."""
    rows = (
        Chunk.objects.filter(knowledge_base=knowledge_base)
        .order_by("document_id", "position")
        .values_list("heading", "text", "sentences")
    )
    return [
        *(f"{heading}\n{text}" for heading, text, _ in rows),
        *(sentence for _, _, sentences in rows for sentence in sentences),
    ]


def seconds_taken(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def retrieval_quality(
    *, knowledge_base: KnowledgeBase, scifact: SciFact, mode: SearchMode
) -> dict[str, float]:
    """Mean nDCG@10 and recall@100 over the claims, documents ranked by their best chunk."""
    corpus_ids = {
        document_id: Path(source).stem
        for document_id, source in document_sources(knowledge_base=knowledge_base).items()
    }
    ndcgs, recalls = [], []
    for query_id, claim in tqdm(scifact.claims.items(), desc=f"Searching ({mode})", unit="claim"):
        hits = chunk_search(
            knowledge_bases=[knowledge_base], query=claim, k=RECALL_DEPTH, mode=mode
        )
        ranked = documents_ranked(hits=hits, sources=corpus_ids)
        relevant = scifact.relevant[query_id]
        ndcgs.append(ndcg(ranked=ranked, relevant=relevant, depth=NDCG_DEPTH))
        recalls.append(len(relevant.intersection(ranked[:RECALL_DEPTH])) / len(relevant))
    return {
        "ndcg_at_10": round(float(np.mean(ndcgs)), 4),
        "recall_at_100": round(float(np.mean(recalls)), 4),
    }


def document_sources(*, knowledge_base: KnowledgeBase) -> dict[int, str]:
    return dict(Document.objects.filter(knowledge_base=knowledge_base).values_list("id", "source"))


def documents_ranked(*, hits: Sequence[Hit], sources: dict[int, str]) -> list[str]:
    """Document sources in hit order, each at the rank of its first chunk."""
    ranked: list[str] = []
    for hit in hits:
        source = sources[hit.document_id]
        if source not in ranked:
            ranked.append(source)
    return ranked


def ndcg(*, ranked: Sequence[str], relevant: set[str], depth: int) -> float:
    """Binary-relevance nDCG, as BEIR and `sanity_bm25.py` compute it."""
    gain = sum(
        1 / math.log2(rank + 2) for rank, doc in enumerate(ranked[:depth]) if doc in relevant
    )
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), depth)))
    return gain / ideal


def search_latency(
    *, knowledge_base: KnowledgeBase, questions: Sequence[str]
) -> tuple[Latency, list[list[Hit]]]:
    """Hybrid search as the assistant calls it, after a warm-up; the query embedding apart."""
    for question in questions[:WARM_UP_QUERIES]:
        chunk_search(knowledge_bases=[knowledge_base], query=question, k=LATENCY_K)
    embeds, rests, hits_by_question = [], [], []
    for question in questions:
        started = time.perf_counter()
        texts_embed(texts=[question])  # the query's embedding, never cached
        embeds.append(time.perf_counter() - started)
        query_embed(query=question)  # now the search finds the vector in the cache
        started = time.perf_counter()
        hits = chunk_search(knowledge_bases=[knowledge_base], query=question, k=LATENCY_K)
        rests.append(time.perf_counter() - started)
        hits_by_question.append(hits)
    totals = [embed + rest for embed, rest in zip(embeds, rests, strict=True)]
    latency = Latency(
        queries=len(questions),
        p50_ms=percentile_ms(totals, 50),
        p95_ms=percentile_ms(totals, 95),
        embed_p50_ms=percentile_ms(embeds, 50),
        embed_p95_ms=percentile_ms(embeds, 95),
        rest_p50_ms=percentile_ms(rests, 50),
        rest_p95_ms=percentile_ms(rests, 95),
    )
    return latency, hits_by_question


def percentile_ms(seconds: Sequence[float], percent: int) -> float:
    return round(float(np.percentile(seconds, percent)) * 1000, 1)


def folder_ingest(*, knowledge_base: KnowledgeBase, folder: Path) -> int:
    """Ingest a folder as `manage.py ingest` does; the number of documents now ready."""
    paths = folder_files(path=folder)
    outcomes = files_ingest(knowledge_base=knowledge_base, paths=paths)
    list(tqdm(outcomes, total=len(paths), desc="Ingesting help center", unit="file"))  # lazy
    return Document.objects.filter(
        knowledge_base=knowledge_base, status=Document.Status.READY
    ).count()


def hit_rate_at_3(
    *,
    hits_by_question: Sequence[Sequence[Hit]],
    expected_files: Sequence[str],
    sources: dict[int, str],
) -> float:
    """Share of questions whose expected file is among the first three documents found."""
    found = sum(
        any(
            Path(source).name == expected
            for source in documents_ranked(hits=hits, sources=sources)[:3]
        )
        for hits, expected in zip(hits_by_question, expected_files, strict=True)
    )
    return found / len(expected_files)
