"""When a conversation should go to a person, and what that person is handed.

Triggers, strongest first: a policy's own escalation rule, a built-in one (`rails.intents`:
the customer asking for a person, upset, a legal threat, an injury...), the customer
repeating a question after two unhelpful answers (no loops). A low-confidence answer is
not a trigger on its own: the assistant says it does not know and offers a person, and
the customer accepts or not.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.models import Handoff, Message
from assistant.rails.input_rails import InputVerdict
from assistant.rails.intents import Intent
from assistant.rails.rules import RuleMatch
from knowledge.embeddings import texts_embed_cached

UNHELPFUL = {Message.Outcome.DONT_KNOW, Message.Outcome.FAILED, Message.Outcome.REFUSED}
# "How long does delivery to Canada take?" and "how long until my parcel reaches Canada"
# score 0.83; different questions about the same article stay under 0.7.
SAME_QUESTION_SIMILARITY = 0.75
SUMMARY_CHARS = 240
_MARKER = re.compile(r"\s*\[\d{1,3}\]")


@dataclass(frozen=True)
class Trigger:
    reason: Handoff.Reason
    detail: str = ""
    say: str = ""  # the rule's safety message, sent before the handover


def escalation_trigger(*, verdict: InputVerdict, looping: bool) -> Trigger | None:
    trigger = _rule_trigger(escalation=verdict.escalation, intent=verdict.intent)
    if trigger is None and looping:
        return Trigger(Handoff.Reason.LOOP)
    return trigger


def nearly_trigger(*, verdict: InputVerdict) -> Trigger | None:
    """The rule a message nearly matches, by the looser bars, which hands it to a person
    when the help center has no answer (`outcomes.Nearly.PERSON`)."""
    return _rule_trigger(escalation=verdict.nearly_escalation, intent=verdict.nearly_intent)


def _rule_trigger(*, escalation: RuleMatch | None, intent: Intent | None) -> Trigger | None:
    """A policy's own escalation rule first, then a built-in one."""
    if escalation:
        return Trigger(Handoff.Reason.POLICY_RULE, escalation.label, escalation.say)
    if intent:
        detail = intent.rule.label if intent.reason == Handoff.Reason.POLICY_RULE else ""
        return Trigger(intent.reason, detail, intent.rule.say)
    return None


def repeats_after_unhelpful(
    *, question: str, earlier_questions: Sequence[str], last_answers: Sequence[Message]
) -> bool:
    """The last two answers did not help, and the customer asks the same thing again."""
    if len(last_answers) < 2 or not earlier_questions:
        return False
    if not all(_unhelpful(answer) for answer in last_answers[-2:]):
        return False
    vectors = texts_embed_cached([question, *earlier_questions])
    return float(np.max(vectors[1:] @ vectors[0])) >= SAME_QUESTION_SIMILARITY


def _unhelpful(answer: Message) -> bool:
    rated_down = getattr(answer, "feedback", None) and answer.feedback.rating == "down"
    return answer.outcome in UNHELPFUL or bool(rated_down)


def conversation_summary(*, questions: Sequence[str]) -> str:
    """One line for the queue: what the customer asked, most recent last."""
    line = " · ".join(" ".join(question.split()) for question in questions)
    return line if len(line) <= SUMMARY_CHARS else "…" + line[-(SUMMARY_CHARS - 1) :]


def suggested_reply(*, extractive_answer: str | None) -> str:
    """A reply the agent can edit and send: the knowledge base's best sentences, without
    the citation markers the customer's widget would link."""
    return _MARKER.sub("", extractive_answer or "").strip()
