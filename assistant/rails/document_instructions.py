"""Sentences of a document that instruct the assistant instead of informing its readers.

A help page is read by customers, and through Keel by an assistant: a sentence addressed
to the assistant ("Note to AI assistants: ...", "Si vous êtes un modèle de langage ..."),
or one telling readers to send card details, passwords or codes somewhere, must never
reach an answer, whatever its wording or language. Each sentence is scored by meaning:
a logistic regression over the sentence embeddings indexing already computes, fitted at
start on written examples (`document_instruction_examples`) of both kinds and of ordinary
help sentences that mention the same things. Two explicit signals back it: a sentence
that opens by addressing an AI ("Note to AI assistants:", "If you are a language model")
or talks of its instructions ("ignore all previous instructions") needs less of the
classifier's certainty, and one that tells readers to send a secret (to an address or a
number, or in the imperative) is held whatever the classifier says, unless it says never to. A
sentence of a few words (a heading, a button's label) is held only on those signals, and
the classifier alone holds a sentence only if it names an AI or a secret.
"""

import re
from functools import cache

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.rails.document_instruction_examples import ADDRESSES_ASSISTANT, ASKS_TO_SEND, HELP
from knowledge.embeddings import texts_embed

THRESHOLD = 0.85  # the probability of an instruction above which a sentence is held
ADDRESSED_THRESHOLD = 0.5  # the same, for a sentence that opens by addressing an AI
MIN_WORDS = 4  # a heading or a fragment ("Description", "Opening hours") instructs no one
REGULARISATION = 3.0  # LogisticRegression's C: the examples are few
ADDRESSES_AN_ASSISTANT = "Addresses an AI assistant"
ASKS_READERS_TO_SEND = "Asks readers to send {secret}"
HELP_LABEL, ASSISTANT_LABEL, SEND_LABEL = 0, 1, 2

_AI = (
    r"(?:AI|A\.I\.|KI|IA|LLMs?|GPT|chat ?bots?|bots?|(?:large )?language models?|models?|"
    r"(?:AI |virtual |automated )?(?:assistants?|agents?|systems?)|"
    r"Sprachmodell\w*|KI-\w+|modèles? de langage|assistants? IA|modelos? de lenguaje|"
    r"asistentes? de IA|modell[oi] linguistic[oi]|assistenti IA|AI-\w+)"
)
# "Note to AI assistants:", "If you are a language model", "Dear assistant,", "AI systems
# reading this page": the sentence speaks to an AI, it does not talk about one.
_ADDRESSES_AI = re.compile(
    rf"^(?:\W*(?:note|notice|message|instructions?|attention|important|hinweis|remarque|"
    rf"nota|uwaga|opmerking|achtung)\s+(?:to|for|für|an|aux|pour|para|per|dla|voor)\s+"
    rf"(?:all\s+|any\s+|the\s+|les\s+|los\s+|gli\s+)?{_AI}"
    rf"|\W*(?:dear|hey|hi|hello|attention)\s+{_AI}"
    rf"|\W*(?:if|when)\s+you\s+are\s+(?:an?|the)\s+(?:\w+\s+)?{_AI}"
    rf"|\W*{_AI}\s*[:,]"
    rf"|\W*(?:any\s+|all\s+)?{_AI}\s+(?:reading|summari[sz]ing|answering|quoting|processing)\b)",
    re.IGNORECASE,
)
_SECRETS = {
    "card details": r"card(?:'s)? (?:number|details|security code)|cvv|cvc|security code|"
    r"expiry date|credit card|kartennummer|numéro de carte|número de (?:la )?tarjeta|"
    r"numero della carta",
    "passwords": r"passwords?|passcodes?|contraseñas?|passwort|mot de passe|\bpins?\b",
    "one-time codes": r"one-time (?:code|password)|verification code|\d-digit code|otp\b|"
    r"code you received|código de verificación",
    "bank details": r"bank account number|sort code|iban|online banking login|banking password",
    "login details": r"login details|username and password|credentials",
}
_SEND_VERBS = (
    r"(?:send|e-?mail|text|sms|forward|reply|share|give|"
    r"senden|schicken|envoyez|envoyer|envíe|enviar|invia|inviare)\w*"
)
# The secret is what is sent ("e-mail your card number", "envoyez votre code"), not a
# word nearby ("if you get a text about a PIN you did not ask for").
_SECRET_SENT = (
    rf"{_SEND_VERBS}\s+(?:(?:us|them|it|me|nous)\s+)?"
    rf"(?:your|their|the|a|an|votre|vos|ihre|ihren|deine|su|sus|tu|il|la|le)\s+"
    rf"(?:[\w'-]+\s+){{0,3}}?(?:{'|'.join(_SECRETS.values())})"
)
_SENDS_SECRET = re.compile(rf"\b{_SECRET_SENT}", re.IGNORECASE)
# ... and the reader is the one told to send it: "E-mail your card number ...", "tell
# customers to text their code ...", not "we text your code to you".
_TOLD_TO_SEND = re.compile(
    rf"(?:^|[,;:]\s*|\bplease\s+|\b(?:tell|ask|instruct|have|get|remind)\s+(?:the\s+)?"
    rf"(?:customers?|users?|readers?|callers?|clients?|people|everyone|them)\s+to\s+|"
    rf"\b(?:you|customers|users)\s+(?:must|should|need\s+to|have\s+to)\s+){_SECRET_SENT}",
    re.IGNORECASE,
)
_AI_NAMED = re.compile(rf"\b{_AI}\b", re.IGNORECASE)
# Words only an injection says to an assistant: its instructions, its rules, its prompt.
_ASSISTANT_RULES = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?"
    r"(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|earlier|original|system)\s+"
    r"(?:instructions?|rules|prompts?|guidelines)|\b(?:your|the)\s+system\s+prompt\b",
    re.IGNORECASE,
)
_DESTINATION = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d \-]{6,}\d")
_NEVER = re.compile(
    r"\b(?:never|not|don't|do not|no one|nobody|nie|niemals|jamais|ne|nunca|no|mai|nooit)\b",
    re.IGNORECASE,
)


def sentences_held(*, sentences: list[str], vectors: np.ndarray) -> list[str]:
    """Why each sentence must be held out of search, "" for an ordinary one."""
    if not sentences:
        return []
    probabilities = _classifier().predict_proba(vectors)
    return [
        _why_held(sentence, probabilities=row)
        for sentence, row in zip(sentences, probabilities, strict=True)
    ]


def _why_held(sentence: str, *, probabilities: np.ndarray) -> str:
    secret = _secret_named(sentence)
    sends = bool(secret and _SENDS_SECRET.search(sentence) and not _NEVER.search(sentence))
    if sends and (_DESTINATION.search(sentence) or _TOLD_TO_SEND.search(sentence)):
        return ASKS_READERS_TO_SEND.format(secret=secret)
    instruction = 1.0 - probabilities[HELP_LABEL]
    speaks_to_ai = _ADDRESSES_AI.search(sentence) or _ASSISTANT_RULES.search(sentence)
    if speaks_to_ai and instruction >= ADDRESSED_THRESHOLD:
        return ADDRESSES_AN_ASSISTANT
    if instruction < THRESHOLD or len(sentence.split()) < MIN_WORDS:
        return ""
    # The classifier's word alone is not enough: an imperative help sentence ("Answer the
    # questions to get a quote") reads like one; the instruction must name what it is about.
    if probabilities[SEND_LABEL] > probabilities[ASSISTANT_LABEL]:
        return ASKS_READERS_TO_SEND.format(secret=secret) if secret else ""
    return ADDRESSES_AN_ASSISTANT if _AI_NAMED.search(sentence) else ""


def _secret_named(sentence: str) -> str:
    return next(
        (name for name, pattern in _SECRETS.items() if re.search(pattern, sentence, re.I)), ""
    )


@cache
def _classifier() -> LogisticRegression:
    examples = [*HELP, *ADDRESSES_ASSISTANT, *ASKS_TO_SEND]
    labels = (
        [HELP_LABEL] * len(HELP)
        + [ASSISTANT_LABEL] * len(ADDRESSES_ASSISTANT)
        + [SEND_LABEL] * len(ASKS_TO_SEND)
    )
    return LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000).fit(
        texts_embed(texts=examples), labels
    )
