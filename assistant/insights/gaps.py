"""Content gaps: the customers' questions the knowledge base did not serve (the assistant
did not know, was too unsure and passed them on, or was rated down), grouped by meaning,
biggest group first, so admins see what to write next.

Questions are compared by their all-MiniLM-L6-v2 embeddings (the model retrieval uses)
and grouped by scikit-learn's agglomerative clustering, average linkage on cosine
distance: a question joins a group when it is, on average, close to all its questions.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from sklearn.cluster import AgglomerativeClustering

from assistant.models import Feedback, Handoff, Message
from knowledge.embeddings import texts_embed

# Cosine distance under which questions count as one topic: on paraphrases of shop
# questions ("Do you accept Bitcoin?" / "is crypto accepted as payment") all-MiniLM-L6-v2
# gives 0.2-0.5, and unrelated ones 0.7 and more.
SAME_TOPIC_DISTANCE = 0.55
# The most recent questions clustered at once: enough for a month of a busy site, and a
# page that answers in a few seconds on two cores.
QUESTIONS_CLUSTERED = 2000


class Reason:
    DONT_KNOW = "dont_know"
    LOW_CONFIDENCE = "low_confidence"
    RATED_DOWN = "rated_down"


REASON_LABELS = {
    Reason.DONT_KNOW: "did not know",
    Reason.LOW_CONFIDENCE: "not sure, passed to a person",
    Reason.RATED_DOWN: "rated not helpful",
}


@dataclass(frozen=True)
class GapQuestion:
    message_id: int
    conversation_id: int
    text: str
    asked_at: datetime
    reason: str


@dataclass(frozen=True)
class GapCluster:
    questions: list[GapQuestion]  # the most typical first
    reasons: dict[str, int]

    @property
    def size(self) -> int:
        return len(self.questions)

    @property
    def last_asked(self) -> datetime:
        return max(q.asked_at for q in self.questions)


def gap_questions(*, workspace_id: int, since: datetime) -> list[GapQuestion]:
    """The questions behind the answers that fell short, newest first; sandbox questions
    and those an article already answers are left out."""
    low_confidence_handoff = Handoff.objects.filter(
        conversation=OuterRef("conversation"), reason=Handoff.Reason.LOW_CONFIDENCE
    )
    rated_down = Feedback.objects.filter(message=OuterRef("pk"), rating=Feedback.Rating.DOWN)
    question = Message.objects.filter(
        conversation=OuterRef("conversation"), role=Message.Role.CUSTOMER, pk__lt=OuterRef("pk")
    ).order_by("-pk")
    answers = (
        Message.objects.filter(
            conversation__workspace_id=workspace_id,
            conversation__sandbox=False,
            role=Message.Role.ASSISTANT,
            created_at__gte=since,
        )
        .annotate(
            rated_down=Exists(rated_down),
            low_confidence=Exists(low_confidence_handoff),
            question_id=Subquery(question.values("pk")[:1]),
        )
        .filter(
            Q(outcome=Message.Outcome.DONT_KNOW)
            | Q(rated_down=True)
            | Q(outcome=Message.Outcome.HANDED_OFF, low_confidence=True)
        )
        .exclude(question_id=None)
        .order_by("-pk")
    )
    reasons = {}
    for answer in answers[:QUESTIONS_CLUSTERED]:
        reasons.setdefault(answer.question_id, _reason(answer))
    asked = (
        Message.objects.filter(pk__in=reasons)
        .exclude(gap_articles__isnull=False)
        .order_by("-pk")
        .values("pk", "conversation_id", "text", "created_at")
    )
    return [
        GapQuestion(
            message_id=row["pk"],
            conversation_id=row["conversation_id"],
            text=row["text"],
            asked_at=row["created_at"],
            reason=reasons[row["pk"]],
        )
        for row in asked
    ]


def customer_questions(*, workspace_id: int) -> QuerySet[Message]:
    """What customers (not sandboxes) asked in the workspace: what an article may answer."""
    return Message.objects.filter(
        conversation__workspace_id=workspace_id,
        conversation__sandbox=False,
        role=Message.Role.CUSTOMER,
    ).order_by("pk")


def gap_clusters(*, questions: list[GapQuestion]) -> list[GapCluster]:
    """Questions grouped by meaning, biggest group first (then the most recently asked)."""
    if not questions:
        return []
    vectors = texts_embed(texts=[q.text for q in questions])
    labels = (
        AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=SAME_TOPIC_DISTANCE,
        ).fit_predict(vectors)
        if len(questions) > 1
        else np.zeros(1, dtype=int)
    )
    clusters = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        clusters.append(_cluster([questions[i] for i in members], vectors[members]))
    return sorted(clusters, key=lambda c: (c.size, c.last_asked), reverse=True)


def _cluster(questions: list[GapQuestion], vectors: np.ndarray) -> GapCluster:
    """The question nearest the group's centre comes first: it names the topic best."""
    centre = vectors.mean(axis=0)
    order = np.argsort(-(vectors @ centre), kind="stable")
    return GapCluster(
        questions=[questions[i] for i in order],
        reasons=dict(Counter(q.reason for q in questions).most_common()),
    )


def _reason(answer: Message) -> str:
    if answer.rated_down:
        return Reason.RATED_DOWN
    if answer.outcome == Message.Outcome.DONT_KNOW:
        return Reason.DONT_KNOW
    return Reason.LOW_CONFIDENCE
