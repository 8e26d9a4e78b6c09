"""Does a retrieved passage answer the question, or is it only about the same topic?

A help center's passages on a neighbouring subject come back for any question: "Do you
sell skateboards?" finds the page on bikes. What tells them apart is the closest of the
passage's sentences to the question, how far the best passage stands above the next
(one clearly matching passage beats several vague ones), and whether the passage holds
the question's rare words. Rarity is the word's frequency in the language at large
(`wordfreq`), so "skateboards" weighs much and "how" nothing; words are matched by their
stems (Snowball, as PostgreSQL's full-text search stems them).

A near miss sits next to a page that exists ("Do you sell gluten-free sourdough?" beside
the allergens page) and names a thing no page of the help center mentions: so the
judgement also reads, from the knowledge base's own word counts (`Lexeme`, kept by
indexing), which of the question's words no passage holds at all, and how rare the
rarest of them is ("sourdough" says more than "shut", which a paraphrase uses).

These features go through a logistic function fitted by `python -m bench answerability`
on doc2dial's help pages (see that module for how); the judgement of a question is that
of its best source, and below a share of the policy's confidence threshold the assistant
says it does not know before anything is generated.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from wordfreq import zipf_frequency

from assistant.escalation import customer_language
from knowledge.embeddings import query_embed
from knowledge.languages import word_stem
from knowledge.search import Hit
from knowledge.selectors import lexeme_chunks

# LogisticRegression (balanced classes) on doc2dial's passages, with near-miss questions
# made from its own (see bench/answerability.py), four folds of pages held out in turn:
# per question, ROC AUC 0.956 against questions of another service, 0.890 against near
# misses (0.972 and 0.818 without the knowledge base's words; docs/benchmarks.md).
# Whether the passage holds the question's word the fewest passages hold added nothing,
# as the passage's own cosine, whether the full-text search found it and the rarest
# question word it lacks did in the fit before. `python -m bench answerability` refits
# and prints these.
INTERCEPT = -4.98
WEIGHTS = {
    "sentence": 7.49,
    "coverage": 0.76,
    "margin": 6.26,
    "absent": -1.48,
    "unknown": -1.93,
}
# The policy's confidence threshold is how likely an answer must be right; a question is
# judged unanswerable below this share of it: the largest share at which the demo help
# center's own questions are all still answered (its lowest, "a voucher" for a gift card,
# a word no page uses, scores 0.082), so the judgement only stops what it is surest of.
THRESHOLD_SHARE = 0.4
# Zipf frequency (log10 of occurrences per billion words) of the most common words: a word
# this frequent says nothing of the subject; one unknown to the list weighs this much.
COMMON_ZIPF = 7.0
_WORD = re.compile(r"[^\W_]+")
# The languages whose words are stemmed (Snowball) and weighed (wordfreq) as their own;
# a question in another is read as English.
_LANGUAGES = frozenset(
    {"da", "de", "en", "es", "fi", "fr", "hu", "it", "nl", "pt", "ro", "ru", "sv", "tr"}
)


@dataclass(frozen=True)
class Judgement:
    score: float  # how likely the best source answers the question, 0 to 1
    chunk_id: int | None  # that source
    features: dict[str, float]  # its features, as the logistic read them

    def as_trace(self) -> dict:
        return {
            "score": round(self.score, 4),
            "chunk_id": self.chunk_id,
            "features": {name: round(value, 4) for name, value in self.features.items()},
        }


NOTHING_TO_JUDGE = Judgement(score=0.0, chunk_id=None, features={})


def answerable_below(*, confidence_threshold: float) -> float:
    """The judgement a question needs to be answered, under the policy's threshold."""
    return confidence_threshold * THRESHOLD_SHARE


def answerability_judge(*, question: str, sources: Sequence[Hit]) -> Judgement:
    """The judgement of the best of `sources` (the search's hits, best first). Embeds the
    question (cached: the search embedded it) and reads the database once: which of the
    question's words the sources' knowledge bases hold."""
    if not sources:
        return NOTHING_TO_JUDGE
    language = customer_language(questions=[question])
    language = language if language in _LANGUAGES else "en"
    features = sources_features(
        question=question,
        question_vector=query_embed(query=question),
        language=language,
        sources=sources,
        lexemes=lexeme_chunks(
            text=question, language=language, document_ids=[hit.document_id for hit in sources]
        ),
    )
    return max(
        (
            Judgement(_probability(each), hit.chunk_id, each)
            for hit, each in zip(sources, features, strict=True)
        ),
        key=lambda judgement: judgement.score,
    )


def sources_features(
    *,
    question: str,
    question_vector: np.ndarray,
    language: str,
    sources: Sequence[Hit],
    lexemes: dict[str, int] | None,
) -> list[dict[str, float]]:
    """Each source's features, in order: sentence, its closest sentence's cosine;
    coverage, the rarity-weighted share of the question's words it holds (title and
    heading included); margin, the best passage's cosine over the next one's; absent, the
    rarity-weighted share of the question's words no passage of the knowledge base holds
    (`lexemes`: each word's chunks there, None if unknown), and unknown, the rarity of the
    rarest of them ("halal" weighs more than "shut"). Margin, absent and unknown are the
    same for all."""
    rarity = word_rarity(text=question, language=language)
    total = sum(rarity.values())
    similarities = sorted((float(hit.similarity or 0.0) for hit in sources), reverse=True)
    margin = similarities[0] - (similarities[1] if len(similarities) > 1 else 0.0)
    absent, unknown = _knowledge_base_rarity(rarity=rarity, lexemes=lexemes or {})
    features = []
    for hit in sources:
        vectors = hit.sentences.vectors
        held = _stems(text=f"{hit.document_title}\n{hit.heading}\n{hit.text}", language=language)
        covered = sum(weight for stem, weight in rarity.items() if stem in held)
        features.append(
            {
                "sentence": float(np.max(vectors @ question_vector)) if len(vectors) else 0.0,
                "coverage": covered / total if total else 0.0,
                "margin": margin,
                "absent": absent,
                "unknown": unknown,
            }
        )
    return features


def _knowledge_base_rarity(
    *, rarity: dict[str, float], lexemes: dict[str, int]
) -> tuple[float, float]:
    """Of the question's indexed words (stop words left out): the rarity-weighted share no
    chunk holds, and the rarity of the rarest of those (a share of the most a word weighs)."""
    weighed = {lexeme: rarity.get(lexeme, 0.0) for lexeme in lexemes}
    total = sum(weighed.values())
    missing = [weight for lexeme, weight in weighed.items() if not lexemes[lexeme]]
    share = sum(missing) / total if total else 0.0
    return share, max(missing, default=0.0) / COMMON_ZIPF


def word_rarity(*, text: str, language: str) -> dict[str, float]:
    """Each stem of the text's words, weighed by how rare its rarest word is."""
    rarity: dict[str, float] = {}
    for word in _WORD.findall(text.lower()):
        weight = max(0.0, COMMON_ZIPF - zipf_frequency(word, language))
        stem = word_stem(word=word, language=language)
        rarity[stem] = max(rarity.get(stem, 0.0), weight)
    return rarity


def _stems(*, text: str, language: str) -> set[str]:
    return {word_stem(word=word, language=language) for word in set(_WORD.findall(text.lower()))}


def _probability(features: dict[str, float]) -> float:
    score = INTERCEPT + sum(weight * features[name] for name, weight in WEIGHTS.items())
    return 1 / (1 + math.exp(-score))
