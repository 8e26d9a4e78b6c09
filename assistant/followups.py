"""Follow-up questions: "and to the EU?" means nothing to a search engine on its own.

Offline (deterministic, so the extractive answerer stays reproducible), a message leans on
the question before it when it carries on ("and", "also", "what about"...), points back
in a few words ("it", "that", "those"...), or is a fragment: a few words without the
auxiliary, modal or copula an English question is built on ("to the EU?", "gift cards?").
Anything else stands alone ("Do you sell gift cards?").

A follow-up's new words must weigh more than the topic's: "and to the EU?" after "How
long does delivery to Canada take?" asks about the EU, not Canada. So they take the
place of the topic's words they stand for, the way the customer means it: the phrase
after the same preposition ("to Canada" → "to the EU"), else a name for a name ("What
about Germany?"). That gives "How long does delivery to the EU take?", a whole question
for the extractive answerer to pick sentences for. Searched beside the whole topic (as
before), the old name stayed in both search legs and its page came first; weighting the
message's and the topic's embeddings would still leave it in the full-text leg.

With nothing to put in place, the message is searched alone if it finds a passage well
above the no-topic floor on its own (`STANDS_ALONE_SIMILARITY`: "Gift cards?" asks
something new), else after the topic, whole ("Do they expire?").

With an LLM configured, `search_query_written` has the model write the search query from
the conversation instead (and in the knowledge base's language); this rule stays the
fallback.
"""

import re
from collections.abc import Sequence

from knowledge.models import KnowledgeBase
from knowledge.search import SearchMode, chunk_search

CONTINUING = re.compile(
    r"^\s*(and|but|or|also|so|then|plus|what about|how about|same for|what if|"
    r"what else|anything else)\b[\s,]*",
    re.IGNORECASE,
)
POINTING_BACK = re.compile(
    r"\b(it|its|that|this|those|these|them|they|there|one|ones|same)\b", re.IGNORECASE
)
# The words an English question is built on; a message without any is a fragment.
QUESTION_VERBS = re.compile(
    r"\b(is|are|was|were|be|am|do|does|did|can|could|will|would|shall|should|may|might|"
    r"must|have|has|had)\b|\w'(s|re|ll|ve|d|m)\b|n't\b",
    re.IGNORECASE,
)
PREPOSITION_PHRASE = re.compile(
    r"(to|for|in|on|at|from|with|by|about|of|into|under|over|after|before|during|without)"
    r"\s+(.+)",
    re.IGNORECASE,
)
DETERMINER = r"(?i:(?:the|a|an|my|your|our|their|his|her|this|that|these|those)\s+)?"
# A name: capitalised words ("Canada", "the European Union") or an acronym ("EU").
CAPITALISED = r"[A-Z][\w&-]*(?:\s+[A-Z][\w&-]*)*"
NAME = re.compile(rf"(?:(?i:the)\s+)?({CAPITALISED})")
# The last few words of a sentence: "with a credit card?"; a phrase in mid-sentence is
# taken as one word ("delivery to canada take").
LAST_WORDS = r"\w+(?:\s+\w+){0,2}(?=\s*(?:[?!.,;]|$))"
# "How much is it?" leans on what came before; "Is it OK to leave my battery plugged in
# overnight?" names its own subject.
POINTING_BACK_MAX_WORDS = 8
FRAGMENT_MAX_WORDS = 5
# The message alone finds a passage this close: it asks something of its own. Measured
# on the demo help center and the tests' coffee roaster: fragments that name a subject
# find its page at 0.56-0.72 ("Gift cards?", "Return policy", "Helmets?", "Track my
# order"); those that lean on the topic stay below ("how much is it?" 0.26-0.35, "Canada?"
# 0.29-0.35, "Can I return it?" 0.10-0.50). The answer's own floor is 0.30.
STANDS_ALONE_SIMILARITY = 0.5


def search_query_for(
    *,
    question: str,
    previous_query: str | None,
    knowledge_bases: Sequence[KnowledgeBase],
) -> str:
    """The text to search for: the question, or for a follow-up its topic with the
    question's words in place (see the module's docstring).

    `previous_query` is what the previous question searched for; only its stand-alone
    part is carried, so a chain of follow-ups does not pile up old topics."""
    question = question.strip()
    if previous_query is None or not _leans_on_topic(question):
        return question
    topic = previous_query.split(" \n", 1)[0]
    in_place = _topic_with(topic=topic, follow_up=question)
    if in_place is not None:
        return in_place
    if _stands_alone(question=question, knowledge_bases=knowledge_bases):
        return question
    return f"{topic} \n{question}"


def _leans_on_topic(question: str) -> bool:
    """It carries on, points back in a few words, or is a fragment."""
    words = len(re.findall(r"\w+", question))
    return (
        bool(CONTINUING.search(question))
        or (words <= POINTING_BACK_MAX_WORDS and bool(POINTING_BACK.search(question)))
        or (words <= FRAGMENT_MAX_WORDS and not QUESTION_VERBS.search(question))
    )


def _stands_alone(*, question: str, knowledge_bases: Sequence[KnowledgeBase]) -> bool:
    """The question alone finds its passage: one vector search, on the vector the input
    rails already computed."""
    best = chunk_search(
        knowledge_bases=knowledge_bases, query=question, k=1, mode=SearchMode.VECTOR
    )
    return bool(best) and (best[0].similarity or 0.0) >= STANDS_ALONE_SIMILARITY


def _topic_with(*, topic: str, follow_up: str) -> str | None:
    """The topic with the follow-up's words in place of those they stand for: a phrase
    after the same preposition, else a name for a name; None when they stand for none."""
    new = CONTINUING.sub("", follow_up).strip().rstrip("?!.").strip()
    phrase = PREPOSITION_PHRASE.fullmatch(new)
    if phrase:
        preposition, replacement = phrase.groups()
        old = re.compile(rf"\b(?i:{preposition})\s+{DETERMINER}(?:{CAPITALISED}|{LAST_WORDS}|\w+)")
        if old.search(topic):
            return old.sub(lambda _: f"{preposition} {replacement}", topic, count=1)
    old_names, new_names = _names(topic), _names(follow_up)
    if old_names and new_names:
        old_name = old_names[-1]  # what a question asks about comes last
        return topic[: old_name.start()] + new_names[0].group() + topic[old_name.end() :]
    return None


def _names(text: str) -> list[re.Match]:
    """Capitalised runs of words ("the" before them included), but for the capital that
    opens a sentence (or "I"), unless it is an acronym ("EU")."""
    return [
        name
        for name in NAME.finditer(text)
        if name[1] != "I"
        and (name[1].isupper() or not re.search(r"(^|[.?!]\s+)$", text[: name.start(1)]))
    ]
