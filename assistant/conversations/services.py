"""Writes for conversations: each change commits, then its partial is pushed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistant.common.audit import message_audit
from assistant.common.languages import in_customer_language
from assistant.common.metrics import answer_counted
from assistant.conversations import events
from assistant.conversations.selectors import (
    conversation_of_customer,
    policy_for_conversation,
    policy_in_force,
)
from assistant.conversations.vault import conversation_placeholders, vault_seal
from assistant.models import (
    AuditEvent,
    Citation,
    Conversation,
    Feedback,
    Message,
    PolicyVersion,
    VaultEntry,
    Workspace,
)
from assistant.rails.input_rails import InputVerdict
from assistant.rails.personal_data import Redacted, personal_data_redact
from knowledge.models import Chunk, Document
from knowledge.search import Hit

INTERRUPTED_MESSAGE = _(
    "Sorry, this answer was interrupted on our side. Please ask again in a moment."
)
# An answer still "being written" after this was cut off (a crash, a database outage):
# far beyond any model's timeout.
INTERRUPTED_AFTER = timedelta(minutes=2)

REDACTION_NOTICE = _(
    "For your safety, I removed personal details (like card numbers or e-mail addresses) "
    "from your message before storing it. Our team can still see them if they need to."
)


@dataclass(frozen=True)
class Timings:
    retrieval_ms: int | None
    first_token_ms: int | None
    total_ms: int


def conversation_start(
    *, workspace: Workspace, visitor_key: str, customer_id: str
) -> tuple[Conversation, bool]:
    """The customer's conversation, and whether it is new: two tabs of theirs asking at
    once share one (the workspace's row is the lock), so a reload loses neither."""
    with transaction.atomic():
        Workspace.objects.select_for_update(no_key=True).get(pk=workspace.pk)
        conversation = conversation_of_customer(
            workspace=workspace, visitor_key=visitor_key, customer_id=customer_id
        )
        if conversation is not None:
            return conversation, False
        conversation = Conversation.objects.create(
            workspace=workspace, visitor_key=visitor_key, customer_id=customer_id
        )
    return conversation, True


class QuestionTaken(Exception):
    """Another server process claimed this queued question first, and answers the queue."""


def question_queue(*, conversation: Conversation, text: str) -> Message:
    """A question sent while another is being answered, stored at once (its personal data
    redacted and sealed as for any question) so that a stopping server loses none; it is
    checked and answered in its turn (`question_and_answer_add` with `queued`)."""
    current = Conversation.objects.select_related("workspace").get(pk=conversation.pk)
    policy = policy_for_conversation(conversation=current)
    redacted = personal_data_redact(
        text=text,
        kinds=frozenset(policy.personal_data_kinds),
        earlier=conversation_placeholders(conversation_id=conversation.pk),
    )
    with transaction.atomic():
        question = Message.objects.create(
            conversation=conversation, role=Message.Role.CUSTOMER, text=redacted.text, queued=True
        )
        _question_kept(question=question, redacted=redacted, policy=policy)
        events.messages_added(messages=[question])
    return question


def question_add(
    *,
    conversation: Conversation,
    verdict: InputVerdict,
    search_query: str,
    policy: PolicyVersion,
    queued: Message | None = None,
) -> Message:
    """Stores the question as redacted, its personal data sealed in the vault for the
    policy's retention period, and what the input rails found, audited. `queued`: the
    same question, stored when it came, which this one replaces (see `_queued_moved`)."""
    with transaction.atomic():
        question = _question(conversation=conversation, verdict=verdict, search_query=search_query)
        question.save()
        _question_recorded(question=question, verdict=verdict, policy=policy, queued=queued)
        events.messages_added(messages=[question])
    return question


def question_and_answer_add(
    *,
    conversation: Conversation,
    verdict: InputVerdict,
    search_query: str,
    policy: PolicyVersion,
    queued: Message | None = None,
) -> tuple[Message, Message]:
    """The question, stored as `question_add` stores it, and under it the answer's place
    on screen, where its text streams in while it is written: one transaction, so the
    customer sees both or, the database failing, neither."""
    with transaction.atomic():
        question, answer = Message.objects.bulk_create(  # one INSERT, in this order
            [
                _question(conversation=conversation, verdict=verdict, search_query=search_query),
                Message(
                    conversation=conversation,
                    role=Message.Role.ASSISTANT,
                    text="",
                    outcome=Message.Outcome.STREAMING,
                ),
            ]
        )
        _question_recorded(question=question, verdict=verdict, policy=policy, queued=queued)
        events.messages_added(messages=[question, answer])
    return question, answer


def _queued_moved(*, queued: Message, question: Message) -> None:
    """A queued question moves down to where its answer begins, so that every answer
    follows its own question, on screen and for whatever reads the conversation: its
    personal data and audit events go to the new row, and the old one is deleted, by
    this answer alone (QuestionTaken when another got there first)."""
    VaultEntry.objects.filter(message=queued).update(message=question)
    AuditEvent.objects.filter(message=queued).update(message=question)
    if not Message.objects.filter(pk=queued.pk, queued=True).delete()[0]:
        raise QuestionTaken
    events.message_removed(message=queued)


def _question(*, conversation: Conversation, verdict: InputVerdict, search_query: str) -> Message:
    return Message(
        conversation=conversation,
        role=Message.Role.CUSTOMER,
        text=verdict.redacted.text,
        search_query=search_query,
        escalation_rule=verdict.person_rule.label if verdict.person_rule else "",
    )


def _question_recorded(
    *, question: Message, verdict: InputVerdict, policy: PolicyVersion, queued: Message | None
) -> None:
    """What storing a question records beside it: what `_question_kept` does, and the
    rails' findings audited."""
    if queued is not None:
        _queued_moved(queued=queued, question=question)
    _question_kept(question=question, redacted=verdict.redacted, policy=policy)
    if verdict.injection.flagged:
        message_audit(
            message=question,
            kind=AuditEvent.Kind.INJECTION,
            detail={
                "score": verdict.injection.score,
                "decoded": verdict.injection.decoded,
                "action": "refused" if verdict.refusal == "injection" else "answered",
            },
        )
    for kind, match in (
        (AuditEvent.Kind.ESCALATION_FLAG, verdict.person_rule),
        # A refusal that may yield is audited by the answer, once decided.
        (AuditEvent.Kind.REFUSED_TOPIC, None if verdict.refusal_yields else verdict.refused_topic),
    ):
        if match:
            message_audit(
                message=question,
                kind=kind,
                detail={
                    "rule": match.label,
                    "score": match.score,
                    "piece": match.piece,
                    "reading": match.reading,
                    "action": "refused" if verdict.refusal == "refused_topic" else "flagged",
                },
            )


def _question_kept(*, question: Message, redacted: Redacted, policy: PolicyVersion) -> None:
    """The conversation's last activity, and the question's personal data sealed in the
    vault for the policy's retention period, audited."""
    conversation_id = question.conversation_id
    Conversation.objects.filter(pk=conversation_id).update(last_message_at=timezone.now())
    if redacted.replacements:
        _personal_data_sealed(message=question, redacted=redacted, policy=policy)
        notice = in_customer_language(REDACTION_NOTICE, text=question.text)
        events.notice_after_commit(conversation_id=conversation_id, text=notice)


def answer_finish(
    *,
    message: Message,
    text: str,
    outcome: Message.Outcome,
    cited: Sequence[Hit],
    backend: str,
    generation_error: str,
    timings: Timings,
    policy: PolicyVersion,
    confidence: float | None = None,
    removed: Sequence[dict] = (),
    trace: dict | None = None,
    question: Message | None = None,
    audit: tuple[AuditEvent.Kind, dict] | None = None,
) -> Message:
    """Stores the answer with its citations; `cited[i]` is the source marked [i + 1].
    `removed`: sentences the output rails kept from the customer, and why, audited;
    `audit`: a rail's finding that decided the answer (`pipeline._second_look_audit`).
    `question`: the one answered, with the search query an LLM wrote while it was
    already on screen (the next message's follow-up rule and a handoff read it)."""
    message.text = text
    message.policy = policy if policy.pk else None
    message.confidence = confidence
    message.outcome = outcome
    message.backend = backend
    message.generation_error = generation_error
    message.retrieval_ms = timings.retrieval_ms
    message.first_token_ms = timings.first_token_ms
    message.total_ms = timings.total_ms
    message.trace = trace or {}
    with transaction.atomic():
        message.save()
        if question is not None:
            question.save(update_fields=["search_query"])
        answer_counted(
            outcome=outcome, total_ms=timings.total_ms, first_token_ms=timings.first_token_ms
        )
        # A document re-indexed since the search has new chunks: the quote still stands.
        chunks_left = set(
            Chunk.objects.filter(pk__in=[hit.chunk_id for hit in cited]).values_list(
                "pk", flat=True
            )
        )
        documents_left = set(
            Document.objects.filter(pk__in=[hit.document_id for hit in cited]).values_list(
                "pk", flat=True
            )
        )
        Citation.objects.bulk_create(
            Citation(
                message=message,
                marker=marker,
                chunk_id=hit.chunk_id if hit.chunk_id in chunks_left else None,
                document_id=hit.document_id if hit.document_id in documents_left else None,
                document_title=hit.document_title,
                document_url=hit.document_url,
                heading=hit.heading,
                page=hit.page,
                quote=hit.text,
                score=hit.score,
            )
            for marker, hit in enumerate(cited, start=1)
        )
        Conversation.objects.filter(pk=message.conversation_id).update(
            last_message_at=timezone.now()
        )
        for sentence in removed:
            rails = {verdict["rail"] for verdict in sentence["rails"]}
            message_audit(
                message=message,
                kind=AuditEvent.Kind.GROUNDING
                if rails == {"grounding"}
                else AuditEvent.Kind.OUTPUT,
                detail=sentence,
            )
        if audit is not None:
            kind, detail = audit
            message_audit(message=message, kind=kind, detail=detail)
        events.message_changed(message=message)
    return message


def _personal_data_sealed(*, message: Message, redacted: Redacted, policy: PolicyVersion) -> None:
    """The personal data `message` replaced (in its text or its feedback) sealed in the
    vault for the policy's retention period, unless the conversation has it already, and
    the redaction audited."""
    expires_at = timezone.now() + timedelta(days=policy.personal_data_retention_days)
    VaultEntry.objects.bulk_create(
        VaultEntry(
            message=message,
            placeholder=replacement.placeholder,
            kind=replacement.kind,
            sealed_value=vault_seal(replacement.value),
            expires_at=expires_at,
        )
        for replacement in redacted.replacements
        if replacement.new
    )
    message_audit(
        message=message,
        kind=AuditEvent.Kind.REDACTION,
        detail={
            "placeholders": [r.placeholder for r in redacted.replacements],
            "kinds": sorted({r.kind for r in redacted.replacements}),
        },
    )


def feedback_record(*, message: Message, rating: Feedback.Rating, comment: str) -> Feedback:
    """One rating per answer; rating again replaces it (customers change their minds). The
    comment is redacted as the customer's questions are, by the conversation's policy."""
    policy, redacted = _comment_redacted(message=message, comment=comment)
    with transaction.atomic():
        feedback, _ = Feedback.objects.update_or_create(
            message=message, defaults={"rating": rating, "comment": redacted.text}
        )
        if redacted.replacements:
            _personal_data_sealed(message=message, redacted=redacted, policy=policy)
        events.message_changed(message=message)
    return feedback


def feedback_comments_redact() -> int:
    """The comments stored before Keel redacted them, redacted now as `feedback_record`
    does; how many held personal data."""
    count = 0
    for feedback in Feedback.objects.exclude(comment="").select_related("message__conversation"):
        policy, redacted = _comment_redacted(message=feedback.message, comment=feedback.comment)
        if redacted.replacements:
            with transaction.atomic():
                Feedback.objects.filter(pk=feedback.pk).update(comment=redacted.text)
                _personal_data_sealed(message=feedback.message, redacted=redacted, policy=policy)
            count += 1
    return count


def _comment_redacted(*, message: Message, comment: str) -> tuple[PolicyVersion, Redacted]:
    policy = policy_for_conversation(conversation=message.conversation)
    redacted = personal_data_redact(
        text=comment,
        kinds=frozenset(policy.personal_data_kinds),
        earlier=conversation_placeholders(conversation_id=message.conversation_id),
    )
    return policy, redacted


def vault_expired_purge() -> int:
    """Deletes the personal data whose retention period is over; how many entries went."""
    deleted, _ = VaultEntry.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def transcripts_expired_purge() -> int:
    """Deletes the conversations each workspace's policy no longer keeps (idle for longer
    than its retention period); how many went. Audit events stay, without them."""
    deleted = 0
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        days = policy_in_force(workspace_id=workspace_id).transcript_retention_days
        expired = Conversation.objects.filter(
            workspace_id=workspace_id, last_message_at__lt=timezone.now() - timedelta(days=days)
        )
        _, per_model = expired.delete()
        deleted += per_model.get(Conversation._meta.label, 0)
    return deleted


def interrupted_answers_fail() -> int:
    """Answers left being written by a crash or an outage end as failed, so no customer's
    history shows "…" for ever."""
    stuck = list(
        Message.objects.filter(
            outcome=Message.Outcome.STREAMING,
            created_at__lt=timezone.now() - INTERRUPTED_AFTER,
        )
    )
    with transaction.atomic():
        Message.objects.filter(pk__in=[message.pk for message in stuck]).update(
            outcome=Message.Outcome.FAILED, text=INTERRUPTED_MESSAGE
        )
        for message in stuck:
            events.message_changed(message=message)
    return len(stuck)
