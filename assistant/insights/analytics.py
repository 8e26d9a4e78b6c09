"""The admin dashboard's figures for one workspace and date range, counted in the database.

Measured honestly: a conversation that ends in a thumbs-down, an escalation or a reopen is
not resolved. The definitions, also shown on the page:

- In scope: the workspace's customer conversations (never sandbox ones) started in the date
  range (whole days, both included, in the site's time zone) with at least one customer
  message. The figures on messages, ratings, handoffs and citations count those of the
  conversations in scope, so that they add up with the CSV export.
- Conversations per day: conversations in scope by the day they started, days with none
  included.
- Automated resolution: at least one answer from the sources (outcome "answered"), and
  never a handoff, a thumbs-down on any of its messages, or a reopen (resolved → bot).
  Rate: automated resolutions / conversations in scope.
- Durable resolution: of the automated resolutions whose last message is at least 7 days
  old, the share whose customer (their verified customer id when the host signed one,
  else their visitor key) started no other conversation that has a handoff, after it
  started and up to 7 days after its last message. Younger ones are not yet known and
  left out of the share (their number is shown).
- Escalation rate: conversations with at least one handoff / conversations in scope,
  split by the reason of each conversation's first handoff.
- Don't-know rate: answers "I don't know" / assistant messages with a final outcome
  (answered, don't know, refused, handed off, failed).
- CSAT: the mean of the customers' ratings of handoffs (1 to 5) and their distribution.
  Thumbs: answers rated up and down, and the share up.
- Rail triggers: audit events of the rail kinds created in the date range, outside sandbox
  conversations (quarantines belong to no conversation and are counted).
- Latency: p50 and p95 (nearest rank) of the time to an answer's first words and to its
  end, over the assistant messages that have them.
- Most-cited documents: the 10 with the most citations; never cited: the workspace's
  documents with none.
- Stale documents: documents whose content was last indexed (never indexed: last changed)
  more than N days ago.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from assistant.evaluation.scoring import percentile
from assistant.models import (
    AuditEvent,
    Citation,
    Conversation,
    Feedback,
    Handoff,
    Message,
    Workspace,
)
from knowledge.models import Document

DURABLE_DAYS = 7
# A conversation's durable resolution: "no" too when it was no automated resolution at all.
DURABLE_YES, DURABLE_NO, DURABLE_NOT_YET_KNOWN = "yes", "no", "not yet known"
MOST_CITED = 10
DOCUMENTS_LISTED = 50  # never-cited and stale documents shown; the page says how many more
CSAT_SCALE = range(1, 6)
RAIL_KINDS = [
    AuditEvent.Kind.REDACTION,
    AuditEvent.Kind.INJECTION,
    AuditEvent.Kind.GROUNDING,
    AuditEvent.Kind.REFUSED_TOPIC,
    AuditEvent.Kind.OUTPUT,
    AuditEvent.Kind.ESCALATION_FLAG,
    AuditEvent.Kind.QUARANTINE,
]
FINAL_OUTCOMES = [
    Message.Outcome.ANSWERED,
    Message.Outcome.DONT_KNOW,
    Message.Outcome.REFUSED,
    Message.Outcome.HANDED_OFF,
    Message.Outcome.FAILED,
]


@dataclass(frozen=True)
class Tally:
    """One bar of a chart: what is counted, its label, how many, and its share of a whole."""

    key: str
    label: str
    count: int
    share: float | None = None


@dataclass(frozen=True)
class DocumentFigure:
    pk: int
    title: str
    knowledge_base: str
    last_updated: datetime


@dataclass(frozen=True)
class WorkspaceAnalytics:
    start: date
    end: date
    stale_days: int
    conversations: int
    per_day: tuple[Tally, ...]
    automated: int
    automated_rate: float | None
    durable: int
    durable_known: int
    durable_rate: float | None
    durable_not_yet_known: int
    escalated: int
    escalation_rate: float | None
    escalations_by_reason: tuple[Tally, ...]
    dont_know: int
    final_answers: int
    dont_know_rate: float | None
    csat_mean: float | None
    csat_ratings: int
    csat_distribution: tuple[Tally, ...]
    thumbs_up: int
    thumbs_down: int
    thumbs_up_share: float | None
    rail_triggers: tuple[Tally, ...]
    first_token_p50_ms: int | None
    first_token_p95_ms: int | None
    total_p50_ms: int | None
    total_p95_ms: int | None
    most_cited: tuple[Tally, ...]
    never_cited: tuple[DocumentFigure, ...]
    never_cited_count: int
    stale: tuple[DocumentFigure, ...]
    stale_count: int


def workspace_analytics(
    *, workspace: Workspace, start: date, end: date, stale_days: int, now: datetime
) -> WorkspaceAnalytics:
    """Every figure of the dashboard for the conversations started from `start` to `end`."""
    in_scope = conversations_in_scope(workspace=workspace, start=start, end=end)
    # Counted under names of their own: an aggregate named like an annotation hides it.
    outcomes = _with_outcomes(in_scope, now=now).aggregate(
        conversations=Count("pk"),
        automated_count=Count("pk", filter=Q(automated=True)),
        durable_count=Count("pk", filter=Q(durable=DURABLE_YES)),
        not_yet_known=Count("pk", filter=Q(durable=DURABLE_NOT_YET_KNOWN)),
        escalated=Count("pk", filter=Q(handed_off=True)),
    )
    total = outcomes["conversations"]
    durable_known = outcomes["automated_count"] - outcomes["not_yet_known"]
    answers = Message.objects.filter(
        conversation__in=in_scope, role=Message.Role.ASSISTANT
    ).aggregate(
        final=Count("pk", filter=Q(outcome__in=FINAL_OUTCOMES)),
        dont_know=Count("pk", filter=Q(outcome=Message.Outcome.DONT_KNOW)),
    )
    thumbs = Feedback.objects.filter(message__conversation__in=in_scope).aggregate(
        up=Count("pk", filter=Q(rating=Feedback.Rating.UP)),
        down=Count("pk", filter=Q(rating=Feedback.Rating.DOWN)),
    )
    rated = Handoff.objects.filter(conversation__in=in_scope, csat__isnull=False)
    csat_counts = dict(rated.values_list("csat").annotate(n=Count("pk")))
    csat_ratings = sum(csat_counts.values())
    first_token = _sorted_timings(in_scope, "first_token_ms")
    total_time = _sorted_timings(in_scope, "total_ms")
    never_cited = _documents_never_cited(workspace=workspace, in_scope=in_scope)
    stale = _documents_stale(workspace=workspace, before=now - timedelta(days=stale_days))
    return WorkspaceAnalytics(
        start=start,
        end=end,
        stale_days=stale_days,
        conversations=total,
        per_day=_per_day(in_scope, start=start, end=end),
        automated=outcomes["automated_count"],
        automated_rate=_rate(outcomes["automated_count"], total),
        durable=outcomes["durable_count"],
        durable_known=durable_known,
        durable_rate=_rate(outcomes["durable_count"], durable_known),
        durable_not_yet_known=outcomes["not_yet_known"],
        escalated=outcomes["escalated"],
        escalation_rate=_rate(outcomes["escalated"], total),
        escalations_by_reason=_escalations_by_reason(in_scope, total=total),
        dont_know=answers["dont_know"],
        final_answers=answers["final"],
        dont_know_rate=_rate(answers["dont_know"], answers["final"]),
        csat_mean=rated.aggregate(mean=Avg("csat"))["mean"],
        csat_ratings=csat_ratings,
        csat_distribution=_tallies(
            [(score, str(score)) for score in CSAT_SCALE], csat_counts, whole=csat_ratings
        ),
        thumbs_up=thumbs["up"],
        thumbs_down=thumbs["down"],
        thumbs_up_share=_rate(thumbs["up"], thumbs["up"] + thumbs["down"]),
        rail_triggers=_rail_triggers(workspace=workspace, start=start, end=end),
        first_token_p50_ms=percentile(first_token, 50),
        first_token_p95_ms=percentile(first_token, 95),
        total_p50_ms=percentile(total_time, 50),
        total_p95_ms=percentile(total_time, 95),
        most_cited=_most_cited(in_scope),
        never_cited=tuple(_document_figure(d) for d in never_cited[:DOCUMENTS_LISTED]),
        never_cited_count=never_cited.count(),
        stale=tuple(_document_figure(d) for d in stale[:DOCUMENTS_LISTED]),
        stale_count=stale.count(),
    )


def conversations_in_scope(*, workspace: Workspace, start: date, end: date) -> QuerySet:
    """Customer conversations started on the days from `start` to `end`, with a question."""
    return Conversation.objects.filter(
        Exists(Message.objects.filter(conversation=OuterRef("pk"), role=Message.Role.CUSTOMER)),
        workspace=workspace,
        sandbox=False,
        started_at__gte=_day_start(start),
        started_at__lt=_day_start(end + timedelta(days=1)),
    )


def conversations_with_outcomes(
    *, workspace: Workspace, start: date, end: date, now: datetime
) -> QuerySet:
    """The conversations in scope, oldest first, each with its counts and outcomes (CSV);
    `csat` is the rating of its latest rated handoff."""
    in_scope = conversations_in_scope(workspace=workspace, start=start, end=end)
    messages = Message.objects.filter(conversation=OuterRef("pk"))
    ratings = Feedback.objects.filter(message__conversation=OuterRef("pk"))
    latest_rated = Handoff.objects.filter(conversation=OuterRef("pk"), csat__isnull=False).order_by(
        "-created_at", "-pk"
    )
    return (
        _with_outcomes(in_scope, now=now)
        .annotate(
            customer_messages=_count(messages.filter(role=Message.Role.CUSTOMER)),
            answers=_count(messages.filter(outcome=Message.Outcome.ANSWERED)),
            dont_know_answers=_count(messages.filter(outcome=Message.Outcome.DONT_KNOW)),
            thumbs_up=_count(ratings.filter(rating=Feedback.Rating.UP)),
            thumbs_down=_count(ratings.filter(rating=Feedback.Rating.DOWN)),
            first_handoff_reason=_first_handoff_reason(),
            csat=Subquery(latest_rated.values("csat")[:1]),
        )
        .order_by("started_at", "pk")
    )


def _with_outcomes(conversations: QuerySet, *, now: datetime) -> QuerySet:
    """Each conversation's outcome, computed by the database (see the module doc):
    `handed_off` and `automated` (booleans), `durable` (yes, no or not yet known)."""
    handoffs = Handoff.objects.filter(conversation=OuterRef("pk"))
    answered = Message.objects.filter(conversation=OuterRef("pk"), outcome=Message.Outcome.ANSWERED)
    thumbs_down = Feedback.objects.filter(
        message__conversation=OuterRef("pk"), rating=Feedback.Rating.DOWN
    )
    reopened = AuditEvent.objects.filter(
        conversation=OuterRef("pk"),
        kind=AuditEvent.Kind.HANDOFF,
        detail__from=Conversation.State.RESOLVED,
        detail__to=Conversation.State.BOT,
    )
    resolved = conversations.annotate(
        handed_off=Exists(handoffs),
        automated=ExpressionWrapper(
            Exists(answered) & ~Exists(handoffs) & ~Exists(thumbs_down) & ~Exists(reopened),
            output_field=BooleanField(),
        ),
    )
    return resolved.annotate(
        durable=Case(
            When(automated=False, then=Value(DURABLE_NO)),
            When(
                last_message_at__gt=now - timedelta(days=DURABLE_DAYS),
                then=Value(DURABLE_NOT_YET_KNOWN),
            ),
            When(_escalated_after(), then=Value(DURABLE_NO)),
            default=Value(DURABLE_YES),
        )
    )


def _escalated_after() -> Q:
    """Whether the same customer started another conversation with a handoff, after this
    one started and up to DURABLE_DAYS after its last message."""
    later = Conversation.objects.filter(
        workspace=OuterRef("workspace"),
        sandbox=False,
        handoffs__isnull=False,
        started_at__gt=OuterRef("started_at"),
        started_at__lte=OuterRef("last_message_at") + timedelta(days=DURABLE_DAYS),
    ).exclude(pk=OuterRef("pk"))
    by_customer = Exists(later.filter(customer_id=OuterRef("customer_id")))
    by_visitor = Exists(later.filter(visitor_key=OuterRef("visitor_key")))
    # A verified customer id follows them across devices; otherwise the visitor key.
    return (~Q(customer_id="") & by_customer) | (Q(customer_id="") & by_visitor)


def _first_handoff_reason() -> Subquery:
    return Subquery(
        Handoff.objects.filter(conversation=OuterRef("pk"))
        .order_by("created_at", "pk")
        .values("reason")[:1]
    )


def _count(queryset: QuerySet) -> Subquery:
    """How many rows of `queryset` (filtered on the outer conversation), as a subquery:
    COUNT as a plain function, so that Django adds no GROUP BY."""
    counted = queryset.order_by().annotate(n=Func("pk", function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


def _per_day(in_scope: QuerySet, *, start: date, end: date) -> tuple[Tally, ...]:
    counts = dict(
        in_scope.annotate(day=TruncDate("started_at"))
        .order_by()
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return tuple(Tally(day.isoformat(), f"{day:%d %b}", counts.get(day, 0)) for day in days)


def _escalations_by_reason(in_scope: QuerySet, *, total: int) -> tuple[Tally, ...]:
    counts = dict(
        in_scope.annotate(reason=_first_handoff_reason())
        .filter(reason__isnull=False)
        .order_by()
        .values_list("reason")
        .annotate(n=Count("pk"))
    )
    return _tallies(Handoff.Reason.choices, counts, whole=total)


def _rail_triggers(*, workspace: Workspace, start: date, end: date) -> tuple[Tally, ...]:
    counts = dict(
        AuditEvent.objects.filter(
            workspace=workspace,
            kind__in=RAIL_KINDS,
            created_at__gte=_day_start(start),
            created_at__lt=_day_start(end + timedelta(days=1)),
        )
        .exclude(conversation__sandbox=True)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    return _tallies([(kind.value, kind.label) for kind in RAIL_KINDS], counts)


def _sorted_timings(in_scope: QuerySet, field: str) -> list[int]:
    return list(
        Message.objects.filter(
            conversation__in=in_scope, role=Message.Role.ASSISTANT, **{f"{field}__isnull": False}
        )
        .order_by(field)
        .values_list(field, flat=True)
    )


def _most_cited(in_scope: QuerySet) -> tuple[Tally, ...]:
    rows = (
        Citation.objects.filter(message__conversation__in=in_scope, document__isnull=False)
        .values_list("document_id", "document__title")
        .annotate(n=Count("pk"))
        .order_by("-n", "document__title", "document_id")[:MOST_CITED]
    )
    return tuple(Tally(str(pk), title, count) for pk, title, count in rows)


def _documents_never_cited(*, workspace: Workspace, in_scope: QuerySet) -> QuerySet:
    cited = Citation.objects.filter(document=OuterRef("pk"), message__conversation__in=in_scope)
    return (
        Document.objects.filter(~Exists(cited), knowledge_base__workspace=workspace)
        .select_related("knowledge_base")
        .annotate(last_updated=Coalesce("indexed_at", "updated_at"))
        .order_by("title", "pk")
    )


def _documents_stale(*, workspace: Workspace, before: datetime) -> QuerySet:
    return (
        Document.objects.filter(knowledge_base__workspace=workspace)
        .select_related("knowledge_base")
        .annotate(last_updated=Coalesce("indexed_at", "updated_at"))
        .filter(last_updated__lt=before)
        .order_by("last_updated", "pk")
    )


def _document_figure(document: Document) -> DocumentFigure:
    return DocumentFigure(
        pk=document.pk,
        title=document.title,
        knowledge_base=document.knowledge_base.name,
        last_updated=document.last_updated,
    )


def _tallies(
    choices: Iterable[tuple[object, str]], counts: dict, *, whole: int | None = None
) -> tuple[Tally, ...]:
    """A bar per choice, in the choices' order, none left out for having no rows."""
    return tuple(
        Tally(
            str(key),
            label,
            counts.get(key, 0),
            None if whole is None else _rate(counts.get(key, 0), whole),
        )
        for key, label in choices
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None
