"""What becomes of a customer's question, decided in one place from what the stages found.

The pipeline checks the question, stores it and retrieves passages, has the backend write
its `Generation`, then asks `decide()`: answer, don't know, refuse, hand over, or fail.
`decide()` reads nothing and writes nothing, so each rule is read, and tested, apart from
the database, the search and the backends.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from assistant.answering.prompts import DONT_KNOW_REPLY
from assistant.models import Message
from assistant.rails.input_rails import Nearly


@dataclass(frozen=True)
class Generation:
    """What the backend wrote, as the customer saw it stream."""

    text: str
    backend: str
    first_token_at: float | None
    dont_know: bool = False  # the backend, or the rails, left nothing it knew to say
    error: str = ""
    removed: list[dict] = field(default_factory=list)  # sentences the output rails removed
    replaced: bool = False  # a rail replaced the whole answer, as the policy asks
    kept: int = 0  # sentences shown
    rails_seconds: float = 0.0  # spent checking sentences with the output rails

    @classmethod
    def written(cls, *, text: str, **rest) -> "Generation":
        """A backend's text; the prompt's don't-know reply (a model may add to it) is
        the one place text is read as "I don't know"."""
        plain = text.strip().casefold().replace("\N{RIGHT SINGLE QUOTATION MARK}", "'")
        says_so = plain.startswith((DONT_KNOW_REPLY.casefold().rstrip("."), "i do not know"))
        return cls(text=text, dont_know=says_so, **rest)


NOT_GENERATED = Generation(text="", backend="", first_token_at=None, dont_know=True)


class Why(StrEnum):
    """The rule `decide()` applied, kept in the answer's trace."""

    PERSON = "a person has, or takes, the conversation"
    REFUSED_QUESTION = "the input rails refused the question"
    REFUSED_ANSWER = "an output rail replaced the answer"
    FAILED = "no answer could be written"
    UNSURE = "the answer's confidence is below the policy's threshold"
    UNANSWERABLE = "the passages on the subject were judged not to answer it"
    NO_SOURCES = "no passage is on the subject"
    BACKEND_DID_NOT_KNOW = "the backend found no answer in the sources"
    UNCITED = "the answer cites no source"
    ANSWERED = "a cited answer, confident enough"
    YIELDED = "the customer's own how-to on a refused topic, which the help center answers"
    # The second look, when the help center has no answer (`Nearly`).
    NEARLY_ATTACK = "an attack by the injection rail's looser bar (no answer in the help center)"
    NEARLY_PERSON = "an escalation rule by its looser bar (no answer in the help center)"
    NEARLY_REFUSED_TOPIC = "refused topic (no answer in the help center)"
    HANDOFF_FAILED = "the handover by the looser bar could not be started"
    OUT_OF_SCOPE = "out of scope: far from all the help center is about, nearest a refused topic"


# The "I don't know"s where the help center has no answer: nothing on the subject,
# passages judged not to answer it, or a backend that found none in them. Not an answer
# written but uncited or unsure: the help center holds something on it ("Disregard my
# last question: where is your Leeds shop?"), and the strict bars protect it.
NO_ANSWER = frozenset({Why.NO_SOURCES, Why.UNANSWERABLE, Why.BACKEND_DID_NOT_KNOW})
SECOND_LOOK = {
    Nearly.ATTACK: (Message.Outcome.REFUSED, Why.NEARLY_ATTACK),
    Nearly.PERSON: (Message.Outcome.HANDED_OFF, Why.NEARLY_PERSON),
    Nearly.REFUSED_TOPIC: (Message.Outcome.REFUSED, Why.NEARLY_REFUSED_TOPIC),
    Nearly.OUT_OF_SCOPE: (Message.Outcome.REFUSED, Why.OUT_OF_SCOPE),
}


@dataclass(frozen=True)
class Decision:
    outcome: Message.Outcome
    why: Why
    takes_back: bool = False  # what streamed is wiped: the customer saw an answer now doubted

    @property
    def second_look(self) -> bool:
        """Refused or handed over only because the help center had no answer."""
        return self.why in {why for _, why in SECOND_LOOK.values()}


def decide(
    *,
    person_takes_it: bool,
    refused: bool,
    unanswerable: bool,
    sources: int,
    generation: Generation,
    cited: int,
    confidence: float | None,
    threshold: float,
    nearly: Nearly = Nearly.NOTHING,
    refusal_yields: bool = False,
) -> Decision:
    """The outcome of a question. `unanswerable`: passages on the subject were found,
    and judged not to answer it (`assistant.answering.answerability`); `sources`: passages given
    to the backend; `cited`:
    sources its answer cites; `confidence`: how likely that answer is right (None when
    nothing was searched); `threshold`: the policy's confidence threshold; `nearly`: what
    the message nearly is, which decides instead of "I don't know"; `refusal_yields`: the
    refusal stands unless the help center answers the question (`InputVerdict`)."""
    decision = _first_look(
        person_takes_it=person_takes_it,
        refused=refused and not refusal_yields,
        unanswerable=unanswerable,
        sources=sources,
        generation=generation,
        cited=cited,
        confidence=confidence,
        threshold=threshold,
    )
    if refused and refusal_yields:
        if decision.why is Why.ANSWERED:
            return Decision(decision.outcome, Why.YIELDED)
        if decision.why is not Why.PERSON:
            return Decision(Message.Outcome.REFUSED, Why.REFUSED_QUESTION, decision.takes_back)
    if decision.why not in NO_ANSWER or nearly is Nearly.NOTHING:
        return decision
    outcome, why = SECOND_LOOK[nearly]
    return Decision(outcome, why)


def _first_look(
    *,
    person_takes_it: bool,
    refused: bool,
    unanswerable: bool,
    sources: int,
    generation: Generation,
    cited: int,
    confidence: float | None,
    threshold: float,
) -> Decision:
    Outcome = Message.Outcome
    if person_takes_it:
        return Decision(Outcome.HANDED_OFF, Why.PERSON)
    if refused:
        return Decision(Outcome.REFUSED, Why.REFUSED_QUESTION)
    if generation.replaced:
        return Decision(Outcome.REFUSED, Why.REFUSED_ANSWER)
    if not generation.text and not generation.dont_know:
        return Decision(Outcome.FAILED, Why.FAILED)
    if cited and confidence is not None and confidence < threshold:
        return Decision(Outcome.DONT_KNOW, Why.UNSURE, takes_back=True)
    if unanswerable:
        return Decision(Outcome.DONT_KNOW, Why.UNANSWERABLE)
    if not sources:
        return Decision(Outcome.DONT_KNOW, Why.NO_SOURCES)
    if generation.dont_know:
        return Decision(Outcome.DONT_KNOW, Why.BACKEND_DID_NOT_KNOW)
    if not cited:
        return Decision(Outcome.DONT_KNOW, Why.UNCITED)
    return Decision(Outcome.ANSWERED, Why.ANSWERED)
