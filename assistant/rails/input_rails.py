"""Everything checked on a customer message before retrieval and before any LLM sees it.

Personal data is replaced by placeholders first, so no later step (nor the store, nor the
index, nor a model) ever holds it. Then, on the redacted text, embedded once: is it an
injection attempt, does it match an escalation rule, ask for a person or sound upset, is
it on a topic the policy refuses?
"""

from dataclasses import dataclass

from assistant.models import PolicyVersion
from assistant.policy_rules import rules
from assistant.rails.injection import InjectionVerdict, injection_check
from assistant.rails.intents import ASKS_FOR_PERSON, UPSET, shouting
from assistant.rails.not_support import NOT_SUPPORT_TOPICS
from assistant.rails.personal_data import Placeholders, Redacted, personal_data_redact
from assistant.rails.pieces import hidden_texts, message_pieces
from assistant.rails.rules import RuleMatch, rule_match

# Cosine similarity of a message's piece to a rule's nearest example, chosen on Keel's
# red-team suite and the demo questions (see `make bench`, section rails): the most rule
# cases caught while ordinary questions such as "How do I delete a saved card from my
# account?" (0.57 to "delete my account") stay below.
ESCALATION_SIMILARITY = 0.58
REFUSED_TOPIC_SIMILARITY = 0.50
# Asking for a person, in many languages, against short foreign messages that MiniLM
# (trained on English) places near any foreign example: "Hoe lang heb ik om een fiets terug
# te sturen?" 0.64, "Are you a bot or a person?" 0.64; real requests 0.95 and above.
PERSON_SIMILARITY = 0.70


@dataclass(frozen=True)
class InputVerdict:
    redacted: Redacted
    injection: InjectionVerdict
    escalation: RuleMatch | None  # a rule of the policy
    asks_for_person: RuleMatch | None
    upset: bool
    refused_topic: RuleMatch | None
    refuse_injection: bool  # the policy says to refuse what the injection rail flagged

    @property
    def wants_person(self) -> bool:
        return bool(self.escalation or self.asks_for_person or self.upset)

    @property
    def refusal(self) -> str:
        """Why the message is refused before retrieval ("" when it is not). A message that
        must go to a person is never refused for its topic: they need the person."""
        if self.injection.flagged and self.refuse_injection:
            return "injection"
        if self.refused_topic and not self.wants_person:
            return "refused_topic"
        return ""

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
            "asks_for_person": _match_trace(self.asks_for_person),
            "upset": self.upset,
            "refused_topic": _match_trace(self.refused_topic),
            "refusal": self.refusal,
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
    return InputVerdict(
        redacted=redacted,
        injection=injection_check(pieces=pieces),
        escalation=rule_match(
            vectors=pieces.vectors,
            rules=rules(policy.escalation_rules),
            threshold=ESCALATION_SIMILARITY,
        ),
        asks_for_person=rule_match(
            vectors=pieces.vectors, rules=[ASKS_FOR_PERSON], threshold=PERSON_SIMILARITY
        ),
        upset=shouting(redacted.text)
        or rule_match(vectors=pieces.vectors, rules=[UPSET], threshold=ESCALATION_SIMILARITY)
        is not None,
        refused_topic=rule_match(
            vectors=pieces.vectors,
            rules=[*rules(policy.topics_refused), *NOT_SUPPORT_TOPICS],
            threshold=REFUSED_TOPIC_SIMILARITY,
        ),
        refuse_injection=policy.injection_action == PolicyVersion.InjectionAction.REFUSE,
    )


def _match_trace(match: RuleMatch | None) -> dict | None:
    return (
        None
        if match is None
        else {"rule": match.label, "example": match.example, "score": match.score}
    )
