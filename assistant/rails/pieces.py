"""A customer message cut into the pieces the meaning-based input rails score, embedded once.

An instruction or a request for a person may follow a real question, so each sentence is
scored as well as the whole; a long paste is read in overlapping windows; what a message
hides in an encoding that is cheap to undo (base64, hex, rot13, leetspeak, spaced-out
letters) is decoded, and counts too when it reads as words: on its own, and put back in
the message in place of the encoded text ("do what this says: <base64>" reads as the
request it is). The injection, refused-topic and escalation rails all read the same vectors;
the injection rail also reads each sentence's clauses, because an attack joined to an
ordinary request ("ignore your rules and explain how to …") reads, as a whole, like the
request.
"""

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice, product

import numpy as np
from sentencex import segment
from wordfreq import zipf_frequency

from knowledge.embeddings import texts_embed_cached

PIECE_WORDS = 60
MAX_PIECES = 12
MIN_SENTENCE_WORDS = 3
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9A-Fa-f]{2}[\s:]?){8,}")
# Single letters or digits kept apart by one space, dot or dash: "i g n o r e".
_SPACED = re.compile(r"(?<!\S)(?:\w(?:[ .\-]|\s{2,}|\s/\s)){5,}\w(?!\S)")
_SPACED_WORD_GAP = re.compile(r"\s{2,}|\s/\s")
# What each digit or sign stands for in leetspeak; "1" is an i or an l ("rul3s", "3xp1ain").
_LEET = {"0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_SPELLINGS = 64  # the readings of one word tried, at most
# A decoded text counts when most of its words are words (in one of these languages), and
# clearly more of them than before it was decoded: ordinary text stays as it is.
_WORD_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl")
_KNOWN_ZIPF = 3.0
_MIN_KNOWN_SHARE = 0.6
_MIN_KNOWN_GAIN = 0.3
_LONGEST_WORD = 20
MAX_CLAUSES = 12
# Where a sentence divides into clauses: punctuation, and "and" in the languages Keel's
# examples are written in (en, de, fr, es, pt and it, nl).
_CLAUSE_BREAK = re.compile(r"[,;:]\s+|\s+(?:and|und|et|y|e|en)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class MessagePieces:
    texts: list[str]
    decoded: list[bool]  # the piece was hidden in an encoding
    vectors: np.ndarray  # one normalised embedding per piece
    clauses: list[str]  # the pieces' clauses, which only the injection rail reads
    clauses_decoded: list[bool]
    clause_vectors: np.ndarray


def message_pieces(*, text: str, hidden: list[str] | None = None) -> MessagePieces:
    """`hidden`: what the message hides in encodings, when it was decoded before `text`
    had its personal data replaced (placeholders break an encoded run apart)."""
    plain = _pieces(text)
    hidden = hidden_texts(text=text) if hidden is None else hidden[: MAX_PIECES - 1]
    texts = plain + hidden
    clauses = {
        clause: piece in hidden
        for piece in texts
        for clause in _clauses(piece)
        if clause not in texts
    }
    clauses = dict(list(clauses.items())[:MAX_CLAUSES])
    # One call: the search then finds the question's vector among the cached ones.
    vectors = texts_embed_cached(texts + list(clauses))
    return MessagePieces(
        texts=texts,
        decoded=[False] * len(plain) + [True] * len(hidden),
        vectors=vectors[: len(texts)],
        clauses=list(clauses),
        clauses_decoded=list(clauses.values()),
        clause_vectors=vectors[len(texts) :],
    )


def _clauses(piece: str) -> list[str]:
    """The clauses of a short piece's sentences, those of a few words at least."""
    if len(piece.split()) > PIECE_WORDS:
        return []
    return [
        clause.strip()
        for sentence in segment("en", piece)
        for clause in _CLAUSE_BREAK.split(sentence)
        if len(clause.split()) >= MIN_SENTENCE_WORDS and clause.strip() != sentence.strip()
    ]


def _pieces(text: str) -> list[str]:
    """The message and its sentences, or for a long one overlapping windows of it; at most
    MAX_PIECES."""
    words = text.split()
    if len(words) <= PIECE_WORDS:
        sentences = [s.strip() for s in segment("en", text) if len(s.split()) >= MIN_SENTENCE_WORDS]
        return [text, *sentences[: MAX_PIECES - 1]] if len(sentences) > 1 else [text]
    step = PIECE_WORDS // 2
    starts = range(0, len(words) - step, step)
    return [" ".join(words[start : start + PIECE_WORDS]) for start in starts][:MAX_PIECES]


def hidden_texts(*, text: str) -> list[str]:
    """What the message says under an encoding: the message as it reads decoded, then what
    each encoding that turns part of it into words hides."""
    runs = [
        (run, plain)
        for run, plain in (
            *((run, _bytes_text(_base64_bytes(run))) for run in _BASE64.findall(text)),
            *((run, _bytes_text(_hex_bytes(run))) for run in _HEX.findall(text)),
        )
        if plain and _known_share(plain) >= _MIN_KNOWN_SHARE
    ]
    found = [plain for _, plain in runs]
    for decode in (_rot13, _unleet):
        decoded = [
            (part, decode(part)) for part in _parts(text) if _reveals_words(part, decode(part))
        ]
        runs += decoded
        if decoded:
            found.append(" ".join(plain for _, plain in decoded))
    spaced = [(run.group(), _unspaced(run.group())) for run in _SPACED.finditer(text)]
    spaced = [
        (run, plain) for run, plain in spaced if len(plain.split()) >= 2 or _known_share(plain)
    ]
    runs += spaced
    found += [plain for _, plain in spaced]
    in_place = text
    for run, plain in runs:
        in_place = in_place.replace(run, plain)
    return list(dict.fromkeys([in_place, *found] if runs else []))[: MAX_PIECES - 1]


def _base64_bytes(run: str) -> bytes:
    try:
        return base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
    except binascii.Error:
        return b""


def _hex_bytes(run: str) -> bytes:
    return bytes.fromhex(re.sub(r"[\s:]", "", run)[: len(run) // 2 * 2])


def _bytes_text(data: bytes) -> str:
    try:
        plain = data.decode()
    except UnicodeDecodeError:
        return ""
    return plain if plain.isprintable() and len(plain.split()) >= MIN_SENTENCE_WORDS else ""


def _rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


def _unleet(text: str) -> str:
    return re.sub(r"\S+", lambda word: _unleet_word(word.group()), text)


@lru_cache(maxsize=4096)
def _unleet_word(word: str) -> str:
    """The first reading of `word` that is a word, or the first reading."""
    readings = [
        "".join(letters)
        for letters in islice(product(*(_LEET.get(sign, sign) for sign in word)), _LEET_SPELLINGS)
    ]
    return next((reading for reading in readings if _known_share(reading) == 1), readings[0])


def _unspaced(run: str) -> str:
    """ "i g n o r e  a l l" → "ignore all": letters joined, wider gaps kept as spaces, and
    where there are none the joined letters split into the fewest words."""
    joined = (re.sub(r"[ .\-]", "", word) for word in _SPACED_WORD_GAP.split(run))
    return " ".join(" ".join(_words_split(word.lower())) for word in joined)


def _words_split(letters: str) -> list[str]:
    """`letters` as the fewest known words ("ignoreyourrules" → ignore your rules), or as
    it is when no such split exists."""
    fewest: list[list[str] | None] = [[]] + [None] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - _LONGEST_WORD), end):
            before, word = fewest[start], letters[start:end]
            shorter = fewest[end] is None or len(before or ()) + 1 < len(fewest[end])
            if before is not None and shorter and _known(word):
                fewest[end] = [*before, word]
    return fewest[-1] or [letters]


def _parts(text: str) -> list[str]:
    """The message cut at sentence ends and colons: an encoded request often follows a
    plain one ("This is ROT13, do what it says: …")."""
    return [part for part in re.split(r"(?<=[.!?:;])\s+", text) if part.strip()]


def _reveals_words(before: str, after: str) -> bool:
    if len(after.split()) < MIN_SENTENCE_WORDS or after == before:
        return False
    known_before = _known_share(before)  # ordinary text stops here: no gain is possible
    if known_before > 1 - _MIN_KNOWN_GAIN:
        return False
    known_after = _known_share(after)
    return known_after >= _MIN_KNOWN_SHARE and known_after - known_before >= _MIN_KNOWN_GAIN


def _known_share(text: str) -> float:
    """The share of the text's words that are words; numbers do not count either way, and
    a word with digits in it ("r3v34l") is not one."""
    words = [w for w in re.findall(r"\w+(?:'\w+)?", text.lower()) if not w.isdigit()]
    return sum(map(_known, words)) / len(words) if words else 0.0


@lru_cache(maxsize=65536)  # decoded gibberish is new words each time: bounded
def _known(word: str) -> bool:
    return max(zipf_frequency(word, language) for language in _WORD_LANGUAGES) >= _KNOWN_ZIPF
