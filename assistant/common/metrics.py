"""What Keel counts for Prometheus (prometheus-client), in the process that serves chats.

Answers, handoffs and audited decisions happen in the web process, so its registry sees
them (counted once their transaction commits); documents are indexed by workers, so
their counts are read from the database when `/metrics` is scraped.
"""

from django.db import connection, transaction
from django.db.models import Count
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from knowledge.models import Chunk, Document

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20)

HTTP_REQUESTS = Counter("keel_http_requests", "HTTP requests served", ["method", "status"])
ANSWERS = Counter("keel_answers", "Answers given, by outcome", ["outcome"])
ANSWER_SECONDS = Histogram(
    "keel_answer_seconds", "From a customer's message to the stored answer", buckets=LATENCY_BUCKETS
)
FIRST_WORDS_SECONDS = Histogram(
    "keel_first_words_seconds",
    "From a customer's message to the first words on their screen",
    buckets=LATENCY_BUCKETS,
)
HANDOFFS = Counter("keel_handoffs", "Conversations passed to a person, by reason", ["reason"])
DECISIONS = Counter(
    "keel_decisions", "Audited decisions (rails, handoffs, policy changes), by kind", ["kind"]
)


def answer_counted(*, outcome: str, total_ms: int, first_token_ms: int | None) -> None:
    def count():
        ANSWERS.labels(outcome).inc()
        ANSWER_SECONDS.observe(total_ms / 1000)
        if first_token_ms is not None:
            FIRST_WORDS_SECONDS.observe(first_token_ms / 1000)

    transaction.on_commit(count)


def handoff_counted(*, reason: str) -> None:
    transaction.on_commit(lambda: HANDOFFS.labels(reason).inc())


def decision_counted(*, kind: str) -> None:
    transaction.on_commit(lambda: DECISIONS.labels(kind).inc())


class IngestionCollector(Collector):
    """Ingestion happens in worker processes, whose counters this process cannot see: the
    figures are read from the database at scrape time instead."""

    def describe(self):
        """Without it, registering would call `collect`, querying before the app is ready."""
        return self._families()

    def collect(self):
        documents, chunks, jobs = self._families()
        counts = dict(
            Document.objects.values("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        for status in Document.Status.values:
            documents.add_metric([status], counts.get(status, 0))
        chunks.add_metric([], Chunk.objects.count())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT queue_name, status, count(*) FROM procrastinate_jobs "
                "WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
            )
            for queue, status, count in cursor.fetchall():
                jobs.add_metric([queue, status], count)
        return [documents, chunks, jobs]

    @staticmethod
    def _families() -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily("keel_documents", "Documents by indexing status", labels=["status"]),
            GaugeMetricFamily("keel_chunks", "Indexed passages in all knowledge bases"),
            GaugeMetricFamily(
                "keel_jobs",
                "Background jobs waiting (todo) or running (doing), by queue",
                labels=["queue", "status"],
            ),
        ]


REGISTRY.register(IngestionCollector())
