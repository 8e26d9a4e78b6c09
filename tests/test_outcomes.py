"""`decide()`: what becomes of a question, from what the pipeline's stages found."""

import pytest

from assistant.answering.outcomes import NOT_GENERATED, Generation, Why, decide
from assistant.models import Message
from assistant.rails.input_rails import Nearly

Outcome = Message.Outcome
ANSWER = Generation.written(
    text="Orders ship in 2 days [1].", backend="extractive", first_token_at=1.0
)
THRESHOLD = 0.2


def decided(**changes):
    facts = {
        "person_takes_it": False,
        "refused": False,
        "unanswerable": False,
        "sources": 4,
        "generation": ANSWER,
        "cited": 1,
        "confidence": 0.8,
        "threshold": THRESHOLD,
    } | changes
    return decide(**facts)


def test_a_cited_confident_answer_is_answered():
    decision = decided()
    assert (decision.outcome, decision.why) == (Outcome.ANSWERED, Why.ANSWERED)
    assert not decision.takes_back


@pytest.mark.parametrize(
    ("changes", "outcome", "why"),
    [
        ({"person_takes_it": True, "generation": NOT_GENERATED}, Outcome.HANDED_OFF, Why.PERSON),
        ({"refused": True, "generation": NOT_GENERATED}, Outcome.REFUSED, Why.REFUSED_QUESTION),
        (
            {"generation": Generation(text="", backend="x", first_token_at=None, replaced=True)},
            Outcome.REFUSED,
            Why.REFUSED_ANSWER,
        ),
        (
            {
                "generation": Generation(text="", backend="", first_token_at=None, error="boom"),
                "cited": 0,
            },
            Outcome.FAILED,
            Why.FAILED,
        ),
        (
            {"sources": 0, "generation": NOT_GENERATED, "cited": 0},
            Outcome.DONT_KNOW,
            Why.NO_SOURCES,
        ),
        (
            {"unanswerable": True, "sources": 0, "generation": NOT_GENERATED, "cited": 0},
            Outcome.DONT_KNOW,
            Why.UNANSWERABLE,
        ),
        (
            {
                "generation": Generation.written(
                    text="I don't know.", backend="x", first_token_at=None
                )
            },
            Outcome.DONT_KNOW,
            Why.BACKEND_DID_NOT_KNOW,
        ),
        ({"cited": 0}, Outcome.DONT_KNOW, Why.UNCITED),
    ],
)
def test_each_rule(changes, outcome, why):
    decision = decided(**changes)
    assert (decision.outcome, decision.why) == (outcome, why)
    assert not decision.takes_back


def test_a_cited_answer_below_the_threshold_is_taken_back_as_dont_know():
    decision = decided(confidence=THRESHOLD - 0.01)
    assert (decision.outcome, decision.why) == (Outcome.DONT_KNOW, Why.UNSURE)
    assert decision.takes_back
    assert decided(confidence=THRESHOLD).outcome == Outcome.ANSWERED


def test_a_person_or_a_refusal_comes_before_anything_written():
    assert decided(person_takes_it=True, refused=True).outcome == Outcome.HANDED_OFF
    assert decided(refused=True).outcome == Outcome.REFUSED


@pytest.mark.parametrize(
    "text", ["I don't know.", "I don\N{RIGHT SINGLE QUOTATION MARK}t know that.", "I do not know"]
)
def test_the_prompts_dont_know_reply_is_read_as_dont_know(text):
    assert Generation.written(text=text, backend="x", first_token_at=None).dont_know


def test_an_answer_that_only_mentions_not_knowing_is_an_answer():
    generation = Generation.written(
        text="Returns: if you don't know the order number, ask us [1].",
        backend="x",
        first_token_at=None,
    )
    assert not generation.dont_know


# The help center has no answer: nothing on the subject, judged not to answer, or the
# backend found none.
NO_ANSWERS = [
    {"sources": 0, "generation": NOT_GENERATED, "cited": 0},
    {"unanswerable": True, "sources": 0, "generation": NOT_GENERATED, "cited": 0},
    {"generation": Generation.written(text="I don't know.", backend="x", first_token_at=None)},
]
# An answer written from what the help center holds, but uncited or unsure.
WRITTEN_DONT_KNOWS = [{"cited": 0}, {"confidence": THRESHOLD - 0.01}]
DONT_KNOWS = NO_ANSWERS + WRITTEN_DONT_KNOWS


@pytest.mark.parametrize("dont_know", NO_ANSWERS)
@pytest.mark.parametrize(
    ("nearly", "outcome", "why"),
    [
        (Nearly.ATTACK, Outcome.REFUSED, Why.NEARLY_ATTACK),
        (Nearly.PERSON, Outcome.HANDED_OFF, Why.NEARLY_PERSON),
        (Nearly.REFUSED_TOPIC, Outcome.REFUSED, Why.NEARLY_REFUSED_TOPIC),
    ],
)
def test_what_a_message_nearly_is_decides_instead_of_dont_know(dont_know, nearly, outcome, why):
    decision = decided(nearly=nearly, **dont_know)
    assert (decision.outcome, decision.why) == (outcome, why)
    assert decision.second_look


@pytest.mark.parametrize("dont_know", WRITTEN_DONT_KNOWS)
@pytest.mark.parametrize("nearly", [Nearly.ATTACK, Nearly.PERSON, Nearly.REFUSED_TOPIC])
def test_an_answer_written_but_uncited_or_unsure_stays_dont_know(dont_know, nearly):
    """The help center holds something on it: the strict bars, which protect it, decide."""
    decision = decided(nearly=nearly, **dont_know)
    assert decision.outcome == Outcome.DONT_KNOW
    assert not decision.second_look


@pytest.mark.parametrize("nearly", [Nearly.ATTACK, Nearly.PERSON, Nearly.REFUSED_TOPIC])
def test_what_a_message_nearly_is_never_stops_an_answer_or_a_stricter_rule(nearly):
    assert decided(nearly=nearly).why is Why.ANSWERED
    assert decided(nearly=nearly, refused=True).why is Why.REFUSED_QUESTION
    assert decided(nearly=nearly, person_takes_it=True).why is Why.PERSON
    failed = Generation(text="", backend="", first_token_at=None, error="boom")
    assert decided(nearly=nearly, generation=failed, cited=0).why is Why.FAILED


@pytest.mark.parametrize("dont_know", DONT_KNOWS)
def test_nothing_near_stays_dont_know(dont_know):
    decision = decided(**dont_know)
    assert decision.outcome == Outcome.DONT_KNOW
    assert not decision.second_look
