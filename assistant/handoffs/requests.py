"""Starting a handoff: the packet an agent gets (why, summary, language, the passages'
best answer as a suggested reply, the last answer's confidence), then the transition."""

from assistant.answering.extractive import extractive_answer
from assistant.common.languages import customer_language, in_language
from assistant.handoffs.escalation import (
    Trigger,
    conversation_summary,
    suggested_reply,
)
from assistant.handoffs.transitions import handoff_create
from assistant.models import Conversation, Handoff, Message
from knowledge.search import chunk_search
from knowledge.selectors import knowledge_bases_in_workspace

SOURCES_FOR_SUGGESTION = 4
MIN_SUGGESTION_SIMILARITY = 0.30


def handoff_start(
    *, conversation: Conversation, trigger: Trigger, announced: bool = False
) -> Handoff:
    """Call outside any transaction: the suggestion searches and embeds. `announced`: the
    caller tells the customer itself (`transitions.handoff_create`)."""
    questions = list(
        Message.objects.filter(conversation=conversation, role=Message.Role.CUSTOMER)
        .order_by("pk")
        .values_list("text", "search_query")
    )
    last_answer = (
        Message.objects.filter(conversation=conversation, role=Message.Role.ASSISTANT)
        .exclude(confidence=None)
        .order_by("-pk")
        .first()
    )
    texts = [text for text, _ in questions]
    language = customer_language(questions=texts) if texts else ""
    return handoff_create(
        conversation=conversation,
        reason=trigger.reason,
        reason_detail=trigger.detail,
        summary=conversation_summary(questions=texts[-3:]),
        suggested_reply=_suggestion(conversation, [query for _, query in reversed(questions)]),
        confidence=last_answer.confidence if last_answer else None,
        language=language,
        # Keel's built-in messages in the customer's language, an admin's as written.
        safety_message=in_language(trigger.say, language=language),
        announced=announced,
    )


def _suggestion(conversation: Conversation, queries: list[str]) -> str:
    """From the most recent question the knowledge base can answer."""
    knowledge_bases = list(knowledge_bases_in_workspace(workspace_slug=conversation.workspace.slug))
    for query in queries[:3]:
        hits = chunk_search(knowledge_bases=knowledge_bases, query=query, k=SOURCES_FOR_SUGGESTION)
        if max((hit.similarity or 0.0 for hit in hits), default=0.0) >= MIN_SUGGESTION_SIMILARITY:
            answer = extractive_answer(question=query, sources=hits)
            if answer:
                return suggested_reply(extractive_answer=answer)
    return ""


def person_requested(*, conversation: Conversation) -> Handoff:
    """The customer pressed "Talk to a person": after an answer the assistant was not
    sure of, that is accepting its offer; otherwise a plain request."""
    last = (
        Message.objects.filter(conversation=conversation, role=Message.Role.ASSISTANT)
        .exclude(outcome=Message.Outcome.STREAMING)
        .order_by("-pk")
        .first()
    )
    unsure = last is not None and last.outcome == Message.Outcome.DONT_KNOW
    reason = Handoff.Reason.LOW_CONFIDENCE if unsure else Handoff.Reason.ASKED
    return handoff_start(conversation=conversation, trigger=Trigger(reason, "the button"))
