"""Reading a policy's text fields as rules, and comparing two versions of a policy.

Admins write lists one entry per line, and topics or escalation rules as
"Label: example; another example": plain text they can read, diff and paste.
"""

import difflib
import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    label: str
    examples: tuple[str, ...]  # what matching messages look like, the label among them


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
    """Each "Label: example; example" line as a rule; a line without examples is its label."""
    parsed = []
    for line in entries(text):
        label, _, examples = line.partition(":")
        pieces = [piece.strip() for piece in examples.split(";") if piece.strip()]
        parsed.append(Rule(label=label.strip(), examples=(label.strip(), *pieces)))
    return parsed


def rules_invalid(text: str) -> list[str]:
    """The lines an admin must fix: a label with nothing before the colon."""
    return [line for line in entries(text) if not line.partition(":")[0].strip()]


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
