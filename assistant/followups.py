"""Follow-up questions: "and for Canada?" means nothing to a search engine on its own.

A question that leans on the one before it (it opens with "and", "what about", "also"...,
points back with "it" or "that", or is only a few words) is searched together with the
last stand-alone question. Deterministic, so the extractive answerer stays reproducible;
an LLM backend also sees the conversation itself.
"""

import re

FOLLOW_UP_OPENERS = re.compile(
    r"^\s*(and|but|or|also|so|then|what about|how about|same for|what if|and if|"
    r"what else|anything else|is that|does that|does it|is it|can it|will it)\b",
    re.IGNORECASE,
)
POINTING_BACK = re.compile(r"\b(it|its|that|this|those|these|them|they|there|one)\b", re.I)
SHORT_QUESTION_WORDS = 4
# "Is it OK to leave my battery plugged in overnight?" says "it" but stands alone.
POINTING_BACK_MAX_WORDS = 8


def follow_up(*, question: str) -> bool:
    words = len(re.findall(r"\w+", question))
    return (
        words <= SHORT_QUESTION_WORDS
        or bool(FOLLOW_UP_OPENERS.search(question))
        or (words <= POINTING_BACK_MAX_WORDS and bool(POINTING_BACK.search(question)))
    )


def search_query_for(*, question: str, previous_query: str | None) -> str:
    """The text to search for: the question, after the topic it follows up on, if any.

    `previous_query` is what the previous question searched for; only its stand-alone
    part is carried, so a chain of follow-ups does not pile up old topics.
    """
    if previous_query is None or not follow_up(question=question):
        return question.strip()
    topic = previous_query.split(" \n", 1)[0]
    return f"{topic} \n{question.strip()}"
