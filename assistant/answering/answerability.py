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

What no feature weighs well is whether a passage states the very thing asked about: the
passages on renting bikes are close in every other word to "Do you rent out cargo
bikes?". So before the logistic, a question that asks, in the sentence that asks, about
a specific thing no passage of the help center names ("cargo", "vegan", a town),
or about a numbered thing it only names with other numbers ("the Model 10" where the
pages sell the Model 9), is not answered whatever its score. Nor is one asking for a kind
of a thing the passages state that no page names ("a student discount" beside a price
list), for a change in a year after every year they name ("Will prices go up next
year?"), or about a rare thing they state only about something else ("texts by
satellite" where ships use satellites): the passages are near, and answer another
question.

These features go through a logistic function fitted by `python -m bench answerability`
on doc2dial's help pages (see that module for how); the judgement of a question is that
of its best source, and below a share of the policy's confidence threshold the assistant
says it does not know before anything is generated.
"""

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import get_close_matches

import numpy as np
from django.utils import timezone
from wordfreq import zipf_frequency

from assistant.answering.question_focus import FRAMING, asking_clauses, asks_apart, content_words
from assistant.common.languages import customer_language
from knowledge.embeddings import query_embed
from knowledge.languages import word_stem
from knowledge.search import Hit
from knowledge.selectors import lexeme_chunks, phrase_chunks

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
# A thing named with its number, "the Model 10", "a Series 3": a name written with a
# capital inside the sentence, then the number (not a count of things: "Plan 2 lines").
_NUMBERED_NAME = re.compile(r"(?<=[^\W_] )([A-Z][^\W\d_]*)[ -](\d{1,4})\b(?![.,]\d| [a-z]+s\b)")
# "March 3" is a date, not a thing of that name.
_MONTH = re.compile(
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?"
    r"|oct(ober)?|nov(ember)?|dec(ember)?"
)
# A word names a specific thing below this Zipf frequency (about 30 in a million words):
# "cargo", "vegan" and "halal" are below; the everyday words a paraphrase
# uses instead of the page's ("shut", "spend", "electric") are above.
SPECIFIC_ZIPF = 4.5
# A word this close in spelling to a passage's word is that word misspelt ("discont").
MISSPELT_RATIO = 0.85
# Shorter words are abbreviations or typos ("tx", "dp") as often as things.
MIN_THING_LETTERS = 4
# After these a word is what the customer does ("I forgot", "to lend"), not a thing.
_DOING = frozenset(
    "i we you they i'm we're you're to can could will would should must may might".split()  # noqa: SIM905
)
# Where a noun phrase starts: what follows names a thing, and a word between it and the
# thing is the kind asked for ("any senior pricing", "a student discount").
_PHRASE_START = frozenset(
    "a an any the some your our no other have has offer offers sell sells do".split()  # noqa: SIM905
)
# A word in the question, with its possessive ("kids'", "children's") read as the word.
_PHRASE_WORD = re.compile(r"[^\W_]+(?:'s)?")
# A word of degree ("cheap", "faster", "the best") asks which of the things the pages
# state, not for a kind of thing they do not: its comparative or superlative is a word at
# least this common (Zipf), where "seniorer" or "studenter" is none.
DEGREE_ZIPF = 2.5
_IRREGULAR_DEGREE = frozenset("good better best bad worse worst far further furthest".split())  # noqa: SIM905
# Words that stress or point ("a real person", "the usual fee", "my own bike") rather than
# name a kind of the thing; and ordinals, which count ("a third line").
_POINTING = frozenset(
    """
    real actual proper genuine true live human specific particular certain usual normal
    regular typical general same other another whole entire exact different right correct
    current existing present previous original overall own various additional
    first second third fourth fifth sixth seventh eighth ninth tenth
    """.split()  # noqa: SIM905
)
# A kind the passages say in other words brings the phrase closer to their best sentence
# ("electric bike" beside "e-bikes", -0.01; "children's bike" beside "kids' bikes",
# +0.28); one they never state takes it further ("student discount" beside a club's
# discount, -0.08): on MiniLM, the cosine a kind may cost.
KIND_MARGIN = 0.04
# A question about what will be ("will…", "going to…", "next year") and the years it names.
_FUTURE = re.compile(r"\b(?:will|won't|going|gonna|next|upcoming|planned|expected)\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NEXT_YEAR = re.compile(r"\bnext year\b")
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
    # What the question asks about that no passage states (`_unstated`): with any, no
    # source answers (score 0).
    unstated: tuple[str, ...] = ()
    ask: str = ""  # what was judged: the question, or one of its asks
    # A question asking several things: each ask's own judgement (this is the best's).
    asks: tuple["Judgement", ...] = ()

    def as_trace(self) -> dict:
        return {
            "score": round(self.score, 4),
            "chunk_id": self.chunk_id,
            "features": {name: round(value, 4) for name, value in self.features.items()},
            "unstated": list(self.unstated),
            "asks": [
                {"ask": ask.ask, "score": round(ask.score, 4), "unstated": list(ask.unstated)}
                for ask in self.asks
            ],
        }


NOTHING_TO_JUDGE = Judgement(score=0.0, chunk_id=None, features={})


def answerable_below(*, confidence_threshold: float) -> float:
    """The judgement a question needs to be answered, under the policy's threshold."""
    return confidence_threshold * THRESHOLD_SHARE


def answerability_judge(*, question: str, sources: Sequence[Hit]) -> Judgement:
    """The judgement of the best of `sources` (the search's hits, best first). Embeds the
    question (cached: the search embedded it) and reads the database once: which of the
    question's words the sources' knowledge bases hold. A question that asks several
    things in one sentence, each naming what it asks ("How much is the late fee, and do
    you sell solar panels?"), is judged ask by ask (`asks_apart`): the best ask's
    judgement, all of them in `asks`."""
    if not sources:
        return NOTHING_TO_JUDGE
    language = customer_language(questions=[question])
    language = language if language in _LANGUAGES else "en"
    document_ids = [hit.document_id for hit in sources]
    lexemes = lexeme_chunks(text=question, language=language, document_ids=document_ids)
    judged = [
        _ask_judged(ask=ask, language=language, sources=sources, lexemes=lexemes)
        for ask in asks_apart(question=question)
    ]
    best = max(judged, key=lambda judgement: judgement.score)
    return replace(best, asks=tuple(judged)) if len(judged) > 1 else best


def answerable_part(*, question: str, judgement: Judgement, needed: float) -> str:
    """The question without the asks no passage answers ("…, and do you sell solar
    panels?"): what the answer answers; the whole question when none is left out."""
    kept = [ask.ask for ask in judgement.asks if ask.score >= needed]
    return ", and ".join(kept) if kept and len(kept) < len(judgement.asks) else question


def _ask_judged(
    *, ask: str, language: str, sources: Sequence[Hit], lexemes: dict[str, int] | None
) -> Judgement:
    """The judgement of the best source for one ask (or the whole question): none
    answers when the ask names a thing no passage states (`_unstated`)."""
    features = sources_features(
        question=ask,
        question_vector=query_embed(query=ask),
        language=language,
        sources=sources,
        lexemes=lexemes,
    )
    best = max(
        (
            Judgement(_probability(each), hit.chunk_id, each, ask=ask)
            for hit, each in zip(sources, features, strict=True)
        ),
        key=lambda judgement: judgement.score,
    )
    unstated = _unstated(question=ask, language=language, lexemes=lexemes or {}, sources=sources)
    return replace(best, score=0.0, unstated=unstated) if unstated else best


def _unstated(
    *, question: str, language: str, lexemes: dict[str, int], sources: Sequence[Hit]
) -> tuple[str, ...]:
    """What the question asks about that no passage of the knowledge base states, however
    close the passages' words: a thing it names in the sentence that asks ("Do you rent out
    cargo bikes?"), a word the language uses little and no passage holds, nor
    holds misspelt; a numbered thing ("the Model 10") whose name the passages hold, but
    never with that number. A word of a sentence or a lead-in that only sets the scene ("I
    got a voucher for my birthday.") may be said otherwise by the help center, and is
    left to the judgement."""
    if language != "en":
        return ()
    passages = {
        word
        for hit in sources
        for word in _WORD.findall(f"{hit.document_title} {hit.heading} {hit.text}".lower())
    }
    asked = " ".join(asking_clauses(question=question))
    apart = _written_apart(asked=asked, passages=passages, language=language)
    specific = [
        word
        for word in dict.fromkeys(
            word
            for before, word in content_words(asked)
            if before not in _DOING and word not in FRAMING
        )
        if word not in apart
        and word.isalpha()
        and len(word) >= MIN_THING_LETTERS
        and zipf_frequency(word, language) < SPECIFIC_ZIPF
    ]
    things = [
        word
        for word in specific
        if lexemes.get(word_stem(word=word, language=language)) == 0
        and not get_close_matches(word, passages, n=1, cutoff=MISSPELT_RATIO)
    ]
    named = {
        f"{name} {number}".lower(): word_stem(word=name.lower(), language=language)
        for name, number in _NUMBERED_NAME.findall(asked)
        if not _MONTH.fullmatch(name.lower())
    }
    named = {phrase: stem for phrase, stem in named.items() if lexemes.get(stem)}
    if named:
        held = phrase_chunks(
            phrases=list(named),
            language=language,
            document_ids=[hit.document_id for hit in sources],
        )
        things += [phrase for phrase in named if not held.get(phrase)]
    things += _unstated_kinds(
        asked=asked, passages=passages, language=language, lexemes=lexemes, sources=sources
    )
    things += _unstated_years(asked=asked, passages=passages)
    things += _stated_apart(asked=asked, specific=specific, language=language, sources=sources)
    return tuple(things)


def _stated_apart(
    *, asked: str, specific: list[str], language: str, sources: Sequence[Hit]
) -> list[str]:
    """The rarest of the specific things a question asks about together ("send texts by
    satellite") when the passages state it only about something else: no sentence that
    holds it (under its title and heading) holds another of the question's words. The
    passages on texting answer another question, and so does the one where ships use
    satellites."""
    sentences = [
        _stems(text=f"{hit.document_title}\n{hit.heading}\n{sentence}", language=language)
        for hit in sources
        for sentence in hit.sentences.texts
    ]
    held = set().union(*sentences)
    stems = {word_stem(word=word, language=language): word for word in specific}
    stems = {stem: word for stem, word in stems.items() if stem in held}
    if len(stems) < 2:
        return []
    rarest = min(stems, key=lambda stem: zipf_frequency(stems[stem], language))
    others = {word_stem(word=word, language=language) for _, word in content_words(asked)}
    others.discard(rarest)
    stated = any(rarest in sentence and others & sentence for sentence in sentences)
    return [] if stated else [stems[rarest]]


def _unstated_kinds(
    *,
    asked: str,
    passages: set[str],
    language: str,
    lexemes: dict[str, int],
    sources: Sequence[Hit],
) -> list[str]:
    """A kind of a thing the passages state, named by a word no passage of the knowledge
    base holds, however common: "any senior pricing" where the pages give prices, none
    for seniors; "a student discount" beside the discounts they list. The passages'
    prices answer another question. Words of degree ("a cheaper plan") ask which of the
    things stated, words that stress ("a real person") name no kind: both are left to the
    judgement. So is a kind the passages say in other words ("an electric bike" beside
    "e-bikes"): naming it brings the question no further from their sentences."""
    held = {word_stem(word=word, language=language) for word in passages}
    words = [
        word.removesuffix("'s")
        for word in _PHRASE_WORD.findall(asked.lower().replace("\u2019", "'"))
    ]
    named = [
        (kind, thing)
        for start, kind, thing in zip(words, words[1:], words[2:], strict=False)
        if start in _PHRASE_START
        and content_words(kind)
        and content_words(thing)
        and kind.isalpha()
        and len(kind) >= MIN_THING_LETTERS
        and kind not in FRAMING | _POINTING
        and word_stem(word=thing, language=language) in held
        and lexemes.get(word_stem(word=kind, language=language)) == 0
        and not _of_degree(kind, language=language)
        and not get_close_matches(kind, passages, n=1, cutoff=MISSPELT_RATIO)
    ]
    sentences = np.vstack([hit.sentences.vectors for hit in sources]) if named else []
    if not len(sentences):
        return []
    return [
        f"{kind} {thing}"
        for kind, thing in named
        if np.max(sentences @ query_embed(query=f"{kind} {thing}"))
        < np.max(sentences @ query_embed(query=thing)) - KIND_MARGIN
    ]


def _of_degree(word: str, *, language: str) -> bool:
    """Whether the word says how much ("cheap", "cheaper", "easiest"), by whether English
    writes it, or its stem, with -er and -est."""
    if word in _IRREGULAR_DEGREE:
        return True
    bases = {word}
    for ending in ("er", "est"):
        if word.endswith(ending):
            stem = word.removesuffix(ending)
            bases |= {stem, stem + "e", stem[:-1], stem[:-1] + "y"}
    forms = {
        base + ending
        for base in bases
        for ending in ("er", "r", "est", "st")
        if len(base) > 1 and (ending[0] == "e" or base.endswith("e"))
    }
    forms |= {base[:-1] + "ier" for base in bases if base.endswith("y")}
    forms |= {base + base[-1] + "er" for base in bases if base}
    return any(zipf_frequency(form, language) >= DEGREE_ZIPF for form in forms - {word})


def _unstated_years(*, asked: str, passages: set[str]) -> list[str]:
    """A year a question about what will be asks of ("Are prices going up in 2027?",
    "Will fees rise next year?") after every year the passages name: a page that
    announces a change says when; the passages' prices of today answer another question."""
    if not _FUTURE.search(asked):
        return []
    years = {int(year) for year in _YEAR.findall(asked)}
    if _NEXT_YEAR.search(asked):
        years.add(timezone.localdate().year + 1)
    latest = max((int(year) for year in _YEAR.findall(" ".join(passages))), default=0)
    return [str(year) for year in sorted(years) if year > latest]


def _written_apart(*, asked: str, passages: set[str], language: str) -> set[str]:
    """The question's words that are halves of a word the passages write whole ("skate
    boards", "e mail"), singular or plural."""
    words = _WORD.findall(asked.lower())
    whole = {word_stem(word=word, language=language) for word in passages}
    return {
        half
        for first, second in itertools.pairwise(words)
        if word_stem(word=first + second, language=language) in whole
        for half in (first, second)
    }


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
