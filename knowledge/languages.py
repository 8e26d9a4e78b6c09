"""The language a text is written in, and the PostgreSQL text-search configuration that
stems it: a Spanish help page is searched with Spanish stems ("envíos" and "envío" meet
at "envi"), an English one with English stems.

py3langid tells the language (ISO 639-1 code). A language PostgreSQL has no stemmer for
is searched with `simple`, its words lower-cased and kept whole. PostgreSQL's stemmers are
Snowball's, so Python code that compares words (the answerer, the answerability
judgement) stems them the same way with `snowballstemmer`.
"""

from functools import lru_cache

import py3langid
import snowballstemmer

# ISO 639-1 code → the configuration PostgreSQL ships for it (`\dF` lists them).
TEXT_SEARCH_CONFIGS = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}
FALLBACK_CONFIG = "simple"
# Enough of a page to tell its language: reading more only takes longer.
SAMPLE_CHARS = 4000


def text_language(*, text: str) -> str:
    """ISO 639-1 code of the language `text` is written in (told by its beginning)."""
    language, _ = py3langid.classify(text[:SAMPLE_CHARS])
    return language


@lru_cache(maxsize=100_000)
def word_stem(*, word: str, language: str) -> str:
    """`word` (lower case) stemmed as full-text search stems `language`'s words; whole in
    a language without a stemmer. Cached: a help center's words recur, and Snowball in
    Python is slow (a stemmer of its own each time: one is not safe to share between
    threads)."""
    name = TEXT_SEARCH_CONFIGS.get(language)
    return snowballstemmer.stemmer(name).stemWord(word) if name else word
