"""The answer to one customer message, top to bottom, under the workspace's policy.

check: the policy in force (a sandbox's: the draft) → input rails (personal data →
placeholders; injection, escalation rules, refused topics) → the search query (a follow-up
searched with its topic) → store the question, and retrieve beside it (nothing is read or
written after the checks but these) → generate from the passages on the subject, streamed
sentence by sentence, citation markers filtered and each sentence through the output
rails before the customer sees it → `outcomes.decide()`: answer, don't know, refuse, hand
over or fail → finish: store the answer with its trace. Nothing here runs inside a
database transaction except the short stores, and every push to the customer leaves
after its data commits.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

from django.conf.locale import LANG_INFO
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from assistant.answering.answer_completion import completing_passages
from assistant.answering.answerability import (
    NOTHING_TO_JUDGE,
    Judgement,
    answerability_judge,
    answerable_below,
    answerable_part,
)
from assistant.answering.citations import MarkerFilter, citations_number
from assistant.answering.confidence import confidence_of, signals_of
from assistant.answering.followups import search_query_for, search_query_written
from assistant.answering.llm import EXTRACTIVE, AnswerBackend, GenerationFailed, answer_backend
from assistant.answering.outcomes import NOT_GENERATED, Decision, Generation, Why, decide
from assistant.answering.prompts import DONT_KNOW_REPLY, Turn, scope_phrase, system_prompt
from assistant.answering.question_focus import content_terms
from assistant.common.languages import customer_language, in_customer_language, in_language
from assistant.common.threads import in_thread
from assistant.conversations import events
from assistant.conversations.selectors import (
    conversation_so_far,
    knowledge_language,
    policy_for_conversation,
)
from assistant.conversations.services import (
    INTERRUPTED_MESSAGE,
    Timings,
    answer_finish,
    question_add,
    question_and_answer_add,
)
from assistant.conversations.vault import conversation_placeholders
from assistant.handoffs import transitions as handoffs
from assistant.handoffs.escalation import (
    Trigger,
    escalation_trigger,
    nearly_trigger,
    repeats_after_unhelpful,
)
from assistant.handoffs.requests import handoff_start
from assistant.handoffs.transitions import handoff_reply
from assistant.models import AuditEvent, Conversation, Message, PolicyVersion
from assistant.rails.grounding import SentenceSplitter, markers_of
from assistant.rails.input_rails import InputVerdict, Nearly, input_rails
from assistant.rails.output_rails import OutputRails, Violation
from assistant.rails.personal_data import personal_data_redact
from assistant.rails.policy_rules import policy_fingerprint
from knowledge.models import KnowledgeBase
from knowledge.search import Hit, chunk_search
from knowledge.selectors import knowledge_bases_in_workspace, lexeme_chunks, lexemes_everywhere

logger = logging.getLogger(__name__)

SOURCES_PER_ANSWER = 4
# Below this cosine similarity no retrieved passage is about the question at all
# (measured on the demo help center: every answerable question's best passage is above
# 0.30, chit-chat and general knowledge below). The policy's confidence threshold then
# judges the answer itself.
MIN_SOURCE_SIMILARITY = 0.30
# A stem this long the help center never holds is a word it never uses (not "get").
MIN_UNKNOWN_LETTERS = 4

DONT_KNOW_MESSAGE = _(
    "I'm sorry, I couldn't find the answer to that in our help articles, and I'd rather "
    "not guess. Would you like to talk to a person from our team?"
)
# The customer writes in another language than the help articles the search found.
OTHER_LANGUAGE_MESSAGE = _(
    "I'm sorry, I couldn't find the answer to that in our help articles, which are written "
    "in {language_name}. Would you like to talk to a person from our team?"
)
REFUSAL_REPLY = _(
    "I can only help with questions about {company}: {scope}. "
    "Is there something there I can help you with?"
)
FAILED_MESSAGE = _(
    "Sorry, something went wrong on our side while answering. "
    "Please try again in a moment, or ask to talk to a person from our team."
)


class QuestionNotStored(Exception):
    """The database did not take the customer's message: nothing of it was kept or shown,
    so they must send it again."""


class Asked(NamedTuple):
    """The question read and checked, before anything of it is stored."""

    policy: PolicyVersion
    company: str  # the workspace's name, which the policy's texts speak for
    state: Conversation.State
    search_query: str
    text: str  # the question as it will be stored: personal data replaced by placeholders
    history: list[Message]  # the recent turns before it
    verdict: InputVerdict
    trigger: Trigger | None  # why it must go to a person now (None once one has it)
    articles_language: str  # the language most of the workspace's help articles are in
    # The workspace's, read once: the question is searched in them, and each of its parts
    # (`completing_passages`, after the judgement: a part completes an answer, never makes
    # a question answerable).
    knowledge_bases: list[KnowledgeBase]

    @property
    def gets_reply(self) -> bool:
        """The assistant answers (or refuses); otherwise a person has, or is about to
        take, the conversation."""
        return self.state not in PERSON_HAS_IT and self.trigger is None

    @property
    def gets_search(self) -> bool:
        return self.gets_reply and (not self.verdict.refusal or self.verdict.refusal_yields)


PERSON_HAS_IT = (Conversation.State.WAITING, Conversation.State.AGENT)
HISTORY_TURNS = 6
LOOP_ANSWERS = 2  # unhelpful answers in a row before a repeated question goes to a person


@dataclass
class Spans:
    """An answer's clock, started when the question comes: where its time went."""

    started: float = field(default_factory=time.perf_counter)
    stages: dict[str, tuple[float, float]] = field(default_factory=dict)

    def ms(self, at: float | None) -> int | None:
        """Whole milliseconds from the start to `at`."""
        return None if at is None else round((at - self.started) * 1000)

    def span_ms(self, begin: float, end: float) -> int:
        """A span's whole milliseconds on this clock: spans rounded this way add up to no
        more than their rounded whole."""
        return self.ms(end) - self.ms(begin)

    def stages_ms(self) -> dict[str, int]:
        """Stage by stage: never more in all than the total."""
        return {stage: self.span_ms(begin, end) for stage, (begin, end) in self.stages.items()}


class Found(NamedTuple):
    """What retrieval found, and what of it the backend answers from."""

    hits: list[Hit]
    sources: list[Hit]  # none when no passage is on the subject, or none answers
    judgement: Judgement  # does the best passage on the subject answer the question?
    retrieval_ms: int | None

    @property
    def unanswerable(self) -> bool:
        """Passages on the subject came back, and none was judged to answer."""
        return self.judgement is not NOTHING_TO_JUDGE and not self.sources


async def answer(
    *,
    conversation: Conversation,
    text: str,
    queued: Message | None = None,
    on_stored: Callable[[], None] | None = None,
) -> Message | None:
    """The assistant's answer, or None when a person has (or is about to take) the
    conversation: the question is stored for them and the assistant stays silent.
    `queued`: the question, stored when it came, whose `text` this is (QuestionTaken when
    another process answers it); `on_stored` is called once the question is kept."""
    spans = Spans()
    # Personal data is replaced by placeholders before anything else sees the question.
    # If this fails, nothing is on the customer's screen yet; the caller tells them.
    try:
        asked = await in_thread(_question_check)(conversation=conversation, text=text)
    except (DatabaseError, ObjectDoesNotExist) as error:  # the database, or the conversation, gone
        raise QuestionNotStored from error
    checked_at = time.perf_counter()
    spans.stages["question_and_input_rails"] = (spans.started, checked_at)
    rewritten, reply, searched = await _store_and_retrieve(
        conversation=conversation, asked=asked, queued=queued, on_stored=on_stored
    )
    if not isinstance(searched, BaseException):
        asked = asked._replace(search_query=searched.query)
    spans.stages["store_and_retrieval"] = (checked_at, time.perf_counter())  # side by side
    found, generation = await _found_and_generated(
        conversation=conversation, reply=reply, asked=asked, searched=searched, spans=spans
    )
    numbered = citations_number(text=generation.text, source_count=len(found.sources))
    ungrounded = sum(
        any(verdict["rail"] == "grounding" for verdict in removed["rails"])
        for removed in generation.removed
    )
    signals = signals_of(sources=found.sources, kept=generation.kept, ungrounded=ungrounded)
    confidence = confidence_of(signals) if asked.gets_search else None
    decision = decide(
        person_takes_it=reply is None,
        refused=bool(asked.verdict.refusal),
        unanswerable=found.unanswerable,
        sources=len(found.sources),
        generation=generation,
        cited=len(numbered.cited),
        confidence=confidence,
        threshold=asked.policy.confidence_threshold,
        nearly=await _nearly(asked, hits=found.hits),
        refusal_yields=asked.verdict.refusal_yields,
    )
    if reply is None:
        return None
    trigger = nearly_trigger(verdict=asked.verdict) if decision.why is Why.NEARLY_PERSON else None
    if trigger is not None and not await _handed_over(conversation=conversation, trigger=trigger):
        decision, trigger = Decision(Message.Outcome.DONT_KNOW, Why.HANDOFF_FAILED), None
    if decision.takes_back:
        await events.answer_restarted(message=reply)
    trace = {
        "policy": _policy_trace(asked.policy),
        "search_query": asked.search_query,
        "rails": {
            "input": asked.verdict.trace(),
            "output": {"removed": generation.removed, "replaced": generation.replaced},
        },
        "decision": {"outcome": decision.outcome.value, "why": decision.why.value},
        "confidence": {
            "score": confidence,
            "signals": signals.as_dict(),
            "unsure": decision.why is Why.UNSURE,
        },
        "generation": {"backend": generation.backend, "error": generation.error},
    }
    if asked.gets_search:  # a refused question is not searched
        trace["retrieved"] = [_hit_trace(hit, used=hit in found.sources) for hit in found.hits]
        trace["answerability"] = {
            **found.judgement.as_trace(),
            "threshold": answerable_below(confidence_threshold=asked.policy.confidence_threshold),
        }
    return await _finish(
        rewritten=rewritten,
        reply=reply,
        asked=asked,
        decision=decision,
        shown=_shown(decision=decision, asked=asked, text=numbered.text, trigger=trigger),
        cited=[found.sources[index] for index in numbered.cited]
        if decision.outcome == Message.Outcome.ANSWERED
        else [],
        generation=generation,
        confidence=confidence,
        timings=Timings(
            retrieval_ms=found.retrieval_ms,
            first_token_ms=spans.ms(generation.first_token_at),
            total_ms=spans.ms(time.perf_counter()),
        ),
        trace=trace,
        spans=spans,
        audit=_second_look_audit(decision=decision, verdict=asked.verdict),
    )


async def _handed_over(*, conversation: Conversation, trigger: Trigger) -> bool:
    """The second look's handover started (the answer on screen says so, in the customer's
    language); False when starting it failed, logged: the answer must still end, with
    "I don't know" and the offer of a person."""
    try:
        await in_thread(handoff_start)(conversation=conversation, trigger=trigger, announced=True)
    except Exception:
        logger.exception("Handing conversation %s over failed", conversation.pk)
        return False
    return True


async def _nearly(asked: Asked, *, hits: Sequence[Hit]) -> Nearly:
    """What the message nearly is, read only in the help center's language: in another,
    finding no answer says little (the search could not match the customer's words), and
    the rules' examples, in the help center's language, sit near any short message of
    another (`rails.not_support`). Out of scope only when nothing else nearly matched, the
    passages found (`hits`) as far as the rest, and the message uses a word the help
    center never does."""
    language = customer_language(questions=[asked.text])
    if asked.articles_language and language != asked.articles_language:
        return Nearly.NOTHING
    passages = max((float(hit.similarity or 0.0) for hit in hits), default=0.0)
    if (
        asked.verdict.nearly is Nearly.NOTHING
        and asked.verdict.out_of_scope(passages=passages)
        and await in_thread(_words_unknown)(text=asked.text, language=language, hits=hits)
    ):
        return Nearly.OUT_OF_SCOPE
    return asked.verdict.nearly


def _words_unknown(*, text: str, language: str, hits: Sequence[Hit]) -> bool:
    """Whether the message uses a word the help center never does ("melatonin", "the
    derivative of"): one far from all it is about in words it knows ("what does this
    error code on my display mean?") is a question it cannot answer, not a task to
    refuse. True when there is nothing to tell."""
    counts = lexeme_chunks(
        text=text, language=language, document_ids=[hit.document_id for hit in hits]
    )
    return not counts or any(
        chunks == 0 and lexeme.isalpha() and len(lexeme) >= MIN_UNKNOWN_LETTERS
        for lexeme, chunks in counts.items()
    )


def _second_look_audit(
    *, decision: Decision, verdict: InputVerdict
) -> tuple[AuditEvent.Kind, dict] | None:
    """The rail whose looser bar decided, audited as its strict bar is, with the reason;
    or the refused topic that did not yield."""
    reason = {"action": decision.outcome.value, "why": decision.why.value}
    if verdict.refusal_yields and decision.outcome == Message.Outcome.REFUSED:
        rule = verdict.refused_topic
        return AuditEvent.Kind.REFUSED_TOPIC, {"rule": rule.label, "score": rule.score, **reason}
    if not decision.second_look:
        return None
    match decision.why:
        case Why.NEARLY_ATTACK:
            injection = verdict.injection
            return AuditEvent.Kind.INJECTION, {
                "score": injection.score,
                "decoded": injection.decoded,
                **reason,
            }
        case Why.NEARLY_PERSON:
            rule = verdict.nearly_escalation or verdict.nearly_intent_match
            kind = AuditEvent.Kind.ESCALATION_FLAG
        case Why.OUT_OF_SCOPE:
            nearest = verdict.far_refused_topic
            return AuditEvent.Kind.REFUSED_TOPIC, {
                "rule": "Out of scope",
                "nearest_refused_topic": nearest.label,
                "score": nearest.score,
                "scope": verdict.scope,
                **reason,
            }
        case _:
            rule, kind = verdict.nearly_refused_topic, AuditEvent.Kind.REFUSED_TOPIC
    return kind, {"rule": rule.label, "score": rule.score, **reason}


class Searched(NamedTuple):
    query: str  # what was searched: the offline rule's, or the one an LLM wrote
    hits: list[Hit]
    span: tuple[float, float] | None  # when finding them began and ended; None unsearched


async def _store_and_retrieve(
    *,
    conversation: Conversation,
    asked: Asked,
    queued: Message | None,
    on_stored: Callable[[], None] | None,
) -> tuple[Message | None, Message | None, Searched | BaseException]:
    """The question stored, and the passages searched beside it: the question's vector is
    cached by the input rails, so one waits on PostgreSQL while the other writes, and the
    customer sees their question (`on_stored`) while an LLM writes the search query. A
    failed search belongs to the answer, which is on screen by then. First comes the
    question when an LLM wrote its query (kept with the answer), else None."""

    async def store() -> tuple[Message, Message | None]:
        stored = await in_thread(_question_store)(
            conversation=conversation, asked=asked, queued=queued
        )
        if on_stored is not None:
            on_stored()
        return stored

    stored, searched = await asyncio.gather(
        store(), _searched(conversation=conversation, asked=asked), return_exceptions=True
    )
    if isinstance(stored, DatabaseError | ObjectDoesNotExist):
        raise QuestionNotStored from stored
    if isinstance(stored, BaseException):
        raise stored
    question, reply = stored
    if isinstance(searched, BaseException) or searched.query == asked.search_query:
        return None, reply, searched
    question.search_query = searched.query  # an LLM wrote it: kept with the answer
    return question, reply, searched


async def _found_and_generated(
    *,
    conversation: Conversation,
    reply: Message | None,
    asked: Asked,
    searched: Searched | BaseException,
    spans: Spans,
) -> tuple[Found, Generation]:
    """The passages to answer from, and the backend's generation from them (none without
    them: a refused question, or one a person takes, is not searched)."""
    found = Found(hits=[], sources=[], judgement=NOTHING_TO_JUDGE, retrieval_ms=None)
    generation_started = time.perf_counter()
    try:
        if isinstance(searched, BaseException):
            raise searched
        hits, searching = searched.hits, searched.span
        on_subject = _good_enough(hits)
        # Before generation, so both backends answer only what the passages answer.
        judgement = await in_thread(answerability_judge)(
            question=asked.search_query, sources=on_subject
        )
        needed = answerable_below(confidence_threshold=asked.policy.confidence_threshold)
        if asked.verdict.refusal_yields:
            # A refused topic gives way only to a judgement at the policy's whole
            # threshold, not the share of it that lets an ordinary answer be written.
            needed = asked.policy.confidence_threshold
        answers = judgement.score >= needed
        # What the sources answer: an ask of several that none of them does is left out.
        answering = answerable_part(question=asked.search_query, judgement=judgement, needed=needed)
        completing, everywhere = [], frozenset()
        if answers and on_subject:
            completing = await in_thread(completing_passages)(
                query=answering,
                knowledge_bases=asked.knowledge_bases,
                hits=on_subject,
            )
            everywhere = await in_thread(_words_everywhere)(asked=asked)
        found = Found(
            hits=hits,
            sources=[*on_subject, *completing] if answers else [],
            judgement=judgement,
            retrieval_ms=None if searching is None else spans.span_ms(*searching),
        )
        generation_started = time.perf_counter()
        generation = NOT_GENERATED
        if found.sources:
            generation = await _generate(
                reply=reply,
                rails=OutputRails(
                    policy=asked.policy,
                    sources=found.sources,
                    instructions=system_prompt(
                        policy=asked.policy, company=asked.company, with_scope=False
                    ),
                    workspace_id=conversation.workspace_id,
                ),
                arguments={
                    "question": asked.text,
                    "search_query": answering,
                    "history": [_turn(message) for message in asked.history],
                    "sources": found.sources,
                    "system": system_prompt(policy=asked.policy, company=asked.company),
                    "max_words": asked.policy.answer_max_words,
                    "everywhere": everywhere,
                },
            )
    except Exception:
        # The answer is on screen, being written: it must end, never spin forever.
        logger.exception("Answering in conversation %s failed", conversation.pk)
        generation = Generation(text="", backend="", first_token_at=None, error="internal error")
        generation_started = time.perf_counter()
    generated_at = time.perf_counter()
    rails_started = generated_at - generation.rails_seconds  # the rails' time, as one span
    spans.stages["generation"] = (generation_started, rails_started)
    spans.stages["output_rails"] = (rails_started, generated_at)
    return found, generation


def _shown(*, decision: Decision, asked: Asked, text: str, trigger: Trigger | None) -> str:
    """What the customer reads, in their language unless it is the answer itself."""
    match decision.outcome:
        case Message.Outcome.ANSWERED:
            return text
        case Message.Outcome.REFUSED:
            return _refusal(policy=asked.policy, company=asked.company, question=asked.text)
        case Message.Outcome.HANDED_OFF:
            language = customer_language(questions=[asked.text])
            say = in_language(trigger.say, language=language)
            return handoff_reply(safety_message=say, language=language)
        case Message.Outcome.FAILED:
            return in_customer_language(FAILED_MESSAGE, text=asked.text)
    return _dont_know(question=asked.text, articles_language=asked.articles_language)


async def _finish(
    *,
    rewritten: Message | None,
    reply: Message,
    asked: Asked,
    decision: Decision,
    shown: str,
    cited: list[Hit],
    generation: Generation,
    confidence: float | None,
    timings: Timings,
    trace: dict,
    spans: Spans,
    audit: tuple[AuditEvent.Kind, dict] | None,
) -> Message:
    """The answer stored with its trace, and shown; if it cannot be kept, the customer is
    told now, not left watching "…" (the stored placeholder is failed later by
    `interrupted_answers_fail`)."""
    try:
        return await in_thread(answer_finish)(
            message=reply,
            question=rewritten,
            text=shown,
            outcome=decision.outcome,
            cited=cited,
            backend=generation.backend,
            generation_error=generation.error,
            timings=timings,
            policy=asked.policy,
            confidence=confidence,
            removed=generation.removed,
            audit=audit,
            trace={
                **trace,
                "cited_chunks": [hit.chunk_id for hit in cited],
                "timings": asdict(timings),
                # Where the time went, up to the store (whose own time the answer cannot hold).
                "stages_ms": spans.stages_ms(),
            },
        )
    except DatabaseError:
        interrupted = in_customer_language(INTERRUPTED_MESSAGE, text=asked.text)
        await events.answer_interrupted(message=reply, text=interrupted)
        raise


def _dont_know(*, question: str, articles_language: str) -> str:
    """In the customer's language; it says so when the articles are in another one, as
    then the search cannot have matched the customer's words. The articles' language is
    the help center's (most of its passages), not that of the passages found: a French
    question finds the one Spanish page of an English help center before the others."""
    language = customer_language(questions=[question])
    if articles_language != language and articles_language in LANG_INFO:
        name = get_language_info(articles_language)["name_translated"]
        return in_language(OTHER_LANGUAGE_MESSAGE, language=language, language_name=name)
    return in_language(DONT_KNOW_MESSAGE, language=language)


def _refusal(*, policy: PolicyVersion, company: str, question: str) -> str:
    return in_customer_language(
        REFUSAL_REPLY, text=question, company=company, scope=scope_phrase(policy=policy)
    )


def _policy_trace(policy: PolicyVersion) -> dict:
    return {
        "version": policy.number,
        "draft": policy.pk is not None and policy.number is None,
        "fingerprint": policy_fingerprint(policy)[:12],
    }


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


def _question_check(*, conversation: Conversation, text: str) -> Asked:
    """The question through the input rails, read with all it depends on: a few queries,
    no writes."""
    current = Conversation.objects.select_related("workspace").get(pk=conversation.pk)
    policy = policy_for_conversation(conversation=current)
    so_far = conversation_so_far(conversation_id=conversation.pk)
    earlier = [message for message in so_far if message.role == Message.Role.CUSTOMER]
    verdict = input_rails(
        text=text, policy=policy, earlier=conversation_placeholders(conversation_id=conversation.pk)
    )
    question = verdict.redacted.text
    answers = [
        message
        for message in so_far
        if message.role == Message.Role.ASSISTANT and message.outcome != Message.Outcome.HANDED_OFF
    ]
    trigger = None
    if current.state not in PERSON_HAS_IT:  # with a person on it, nothing more is decided
        trigger = escalation_trigger(
            verdict=verdict,
            looping=repeats_after_unhelpful(
                question=question,
                earlier_questions=[message.text for message in earlier],
                last_answers=answers[-LOOP_ANSWERS:],
            ),
        )
    knowledge_bases = list(knowledge_bases_in_workspace(workspace_slug=current.workspace.slug))
    return Asked(
        policy=policy,
        company=current.workspace.name,
        state=current.state,
        search_query=search_query_for(
            question=question,
            previous_query=earlier[-1].search_query if earlier else None,
            knowledge_bases=knowledge_bases,
        ),
        text=question,
        history=so_far[-HISTORY_TURNS:],
        verdict=verdict,
        trigger=trigger,
        articles_language=knowledge_language(workspace_id=current.workspace_id),
        knowledge_bases=knowledge_bases,
    )


def _question_store(
    *, conversation: Conversation, asked: Asked, queued: Message | None
) -> tuple[Message, Message | None]:
    """The question stored (or, `queued`, claimed); then either the answer's place on
    screen, or (a person has it, or it must go to one) no answer from the assistant."""
    if asked.state == Conversation.State.RESOLVED:
        handoffs.conversation_reopen(conversation=conversation)
    stored = {
        "conversation": conversation,
        "verdict": asked.verdict,
        "search_query": asked.search_query,
        "policy": asked.policy,
        "queued": queued,
    }
    if asked.gets_reply:
        return question_and_answer_add(**stored)
    question = question_add(**stored)
    if asked.trigger is not None:
        handoff_start(conversation=conversation, trigger=asked.trigger)
    return question, None


async def _searched(*, conversation: Conversation, asked: Asked) -> Searched:
    """The passages for the question; with an LLM, the model writes the query first (see
    followups), and the question is stored meanwhile with the offline rule's query, the
    one the next message's follow-up rule reads."""
    if not asked.gets_search:
        return Searched(query=asked.search_query, hits=[], span=None)
    query = await search_query_written(
        question=asked.text,
        history=asked.history,
        offline_query=asked.search_query,
        workspace_id=conversation.workspace_id,
    )
    return await in_thread(_retrieve)(knowledge_bases=asked.knowledge_bases, query=query)


def _retrieve(*, knowledge_bases: list[KnowledgeBase], query: str) -> Searched:
    """The passages found, and when finding them began and ended."""
    began = time.perf_counter()
    hits = chunk_search(knowledge_bases=knowledge_bases, query=query, k=SOURCES_PER_ANSWER)
    return Searched(query=query, hits=hits, span=(began, time.perf_counter()))


def _words_everywhere(*, asked: Asked) -> frozenset[str]:
    """The question's words that tell no page apart: the company's name, and the words
    nearly every page holds. A yes/no answer's sentence need not repeat them."""
    return content_terms(asked.company) | lexemes_everywhere(
        text=asked.search_query,
        language=asked.articles_language or "en",
        knowledge_bases=asked.knowledge_bases,
    )


def _good_enough(hits: Sequence[Hit]) -> list[Hit]:
    """The passages to answer from, or none when nothing retrieved is on the subject."""
    best = max((hit.similarity or 0.0 for hit in hits), default=0.0)
    return list(hits) if best >= MIN_SOURCE_SIMILARITY else []


async def _generate(*, reply: Message, rails: OutputRails, arguments: dict) -> Generation:
    """The configured backend's answer; the extractive one if that backend fails."""
    backend = answer_backend()
    try:
        return await _streamed(reply=reply, backend=backend, rails=rails, arguments=arguments)
    except Exception as failure:
        if backend is EXTRACTIVE:
            raise
        if not isinstance(failure, GenerationFailed):
            logger.exception("%s failed unexpectedly", backend.name)
        logger.warning("%s failed, answering extractively: %s", backend.name, failure)
        await events.answer_restarted(message=reply)
        fallback = await _streamed(
            reply=reply, backend=EXTRACTIVE, rails=rails, arguments=arguments
        )
        return replace(fallback, error=f"{backend.name}: {failure}")


async def _streamed(
    *, reply: Message, backend: AnswerBackend, rails: OutputRails, arguments: dict
) -> Generation:
    """The backend's answer, pushed sentence by sentence as it comes, each through the
    output rails first: an offending sentence is dropped, or (if the policy says so) the
    whole answer is replaced and the stream stops."""
    markers = MarkerFilter(source_count=len(arguments["sources"]))
    sentences = SentenceSplitter()
    generated = backend is not EXTRACTIVE
    replace_all = rails.policy.violation_action == PolicyVersion.ViolationAction.REPLACE
    kept: list[str] = []
    removed: list[dict] = []
    first_token_at = None
    rails_seconds = 0.0

    async def show(pieces: list[str]) -> bool:
        """False once the whole answer is to be replaced."""
        nonlocal first_token_at, rails_seconds
        for piece in pieces:
            checked = time.perf_counter()
            violations = await in_thread(rails.violations)(sentence=piece, generated=generated)
            rails_seconds += time.perf_counter() - checked
            if violations:
                removed.append(_removed(piece, violations))
                if replace_all and any(v.rail != "grounding" for v in violations):
                    await events.answer_restarted(message=reply)
                    return False
                _markers_carried(kept, dropped=piece)
                continue
            kept.append(piece)
            first_token_at = first_token_at or time.perf_counter()
            await events.answer_text(message=reply, piece=piece)
        return True

    async def whole_sentences() -> AsyncIterator[list[str]]:
        async for piece in backend.stream(**arguments):
            yield sentences.feed(markers.feed(piece))
        yield [*sentences.feed(markers.flush()), *sentences.flush()]

    async with aclosing(whole_sentences()) as batches:  # a replaced answer stops the stream
        async for batch in batches:
            if not await show(batch):
                return Generation(
                    text="",
                    backend=backend.name,
                    first_token_at=first_token_at,
                    removed=removed,
                    replaced=True,
                    rails_seconds=rails_seconds,
                )
    text = "".join(kept).strip()
    return Generation.written(
        text=text or (DONT_KNOW_REPLY if removed else ""),
        backend=backend.name,
        first_token_at=first_token_at,
        removed=removed,
        kept=len(kept),
        rails_seconds=rails_seconds,
    )


def _markers_carried(kept: list[str], *, dropped: str) -> None:
    """A quote's marker follows the last sentence of its run: when that sentence is
    dropped, the sentences of the run kept before it (unmarked) keep their citation, in
    the stored answer."""
    markers = markers_of(dropped)
    if kept and markers and not markers_of(kept[-1]):
        sentence = kept[-1].rstrip()
        kept[-1] = f"{sentence} {' '.join(markers)}{kept[-1][len(sentence) :]}"


def _removed(sentence: str, violations: list[Violation]) -> dict:
    """What the trace and audit keep of a removed sentence: never personal data in it."""
    return {
        "sentence": personal_data_redact(text=sentence.strip()).text,
        "rails": [{"rail": v.rail, "detail": v.detail} for v in violations],
    }


def _turn(message: Message) -> Turn:
    return Turn(
        role="user" if message.role == Message.Role.CUSTOMER else "assistant", text=message.text
    )
