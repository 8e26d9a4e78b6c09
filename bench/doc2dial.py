"""`python -m bench doc2dial [--limit N]`: doc2dial's first-turn questions through the
same harness as a company's acceptance kit.

doc2dial (the shared data folder's `support/`, read in place) holds real help pages and
the questions people asked about them, each with its gold page and gold answer span. A
fresh workspace (Keel's default policy, offline unless an LLM is configured) gets every
page as a Markdown document (the page's title, its section headings as headings); each
question goes through a real server's customer websocket, one new visitor each. What
was retrieved, cited and answered is read from Keel's records: the answer's stored trace
(the passages the assistant retrieved), its citations and its text.
"""

import gzip
import json
import os
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePath

from django.conf import settings
from django.utils.text import slugify

from assistant.models import Message
from bench.customer_turns import (
    Sent,
    keel_server_running,
    messages_send,
    site_knowledge_base,
    turn_read,
)
from bench.measurements import (
    bench_workspace_delete,
    document_sources,
    documents_ranked,
    folder_ingest,
)
from bench.report import machine_describe
from knowledge.models import Chunk, Document, KnowledgeBase
from knowledge.search import chunk_search

RESULTS = Path(__file__).resolve().parent / "results"
WORKSPACE_SLUG = "bench-doc2dial"
SITE = "https://help.doc2dial.example"
SAMPLE_SEED = 21  # the sample is the same every run
SPAN_RECALL_ENOUGH = 0.5  # an answer "holds" the gold span with half of its tokens
RANKED_PASSAGES = 20  # the retrieval-only ranking: documents of the best 20 passages
# "[1]": the pages' own link footnotes and Keel's citation markers, neither of them words.
MARKERS = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Page:
    doc_id: str
    title: str
    text: str  # sections apart by blank lines, each opening with its heading line

    @property
    def markdown(self) -> str:
        blocks = [block.strip() for block in re.split(r"\n\s*\n", self.text) if block.strip()]
        return "\n\n".join([f"# {self.title}", *map(_section_markdown, blocks)]) + "\n"


@dataclass(frozen=True)
class Question:
    id: str
    doc_id: str
    text: str
    gold_span: str


def _section_markdown(block: str) -> str:
    heading, _, body = block.partition("\n")
    return f"## {heading.strip()}\n\n{body.strip()}" if body.strip() else f"## {heading.strip()}"


def doc2dial_load(*, folder: Path, limit: int | None) -> tuple[list[Page], list[Question]]:
    """Every page, and the first-turn questions: all, or a fixed sample of `limit`. Pages
    with the same title and text are one page (Keel keeps one document of the same
    content), under the first one's doc_id, which their questions then name."""
    with (folder / "docs.jsonl").open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    first_of = {}
    for row in rows:
        first_of.setdefault((row["title"], row["text"]), row["doc_id"])
    same_as = {row["doc_id"]: first_of[row["title"], row["text"]] for row in rows}
    pages = [
        Page(doc_id=doc_id, title=title, text=text) for (title, text), doc_id in first_of.items()
    ]
    with gzip.open(folder / "questions.jsonl.gz", "rt", encoding="utf-8") as lines:
        questions = [
            Question(
                id=row["id"],
                doc_id=same_as[row["doc_id"]],
                text=row["question"],
                gold_span=row["answer"],
            )
            for row in map(json.loads, lines)
            if row["is_first_turn"]
        ]
    if limit is not None and limit < len(questions):
        questions = sorted(random.Random(SAMPLE_SEED).sample(questions, limit), key=lambda q: q.id)
    return pages, questions


def pages_ingest(*, knowledge_base: KnowledgeBase, pages: Sequence[Page]) -> dict[str, str]:
    """Every page as a Markdown file (`manage.py ingest`'s path); returns each file's name
    with its page's doc_id, by which citations and retrieved passages map back."""
    doc_ids = {}
    with tempfile.TemporaryDirectory(prefix="keel-bench-doc2dial-") as folder:
        for number, page in enumerate(pages, start=1):
            file_name = f"{number:03d}-{slugify(page.title)[:80]}.md"
            (Path(folder) / file_name).write_text(page.markdown, encoding="utf-8")
            doc_ids[file_name] = page.doc_id
        folder_ingest(knowledge_base=knowledge_base, folder=Path(folder))
    return doc_ids


def questions_ask(
    *,
    address: str,
    knowledge_base: KnowledgeBase,
    questions: Sequence[Question],
    doc_ids: dict[str, str],
) -> list[dict]:
    """Each question through the customer websocket at `address`, then its result line."""
    sent = messages_send(
        address=address,
        public_key=knowledge_base.workspace.public_key,
        origin=SITE,
        messages=[{"id": question.id, "text": question.text} for question in questions],
    )
    return [
        question_result(
            question=question,
            sent=sent[question.id],
            doc_ids=doc_ids,
            knowledge_base=knowledge_base,
        )
        for question in questions
    ]


def question_result(
    *, question: Question, sent: Sent, doc_ids: dict[str, str], knowledge_base: KnowledgeBase
) -> dict:
    """What Keel did with one question, from its records, beside the gold page and span."""
    turn = turn_read(sent=sent)
    answered = any(reply.outcome == Message.Outcome.ANSWERED for reply in turn.replies)
    retrieved_chunks = [
        passage["chunk_id"]
        for reply in turn.replies
        for passage in reply.trace.get("retrieved", [])
    ]
    sources = dict(
        Chunk.objects.filter(pk__in=retrieved_chunks).values_list("pk", "document__source")
    )
    retrieved = list(
        dict.fromkeys(doc_ids[PurePath(sources[chunk]).name] for chunk in retrieved_chunks)
    )
    searched = documents_ranked(
        hits=chunk_search(knowledge_bases=[knowledge_base], query=question.text, k=RANKED_PASSAGES),
        sources=document_sources(knowledge_base=knowledge_base),
    )
    return {
        "id": question.id,
        "question": question.text,
        "gold_doc": question.doc_id,
        "outcome": ",".join(reply.outcome for reply in turn.replies),
        "answered": answered,
        "timed_out": sent.timed_out,
        "answer_text": turn.answer_text,
        "retrieved_docs": retrieved,
        "searched_docs": [doc_ids[PurePath(source).name] for source in searched[:5]],
        "cited_docs": [doc_ids[PurePath(source).name] for source in turn.cited_sources],
        "span_recall": round(span_recall(answer=turn.answer_text, gold_span=question.gold_span), 4)
        if answered
        else 0.0,
    }


def span_recall(*, answer: str, gold_span: str) -> float:
    """The share of the gold span's tokens (lowercased words, punctuation and footnote
    markers dropped, stop words kept) that the answer holds, each as often as in the span."""
    gold = _tokens(gold_span)
    if not gold:
        return 0.0
    return sum((gold & _tokens(answer)).values()) / sum(gold.values())


def _tokens(text: str) -> Counter:
    return Counter(re.findall(r"\w+", MARKERS.sub(" ", text).lower()))


def doc2dial_metrics(*, results: Sequence[dict]) -> dict:
    """The run's figures, each a share of all questions unless it says otherwise.
    Citation precision: of all documents the answers cite, the share that is the
    question's gold page; per answer: the same within each answer that cites, averaged."""
    questions = len(results)
    answered = [result for result in results if result["answered"]]
    citing = [result for result in answered if result["cited_docs"]]

    def share(count: float, total: int) -> float | None:
        return round(count / total, 4) if total else None

    def questions_where(rows: Sequence[dict], holds) -> int:
        return sum(1 for row in rows if holds(row))

    def holds_span(row: dict) -> bool:
        return row["span_recall"] >= SPAN_RECALL_ENOUGH

    return {
        "questions": questions,
        "hit_at_1": share(
            questions_where(results, lambda row: row["retrieved_docs"][:1] == [row["gold_doc"]]),
            questions,
        ),
        "hit_at_5": share(
            questions_where(results, lambda row: row["gold_doc"] in row["retrieved_docs"][:5]),
            questions,
        ),
        "retrieved_docs_mean": share(sum(len(row["retrieved_docs"]) for row in results), questions),
        "search_hit_at_5": share(
            questions_where(results, lambda row: row["gold_doc"] in row["searched_docs"]),
            questions,
        ),
        "citation_precision": share(
            questions_where(citing, lambda row: row["gold_doc"] in row["cited_docs"]),
            sum(len(row["cited_docs"]) for row in citing),
        ),
        "citation_precision_per_answer": share(
            sum((row["gold_doc"] in row["cited_docs"]) / len(row["cited_docs"]) for row in citing),
            len(citing),
        ),
        "answered": share(len(answered), questions),
        "span_half_of_questions": share(questions_where(results, holds_span), questions),
        "span_half_of_answered": share(questions_where(answered, holds_span), len(answered)),
        "timed_out": questions_where(results, lambda row: row["timed_out"]),
    }


def doc2dial_knowledge_base(*, keep: bool) -> KnowledgeBase:
    """The help centre to ask: with `keep`, the one a kept run left (its pages, found by
    their content, are not indexed again: ingestion is most of a run, and a change to
    search alone needs none; after a change to indexing, run without it); else a fresh one."""
    kept = KnowledgeBase.objects.filter(workspace__slug=WORKSPACE_SLUG).first() if keep else None
    return kept or site_knowledge_base(
        workspace_slug=WORKSPACE_SLUG, workspace_name="doc2dial help pages", site=SITE
    )


def doc2dial_run(*, data: Path, limit: int | None, keep: bool = False) -> Path:
    """The whole run: load, ingest, ask through a real server, score; the results folder.
    With `keep`, the workspace stays for the next run (see `doc2dial_knowledge_base`)."""
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    pages, questions = doc2dial_load(folder=data, limit=limit)
    folder = RESULTS / f"doc2dial-{date.today().isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    knowledge_base = doc2dial_knowledge_base(keep=keep)
    doc_ids = pages_ingest(knowledge_base=knowledge_base, pages=pages)
    with keel_server_running(log_path=folder / "server.log") as address:
        results = questions_ask(
            address=address, knowledge_base=knowledge_base, questions=questions, doc_ids=doc_ids
        )
    metrics = {
        "date": date.today().isoformat(),
        "mode": "LLM: " + settings.LLM_MODEL if settings.LLM_BASE_URL else "offline (extractive)",
        "pages": len(pages),
        "pages_ready": Document.objects.filter(
            knowledge_base=knowledge_base, status=Document.Status.READY
        ).count(),
        "sample": f"{len(questions)} first-turn questions"
        + ("" if limit is None else f" (--limit {limit}, sampled with seed {SAMPLE_SEED})"),
        **doc2dial_metrics(results=results),
        "machine": machine_describe(),
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "runtime_seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "results.jsonl").write_text(
        "".join(json.dumps(result, ensure_ascii=False) + "\n" for result in results)
    )
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    if not keep:
        # Its rows would fill the acceptance run's storage dump (every table of the database).
        bench_workspace_delete(workspace_slug=WORKSPACE_SLUG)
    print(metrics_table(metrics=metrics))
    return folder


def metrics_table(*, metrics: dict) -> str:
    def percent(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f} %"

    def ratio(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    rows = [
        ("retrieval hit@1 (answer trace)", percent(metrics["hit_at_1"])),
        ("retrieval hit@5 (answer trace)", percent(metrics["hit_at_5"])),
        ("  documents in the trace, mean", f"{metrics['retrieved_docs_mean']:.2f}"),
        (f"search hit@5 ({RANKED_PASSAGES} passages ranked)", percent(metrics["search_hit_at_5"])),
        ("citation precision", ratio(metrics["citation_precision"])),
        ("  per answer, averaged", ratio(metrics["citation_precision_per_answer"])),
        ("answered", percent(metrics["answered"])),
        ("answers with >= 50 % of the gold span", percent(metrics["span_half_of_questions"])),
        ("  of the answered only", percent(metrics["span_half_of_answered"])),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(
        [
            f"doc2dial, {metrics['mode']}: {metrics['sample']}, {metrics['pages_ready']} of "
            f"{metrics['pages']} pages indexed, {metrics['timed_out']} timed out, "
            f"{metrics['runtime_seconds']} s",
            *(f"  {label:<{width}}  {value:>8}" for label, value in rows),
        ]
    )
