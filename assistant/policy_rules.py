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

SEGMENT_SEPARATOR = " | "


@dataclass(frozen=True)
class Rule:
    label: str
    examples: tuple[str, ...]  # what matching messages look like, the label among them
    counter_examples: tuple[str, ...] = ()  # "not:": look-alikes that must not match
    say: str = ""  # "say:": a safety message sent as written before the handover


# Each " | key: value" segment a rule line may carry, and the Rule field it fills.
SEGMENT_FIELDS = {"not": "counter_examples", "say": "say"}


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
    """Each "Label: example; example | key: value" line as a rule; a line without examples
    is its label. Call on text `rules_invalid` accepts: an unknown key is skipped."""
    parsed = []
    for line in entries(text):
        head, segments = _segments(line)
        label, _, examples = head.partition(":")
        fields = {
            SEGMENT_FIELDS[key]: value if key == "say" else _listed(value)
            for key, value in segments
            if key in SEGMENT_FIELDS
        }
        parsed.append(
            Rule(label=label.strip(), examples=(label.strip(), *_listed(examples)), **fields)
        )
    return parsed


def rules_invalid(text: str) -> list[str]:
    """What an admin must fix, one sentence per line at fault: a label with nothing before
    the colon, a segment that is not a known "key: value"."""
    problems = []
    for line in entries(text):
        head, segments = _segments(line)
        unknown = [key for key, _ in segments if key not in SEGMENT_FIELDS]
        if not head.partition(":")[0].strip():
            problems.append(f"“{line}” needs a label before the colon, like “Label: example”.")
        elif unknown:
            known = " or ".join(f"“| {key}: …”" for key in SEGMENT_FIELDS)
            problems.append(f"“{line}”: “{unknown[0]}” is not a rule segment; use {known}.")
    return problems


def _segments(line: str) -> tuple[str, list[tuple[str, str]]]:
    """A rule line's head ("Label: examples") and its " | key: value" segments, keys
    lower-cased."""
    head, *rest = line.split(SEGMENT_SEPARATOR)
    segments = []
    for segment in rest:
        key, _, value = segment.partition(":")
        segments.append((key.strip().lower(), value.strip()))
    return head, segments


def _listed(text: str) -> tuple[str, ...]:
    return tuple(piece.strip() for piece in text.split(";") if piece.strip())


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
