"""Reading a policy's text fields as rules, and comparing two versions of a policy.

Admins write lists one entry per line, and topics or escalation rules as
"Label: example; another example": plain text they can read, diff and paste. A rule may go
on with " | key: value" segments: "not: a look-alike; another" (counter-examples) and, for
an escalation rule, "say: a safety message" sent to the customer before the handover.
"""

import difflib
import hashlib
import json
from dataclasses import dataclass

# The segments a rule line may carry after " | ", each "key: value".
SEGMENT_KEYS = ("not", "say")


@dataclass(frozen=True)
class Rule:
    label: str
    examples: tuple[str, ...]  # what matching messages look like, the label among them
    counter_examples: tuple[str, ...] = ()  # "not:": look-alikes that must not match
    say: str = ""  # "say:": a safety message sent as written before the handover


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    removed: list[str]
    added: list[str]


def entries(text: str) -> list[str]:
    """The non-empty lines of a list field, trimmed."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def rules(text: str) -> list[Rule]:
    """Each "Label: example; example | not: example | say: message" line as a rule; a
    line without examples is its label. Call on text `rules_problems` accepts."""
    parsed = []
    for line in entries(text):
        head, segments = rule_segments(line)
        label, _, examples = head.partition(":")
        parsed.append(
            Rule(
                label=label.strip(),
                examples=(label.strip(), *_examples(examples)),
                counter_examples=tuple(_examples(segments.get("not", ""))),
                say=segments.get("say", ""),
            )
        )
    return parsed


def rule_segments(line: str) -> tuple[str, dict[str, str]]:
    """A rule line's "Label: examples" head and its " | key: value" segments, by key (an
    unknown or repeated key is kept for `rules_problems` to name)."""
    head, *segments = line.split("|")
    return head.strip(), {
        key.strip().lower(): value.strip()
        for key, _, value in (segment.partition(":") for segment in segments)
    }


def rules_problems(text: str) -> list[str]:
    """What an admin must fix in a rules field, one sentence per problem."""
    problems = []
    for line in entries(text):
        head, *segments = line.split("|")
        if not head.partition(":")[0].strip():
            problems.append(f"“{line}” needs a label before the colon, like “Label: example”.")
        keys = []
        for segment in segments:
            key, colon, value = (part.strip() for part in segment.partition(":"))
            keys.append(key.lower())
            if key.lower() not in SEGMENT_KEYS or not colon:
                known = " or ".join(f"“| {known}: …”" for known in SEGMENT_KEYS)
                problems.append(
                    f"“{segment.strip()}” in “{line}” is not a part Keel knows: "
                    f"after a “|” write {known}."
                )
            elif not value:
                problems.append(f"“| {key}:” in “{line}” needs something after the colon.")
        if len(set(keys)) < len(keys):
            problems.append(f"“{line}” gives the same part twice: write it once.")
    return problems


def _examples(text: str) -> list[str]:
    return [piece.strip() for piece in text.split(";") if piece.strip()]


def policy_fingerprint(policy) -> str:
    """Changes whenever anything the policy (a PolicyVersion) says changes."""
    return hashlib.sha256(json.dumps(policy.content(), sort_keys=True).encode()).hexdigest()


def policy_diff(*, old: dict, new: dict, labels: dict[str, str]) -> list[FieldChange]:
    """What changed between two policies' contents, field by field and line by line."""
    changes = []
    for field, label in labels.items():
        before, after = _lines(old.get(field)), _lines(new.get(field))
        if before == after:
            continue
        diff = list(difflib.ndiff(before, after))
        changes.append(
            FieldChange(
                field=field,
                label=label,
                removed=[line[2:] for line in diff if line.startswith("- ")],
                added=[line[2:] for line in diff if line.startswith("+ ")],
            )
        )
    return changes


def _lines(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return entries(str(value)) if isinstance(value, str) else [str(value)]
