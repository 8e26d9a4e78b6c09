"""Everything checked on a customer message before retrieval and before any LLM sees it.

Personal data is replaced by placeholders first, so no later step (nor the store, nor the
index, nor a model) ever holds it. Then, on the redacted text, embedded once: is it an
injection attempt, does it match an escalation rule of the policy or one of Keel's built-in
ones it keeps (asks for a person, upset, a safety or legal matter...), is it on a topic the
policy refuses?
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from assistant.models import PolicyVersion
from assistant.rails.injection import NEARLY_THRESHOLD, InjectionVerdict, injection_check
from assistant.rails.intents import INTENTS, Intent, intents_on, names_privacy_law, shouting
from assistant.rails.not_support import topics_on
from assistant.rails.personal_data import Placeholders, Redacted, personal_data_redact
from assistant.rails.pieces import MessagePieces, hidden_texts, message_pieces
from assistant.rails.policy_rules import Rule, entries, rules
from assistant.rails.request_reading import (
    HYPOTHETICAL,
    INFORMATION,
    REQUEST,
    UNCLEAR,
    Reading,
    own_how_to,
    piece_readings,
)
from assistant.rails.rules import RuleMatch, rule_match
from knowledge.embeddings import texts_embed_cached
from knowledge.own_questions import own_question_vectors

# Cosine similarity of a message's piece to a rule's nearest example, chosen on Keel's
# red-team suite and the demo questions (see `make bench`, section rails): the most rule
# cases caught while ordinary questions such as "How do I delete a saved card from my
# account?" (0.57 to "delete my account") stay below.
ESCALATION_SIMILARITY = 0.58
REFUSED_TOPIC_SIMILARITY = 0.50
# How much nearer a rule's example must be than its "not:" lines and the help center's own
# questions (`rails.rules.rule_fires`). On Keel's suite and the demo help center, the
# rules' real cases and their look-alikes sit from -0.06 to +0.04 of a heading of the help
# center ("Please delete my account and everything you have on me": +0.04 over "Deleting
# your account"), so a margin decides little there; what decides is the cost of a
# mistake. A missed escalation leaves someone in danger or in a dispute without a person,
# a missed refusal answers what the business said it will not: what the rule must not
# catch has to be nearer by 0.05, beyond most of that noise, to stop it. So a tie goes to
# the rule too: an admin who writes one of the help center's questions as an example means
# it (and the publish gate shows that question refused).
RULE_MARGIN = -0.05
# The built-in rules, on their own examples and look-alikes and Keel's red-team suite:
# ordinary questions score 0.64 at most once their counter-examples apply ("can I talk to
# a real person on the weekend"), paraphrased requests mostly 0.68 and above.
INTENT_SIMILARITY = 0.65
# Looser bars, for a message the help center has no answer to, in its language
# (`outcomes.Nearly`): there, a rule that nearly fires costs no answered question. On
# Keel's red-team suite, the demo's questions and 30 questions about the demo shop it
# cannot answer, asked through the pipeline (those that end "I don't know"): refused
# topics a little below their threshold (0.45) or failing only their margin (down to
# -0.10), one bar at a time, refuse a discount code to invent (0.47, +0.07), a phishing
# e-mail on the edge (0.47, -0.05), and none of the 30; "for my refund, my bank is
# [IBAN]" stays out (-0.19); with both bars loosened at once, the acceptance kit's
# benign look-alikes lost one to a refusal. Escalation rules keep their threshold and
# loosen only their margin:
# the help center's questions they yielded to did not answer the message either. Below
# it (0.52 and 0.60 tried), they caught no one who needed a person there nor in the
# acceptance kit, and handed over questions ("are you a bot or a person?" at 0.64).
NEARLY_ESCALATION_SIMILARITY = ESCALATION_SIMILARITY
NEARLY_INTENT_SIMILARITY = INTENT_SIMILARITY
NEARLY_REFUSED_TOPIC_SIMILARITY = 0.45
NEARLY_RULE_MARGIN = -0.10
# Out of scope (`outcomes.Nearly`): a message nearer a refused topic than to the help
# center's own questions and the policy's in-scope topics, and far from those and from the
# passages found. Measured against the acceptance kit's help center: its ordinary-but-
# unanswerable questions come no farther than 0.35 (a product's rating, a discount for a
# profession); an unrelated task (calculus, a poem, a health worry) 0.15-0.28; other
# businesses' ordinary questions mostly 0.25 and up, and of those that come as far, few are
# nearer a refused topic (docs/benchmarks.md). Any refused-topic example counts from
# 0.30: below that, nearest means little.
OUT_OF_SCOPE_SIMILARITY = 0.30
FAR_TOPIC_SIMILARITY = 0.30
UPSET, DATA_REQUEST = (
    next(intent for intent in INTENTS if intent.key == key)
    for key in ("upset", "personal_data_request")
)
# How the message's reading (`request_reading`) moves an escalation rule's bar. A request
# or report said at length or formally sits 0.05-0.1 below the short examples it means;
# a how-to or is-it-normal question about the same thing sits as near them as the
# request ("How do I close my account?" 0.90 to "Close my account"), a what-if question
# up to 0.81: an information question needs more, and one about what has not happened
# more again, than a question of any company's help center reaches without being the
# rule's own example.
BAR_MOVES = {REQUEST: -0.08, UNCLEAR: 0.0, INFORMATION: 0.15, HYPOTHETICAL: 0.35}


class Nearly(StrEnum):
    """What a message nearly is, by the input rails' looser bars (below).
    Their strict bars protect the questions the help center answers; when it has no
    answer, there is nothing left to protect, and "I don't know" would serve an attack, a
    task the business refuses, or someone who needs a person, as if it were a question.
    Out of scope: far from everything the help center is about (`InputVerdict.scope`,
    the passages found) and nearer a refused topic than to any of it."""

    NOTHING = ""
    ATTACK = "attack"
    PERSON = "person"
    REFUSED_TOPIC = "refused_topic"
    OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class InputVerdict:
    redacted: Redacted
    injection: InjectionVerdict
    escalation: RuleMatch | None  # a rule of the policy
    intent: Intent | None  # a built-in rule the policy keeps
    intent_match: RuleMatch | None  # how it matched (None: by its explicit cue)
    refused_topic: RuleMatch | None
    refuse_injection: bool  # the policy says to refuse what the injection rail flagged
    reading: Reading  # a request or report, or a question for information
    own_how_to: bool = False  # a question for information about the customer's own things
    # The same rules by their looser bars (`nearly`).
    nearly_escalation: RuleMatch | None = None
    nearly_intent: Intent | None = None
    nearly_intent_match: RuleMatch | None = None
    nearly_refused_topic: RuleMatch | None = None
    # How near the message comes to what the help center is about: its own questions and
    # the policy's in-scope topics (1.0 when it knows neither); and the refused topic it is
    # nearer to than to those, at any distance above FAR_TOPIC_SIMILARITY.
    scope: float = 1.0
    far_refused_topic: RuleMatch | None = None

    @property
    def wants_person(self) -> bool:
        return bool(self.escalation or self.intent)

    @property
    def person_rule(self) -> RuleMatch | None:
        """The escalation rule matched, the policy's own first."""
        return self.escalation or self.intent_match

    @property
    def refusal(self) -> str:
        """Why the message is refused before retrieval ("" when it is not). A message that
        must go to a person is never refused for its topic: they need the person."""
        if self.injection.flagged and self.refuse_injection:
            return "injection"
        if self.refused_topic and not self.wants_person:
            return "refused_topic"
        return ""

    @property
    def refusal_yields(self) -> bool:
        """The refused topic gives way to the help center's confident answer: the customer
        asks how to do something with their own account, device or data ("my phone was
        stolen, how do I block it?"), which sits as near a rule about other people's
        phones or data as the attack it was written for. An attack never yields."""
        return self.refusal == "refused_topic" and self.own_how_to

    @property
    def nearly(self) -> Nearly:
        """What the message nearly is, in the order the strict rules apply: a person
        first, who needs one; then an attack, whatever its topic."""
        if self.nearly_escalation or self.nearly_intent:
            return Nearly.PERSON
        if self.refuse_injection and self.injection.score >= NEARLY_THRESHOLD:
            return Nearly.ATTACK
        if self.nearly_refused_topic:
            return Nearly.REFUSED_TOPIC
        return Nearly.NOTHING

    def out_of_scope(self, *, passages: float) -> bool:
        """Far from everything the help center is about, `passages` (the nearest passage
        found) included, and nearer a refused topic than to any of it."""
        return bool(self.far_refused_topic) and max(self.scope, passages) < OUT_OF_SCOPE_SIMILARITY

    def trace(self) -> dict:
        return {
            "personal_data": {
                "placeholders": [r.placeholder for r in self.redacted.replacements],
            },
            "injection": {
                "score": self.injection.score,
                "flagged": self.injection.flagged,
                "decoded": self.injection.decoded,
            },
            "escalation": _match_trace(self.escalation),
            "intent": None
            if self.intent is None
            else {
                "key": self.intent.key,
                "match": _match_trace(self.intent_match),
                "cue": ""
                if self.intent_match
                else ("shouting" if self.intent is UPSET else "names a data-protection law"),
            },
            "refused_topic": _match_trace(self.refused_topic),
            "refusal": self.refusal,
            "refusal_yields": self.refusal_yields,
            "reading": {"kind": self.reading.kind, "why": self.reading.why},
            "nearly": {
                "reading": self.nearly.value,
                "person": _match_trace(self.nearly_escalation or self.nearly_intent_match),
                "refused_topic": _match_trace(self.nearly_refused_topic),
            },
            "scope": {
                "similarity": self.scope,
                "refused_topic": _match_trace(self.far_refused_topic),
            },
        }


def input_rails(
    *, text: str, policy: PolicyVersion, earlier: Placeholders | None = None
) -> InputVerdict:
    """`earlier`: the placeholders the conversation holds already, kept for their values."""
    kinds = frozenset(policy.personal_data_kinds)
    redacted = personal_data_redact(text=text, kinds=kinds, earlier=earlier)
    # Decoded before redaction, which would break an encoded run apart, then redacted too.
    hidden = [
        personal_data_redact(text=plain, kinds=kinds).text for plain in hidden_texts(text=text)
    ]
    pieces = message_pieces(text=redacted.text, hidden=hidden)
    # What every rule, the policy's and the built-in ones, must not catch besides its "not:" lines.
    ordinary = own_question_vectors(workspace_id=policy.workspace_id)
    readings = piece_readings(texts=pieces.texts, vectors=pieces.vectors)
    kept = {intent.rule.label: intent for intent in intents_on(off=policy.builtin_rules_off)}
    builtin = [intent.rule for intent in kept.values()]
    escalations = rules(policy.escalation_rules)
    refused = [*rules(policy.topics_refused), *topics_on(off=policy.builtin_rules_off)]

    def person(some: Sequence[Rule], threshold: float, margin: float) -> RuleMatch | None:
        return _escalation_match(
            pieces=pieces,
            rules=some,
            threshold=threshold,
            margin=margin,
            readings=readings,
            ordinary=ordinary,
        )

    def topic(threshold: float, margin: float, against: np.ndarray = ordinary) -> RuleMatch | None:
        return rule_match(
            vectors=pieces.vectors,
            rules=refused,
            threshold=threshold,
            margin=margin,
            ordinary=against,
            texts=pieces.texts,
        )

    # What the help center is about: its own questions and the policy's in-scope topics.
    about = np.vstack([ordinary, texts_embed_cached(entries(policy.topics_in_scope))])

    intent_match = person(builtin, INTENT_SIMILARITY, RULE_MARGIN)
    nearly_intent = person(builtin, NEARLY_INTENT_SIMILARITY, NEARLY_RULE_MARGIN)
    return InputVerdict(
        redacted=redacted,
        injection=injection_check(pieces=pieces),
        escalation=person(escalations, ESCALATION_SIMILARITY, RULE_MARGIN),
        intent=_intent(text=redacted.text, kept=kept, match=intent_match, reading=readings[0]),
        intent_match=intent_match,
        refused_topic=topic(REFUSED_TOPIC_SIMILARITY, RULE_MARGIN),
        refuse_injection=policy.injection_action == PolicyVersion.InjectionAction.REFUSE,
        reading=readings[0],
        own_how_to=own_how_to(text=redacted.text, reading=readings[0]),
        nearly_escalation=person(escalations, NEARLY_ESCALATION_SIMILARITY, NEARLY_RULE_MARGIN),
        nearly_intent=kept[nearly_intent.label] if nearly_intent else None,
        nearly_intent_match=nearly_intent,
        # One bar loosened at a time: the margin, or the threshold.
        nearly_refused_topic=topic(REFUSED_TOPIC_SIMILARITY, NEARLY_RULE_MARGIN)
        or topic(NEARLY_REFUSED_TOPIC_SIMILARITY, RULE_MARGIN),
        scope=round(float((pieces.vectors @ about.T).max()), 4) if len(about) else 1.0,
        far_refused_topic=topic(FAR_TOPIC_SIMILARITY, 0.0, against=about),
    )


def _escalation_match(
    *,
    pieces: MessagePieces,
    rules: Sequence[Rule],
    threshold: float,
    margin: float,
    readings: list[Reading],
    ordinary: np.ndarray,
) -> RuleMatch | None:
    """The escalation rule the message matches, each piece at the bar its reading sets. A
    rule with a safety message keeps its bar for a request: the message is said only where
    the situation is clearly the rule's."""
    moves = np.array([BAR_MOVES[reading.kind] for reading in readings])
    matches = [
        rule_match(
            vectors=pieces.vectors,
            rules=[rule for rule in rules if bool(rule.say) is says],
            threshold=threshold + (np.maximum(moves, 0.0) if says else moves),
            margin=margin,
            ordinary=ordinary,
            texts=pieces.texts,
        )
        for says in (False, True)
    ]
    best = max(filter(None, matches), key=lambda match: match.score, default=None)
    if best is None:
        return None
    return replace(best, reading=readings[pieces.texts.index(best.piece)].kind)


def _intent(
    *, text: str, kept: dict[str, Intent], match: RuleMatch | None, reading: Reading
) -> Intent | None:
    """The built-in rule the message matches, of those the policy keeps (`kept`, by
    label); like the policy's own rules, it yields to the help center's own questions.
    Without a match, two explicit cues: shouting, and a request that names a
    data-protection law."""
    if match:
        return kept[match.label]
    if UPSET.rule.label in kept and shouting(text):
        return UPSET
    if DATA_REQUEST.rule.label in kept and reading.kind == REQUEST and names_privacy_law(text):
        return DATA_REQUEST
    return None


def _match_trace(match: RuleMatch | None) -> dict | None:
    return (
        None
        if match is None
        else {
            "rule": match.label,
            "example": match.example,
            "score": match.score,
            "margin": match.margin,
            "piece": match.piece,
            "reading": match.reading,
        }
    )
