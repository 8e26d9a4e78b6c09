"""Everything checked on each sentence of an answer before the customer sees it.

- grounding: a generated sentence must be supported by what it cites (`grounding`);
- banned phrases and competitor names from the policy, in any answer;
- refused topics: a generated sentence about one of them;
- personal data no source contains (a model inventing or recalling someone's details;
  the customer's own details never reach it, they are placeholders by then);
- an echo of the instructions: seven words in a row from the system prompt or policy;
- contacts: an e-mail address, phone number or web address not the workspace's, or a
  request for the customer's card number, security code, PIN, password or one-time code
  (`contacts`). Critical, and on every sentence: a planted passage quoted word for word
  sends customers elsewhere as surely as a model's invention.

Quotes of the knowledge base (the extractive answerer) skip the other checks that only
generated text can fail: the company's own articles are in scope.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from assistant.models import PolicyVersion
from assistant.rails.contacts import (
    WorkspaceContacts,
    contacts_find,
    contacts_foreign,
    secret_requested,
    workspace_contacts,
)
from assistant.rails.grounding import claim_of, sentence_grounded
from assistant.rails.input_rails import REFUSED_TOPIC_SIMILARITY
from assistant.rails.personal_data import personal_data_find
from assistant.rails.policy_rules import entries, rules
from assistant.rails.rules import rule_match
from knowledge.embeddings import texts_embed_cached
from knowledge.search import Hit

ECHO_WORDS = 7
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Violation:
    # grounding, banned_phrase, competitor, refused_topic, personal_data, echo, contact,
    # asks_for_secret
    rail: str
    detail: str


@dataclass(frozen=True)
class OutputRails:
    policy: PolicyVersion
    sources: Sequence[Hit]
    instructions: str  # the system prompt as sent, policy text included
    # Whose contacts an answer may give; None where no customer reads the sentences (a
    # stored answer judged again by the policy checks).
    workspace_id: int | None = None

    def violations(self, *, sentence: str, generated: bool) -> list[Violation]:
        found = [
            *self._terms(sentence, entries(self.policy.banned_phrases), "banned_phrase"),
            *self._terms(sentence, entries(self.policy.competitors), "competitor"),
            *self._echo(sentence),
            *self._contacts(sentence),
        ]
        if generated:
            found += [*self._personal_data(sentence), *self._refused_topic(sentence)]
            if not sentence_grounded(sentence=sentence, sources=self.sources):
                found.append(Violation("grounding", "not supported by the sources it cites"))
        return found

    @staticmethod
    def _terms(sentence: str, terms: list[str], rail: str) -> list[Violation]:
        return [
            Violation(rail, term)
            for term in terms
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", sentence, re.IGNORECASE)
        ]

    def _echo(self, sentence: str) -> list[Violation]:
        words = [word.casefold() for word in _WORD.findall(sentence)]
        for start in range(len(words) - ECHO_WORDS + 1):
            if tuple(words[start : start + ECHO_WORDS]) in self._instruction_runs:
                return [Violation("echo", " ".join(words[start : start + ECHO_WORDS]))]
        return []

    @cached_property
    def _instruction_runs(self) -> set[tuple[str, ...]]:
        words = [word.casefold() for word in _WORD.findall(self.instructions)]
        return {tuple(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)}

    def _contacts(self, sentence: str) -> list[Violation]:
        if self.workspace_id is None:
            return []
        claim = claim_of(sentence)
        found = [
            Violation("contact", contact.described)
            for contact in contacts_foreign(contacts=contacts_find(text=claim), own=self._own)
        ]
        if claim and secret_requested(sentence=claim):
            found.append(Violation("asks_for_secret", "asks the customer for a secret"))
        return found

    @cached_property
    def _own(self) -> WorkspaceContacts:
        """Read once an answer, when its first sentence is checked."""
        return workspace_contacts(
            workspace_id=self.workspace_id,
            sites=[source.document_url for source in self.sources if source.document_url],
        )

    def _personal_data(self, sentence: str) -> list[Violation]:
        found = []
        for finding in personal_data_find(text=sentence):
            value = sentence[finding.start : finding.end]
            if _squashed(value) not in self._sources_squashed:
                found.append(Violation("personal_data", finding.kind))
        return found

    @cached_property
    def _sources_squashed(self) -> str:
        return _squashed(" ".join(source.text for source in self.sources))

    def _refused_topic(self, sentence: str) -> list[Violation]:
        topics = rules(self.policy.topics_refused)
        claim = claim_of(sentence)
        if not topics or not claim:
            return []
        match = rule_match(
            vectors=texts_embed_cached([claim]), rules=topics, threshold=REFUSED_TOPIC_SIMILARITY
        )
        return [Violation("refused_topic", match.label)] if match else []


def _squashed(text: str) -> str:
    """Without spaces and punctuation: "+1 (555) 010-4400" is "+1 555 010 4400"."""
    return "".join(character for character in text if character.isalnum() or character == "@")
