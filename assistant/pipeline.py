"""The answer to one customer message, top to bottom.

input rails (personal data → placeholders; an injection attempt is refused here) → the
search query (a follow-up searched with its topic) → store the question → retrieve → are
the sources good enough? → generate, streamed, with citation markers filtered and (for
generated text) each sentence checked against its sources as it arrives → number the
citations → store the answer with its trace. Nothing here runs inside a database
transaction except the short stores, and every push to the customer leaves after its
data commits.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from assistant import events
from assistant.citations import MarkerFilter, citations_number
from assistant.conversations import Timings, answer_begin, answer_finish, question_add
from assistant.followups import search_query_for
from assistant.llm import EXTRACTIVE, AnswerBackend, GenerationFailed, answer_backend
from assistant.models import Conversation, Message
from assistant.prompts import DONT_KNOW_REPLY, Turn
from assistant.rails.grounding import SentenceSplitter, sentence_grounded
from assistant.rails.injection import InjectionVerdict, injection_check
from assistant.rails.personal_data import personal_data_redact
from assistant.selectors import conversation_recent_turns
from assistant.threads import in_thread
from knowledge.search import Hit, chunk_search
from knowledge.selectors import knowledge_bases_in_workspace

logger = logging.getLogger(__name__)

SOURCES_PER_ANSWER = 4
# Below this cosine similarity no retrieved passage is about the question at all
# (measured on the demo help center: every answerable question's best passage is above
# 0.30, chit-chat and general knowledge below). The answerer applies its own, finer test.
MIN_SOURCE_SIMILARITY = 0.30

DONT_KNOW_MESSAGE = (
    "I'm sorry, I couldn't find the answer to that in our help articles, and I'd rather "
    "not guess. Would you like to talk to a person from our team?"
)
INJECTION_REPLY = (
    "I can only help with questions about {company}: orders, shipping, returns, our bikes "
    "and our stores. Is there something there I can help you with?"
)
FAILED_MESSAGE = (
    "Sorry, something went wrong on our side while answering. "
    "Please try again in a moment, or ask to talk to a person from our team."
)


@dataclass(frozen=True)
class Draft:
    text: str
    backend: str
    first_token_at: float | None
    error: str = ""
    ungrounded: list[str] = field(default_factory=list)  # sentences dropped by the rail


async def answer(*, conversation: Conversation, text: str) -> Message:
    started = time.perf_counter()
    # Personal data is replaced by placeholders before anything else sees the question.
    # If this fails, nothing is on the customer's screen yet; the caller tells them.
    # (Searching meanwhile, on another thread, measured slower on 2 cores: they contend.)
    query, question, history, reply, injection = await in_thread(_question_store)(
        conversation=conversation, text=text
    )
    if injection.flagged:
        return await in_thread(answer_finish)(
            message=reply,
            text=INJECTION_REPLY.format(company=conversation.workspace.name),
            outcome=Message.Outcome.REFUSED,
            cited=[],
            backend="",
            generation_error="",
            timings=Timings(
                retrieval_ms=None,
                first_token_ms=None,
                total_ms=_ms_between(started, time.perf_counter()),
            ),
        )
    retrieval_ms, hits, sources = None, [], []
    try:
        hits, retrieval_ms = await in_thread(_retrieve)(conversation=conversation, query=query)
        sources = _good_enough(hits)
        draft = await _generate(
            reply=reply,
            conversation=conversation,
            question=question,
            query=query,
            history=[_turn(message) for message in history],
            sources=sources,
        )
    except Exception:
        # The answer is on screen, being written: it must end, never spin forever.
        logger.exception("Answering in conversation %s failed", conversation.pk)
        draft = Draft(text="", backend="", first_token_at=None, error="internal error")

    numbered = citations_number(text=draft.text, source_count=len(sources))
    if not draft.text:
        outcome, text_shown, cited = Message.Outcome.FAILED, FAILED_MESSAGE, []
    elif _says_dont_know(numbered.text) or not numbered.cited:
        outcome, text_shown, cited = Message.Outcome.DONT_KNOW, DONT_KNOW_MESSAGE, []
    else:
        outcome, text_shown = Message.Outcome.ANSWERED, numbered.text
        cited = [sources[index] for index in numbered.cited]

    timings = Timings(
        retrieval_ms=retrieval_ms,
        first_token_ms=_ms_between(started, draft.first_token_at),
        total_ms=_ms_between(started, time.perf_counter()),
    )
    return await in_thread(answer_finish)(
        message=reply,
        text=text_shown,
        outcome=outcome,
        cited=cited,
        backend=draft.backend,
        generation_error=draft.error,
        timings=timings,
        ungrounded=draft.ungrounded,
        trace={
            "search_query": query,
            "retrieved": [_hit_trace(hit, used=hit in sources) for hit in hits],
            "cited_chunks": [hit.chunk_id for hit in cited],
            "rails": {
                "injection": {"score": injection.score, "flagged": injection.flagged},
                "grounding": {"removed_sentences": draft.ungrounded},
            },
            "generation": {"backend": draft.backend, "error": draft.error},
            "timings": asdict(timings),
        },
    )


def _hit_trace(hit: Hit, *, used: bool) -> dict:
    return {
        "chunk_id": hit.chunk_id,
        "document": hit.document_title,
        "heading": hit.heading,
        "page": hit.page,
        # Scores come from SQL, some as Decimal: as floats they serialise to JSON.
        "score": round(float(hit.score), 5),
        "similarity": None if hit.similarity is None else round(float(hit.similarity), 4),
        "keyword_score": None if hit.keyword_score is None else round(float(hit.keyword_score), 4),
        "given_to_the_generator": used,
    }


class Asked(NamedTuple):
    search_query: str
    text: str  # the question as stored: personal data replaced by placeholders
    history: list[Message]  # the turns before it
    reply: Message  # the answer's place on screen
    injection: InjectionVerdict


def _question_store(*, conversation: Conversation, text: str) -> Asked:
    """The question through the input rails, stored and on screen, and the answer's place."""
    previous_query = (
        Message.objects.filter(conversation=conversation, role=Message.Role.CUSTOMER)
        .order_by("-pk")
        .values_list("search_query", flat=True)
        .first()
    )
    redacted = personal_data_redact(text=text)
    injection = injection_check(text=redacted.text)
    query = search_query_for(question=redacted.text, previous_query=previous_query)
    question = question_add(
        conversation=conversation, redacted=redacted, search_query=query, injection=injection
    )
    history = conversation_recent_turns(conversation_id=conversation.pk, before_id=question.pk)
    return Asked(query, question.text, history, answer_begin(conversation=conversation), injection)


def _retrieve(*, conversation: Conversation, query: str) -> tuple[list[Hit], int]:
    """The passages found, and how long finding them took in milliseconds."""
    started = time.perf_counter()
    knowledge_bases = knowledge_bases_in_workspace(workspace_slug=conversation.workspace.slug)
    hits = chunk_search(knowledge_bases=list(knowledge_bases), query=query, k=SOURCES_PER_ANSWER)
    return hits, _ms_between(started, time.perf_counter())


def _good_enough(hits: Sequence[Hit]) -> list[Hit]:
    """The passages to answer from, or none when nothing retrieved is on the subject."""
    best = max((hit.similarity or 0.0 for hit in hits), default=0.0)
    return list(hits) if best >= MIN_SOURCE_SIMILARITY else []


async def _generate(
    *,
    reply: Message,
    conversation: Conversation,
    question: str,
    query: str,
    history: list[Turn],
    sources: list[Hit],
) -> Draft:
    """The configured backend's answer; the extractive one if that backend fails."""
    if not sources:
        return Draft(text=DONT_KNOW_REPLY, backend="", first_token_at=None)
    backend = answer_backend()
    arguments = {
        "question": question,
        "search_query": query,
        "history": history,
        "sources": sources,
        "assistant_name": conversation.workspace.assistant_name,
        "company": conversation.workspace.name,
    }
    try:
        return await _streamed(reply=reply, backend=backend, arguments=arguments)
    except Exception as failure:
        if backend is EXTRACTIVE:
            raise
        if not isinstance(failure, GenerationFailed):
            logger.exception("%s failed unexpectedly", backend.name)
        logger.warning("%s failed, answering extractively: %s", backend.name, failure)
        await events.answer_restarted(message=reply)
        fallback = await _streamed(reply=reply, backend=EXTRACTIVE, arguments=arguments)
        return Draft(
            text=fallback.text,
            backend=fallback.backend,
            first_token_at=fallback.first_token_at,
            error=f"{backend.name}: {failure}",
        )


async def _streamed(*, reply: Message, backend: AnswerBackend, arguments: dict) -> Draft:
    """The backend's answer, pushed as it comes: word by word for quotes of the sources,
    sentence by sentence for generated text, each sentence checked against what it cites
    before the customer sees it (unsupported ones are dropped)."""
    sources = arguments["sources"]
    markers = MarkerFilter(source_count=len(sources))
    sentences = SentenceSplitter() if backend is not EXTRACTIVE else None
    kept: list[str] = []
    dropped: list[str] = []
    first_token_at = None

    async def show(pieces: list[str]) -> None:
        nonlocal first_token_at
        for piece in pieces:
            if sentences and not await in_thread(sentence_grounded)(
                sentence=piece, sources=sources
            ):
                dropped.append(piece.strip())
                continue
            kept.append(piece)
            first_token_at = first_token_at or time.perf_counter()
            await events.answer_text(message=reply, piece=piece)

    async for piece in backend.stream(**arguments):
        shown = markers.feed(piece)
        await show(sentences.feed(shown) if sentences else [shown] if shown else [])
    tail = markers.flush()
    await show([*sentences.feed(tail), *sentences.flush()] if sentences else [tail] if tail else [])
    text = "".join(kept).strip()
    return Draft(
        text=text or (DONT_KNOW_REPLY if dropped else ""),
        backend=backend.name,
        first_token_at=first_token_at,
        ungrounded=dropped,
    )


def _turn(message: Message) -> Turn:
    return Turn(
        role="user" if message.role == Message.Role.CUSTOMER else "assistant", text=message.text
    )


def _says_dont_know(text: str) -> bool:
    plain = text.strip().casefold().replace("\N{RIGHT SINGLE QUOTATION MARK}", "'")
    return plain.startswith(("i don't know", "i do not know"))


def _ms_between(start: float, end: float | None) -> int | None:
    return None if end is None else round((end - start) * 1000)
