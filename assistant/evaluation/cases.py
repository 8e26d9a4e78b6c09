"""A workspace's test cases: the form for the page, and JSON lines out and back in (one
object per line with "question", "expected" and, optionally, "earlier_turns",
"expected_documents", "must_contain" and "must_not_contain", arrays of strings). Import
checks every line first and stores all of them or none. A case's messages are stored as a
chat stores a customer's: personal data replaced by placeholders."""

import json
from dataclasses import dataclass
from pathlib import PurePath

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import ValidationError
from django.db import transaction

from assistant.common.audit import workspace_audit
from assistant.conversations.selectors import policy_in_force
from assistant.evaluation.scoring import behaviour_of
from assistant.models import AuditEvent, EvalCase, EvalResult, Message, Workspace
from assistant.rails.personal_data import personal_data_redact

FIELDS = [
    "earlier_turns",
    "question",
    "expected",
    "expected_documents",
    "must_contain",
    "must_not_contain",
]
EARLIER_TURNS_KEPT = 3
LIST_FIELDS = {"earlier_turns", "expected_documents", "must_contain", "must_not_contain"}


class LinesField(SimpleArrayField):
    """One item per line, as typed in a text area: blank lines are no items."""

    def to_python(self, value):
        lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
        return super().to_python("\n".join(lines))


def _lines_field(label: str, help_text: str) -> LinesField:
    return LinesField(
        forms.CharField(max_length=4000),
        delimiter="\n",
        required=False,
        label=label,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EvalCaseForm(forms.ModelForm):
    """A test case on a page: each list one item per line."""

    earlier_turns = _lines_field(
        "Earlier messages", "For a follow-up: the customer's messages before it, one per line."
    )
    expected_documents = _lines_field(
        "Expected documents", "File names, one per line, e.g. returns-and-refunds.md."
    )
    must_contain = _lines_field("Must contain", "Words or facts, one per line.")
    must_not_contain = _lines_field("Must not contain", "Words or facts, one per line.")

    class Meta:
        model = EvalCase
        fields = FIELDS
        widgets = {"question": forms.Textarea(attrs={"rows": 2})}


@dataclass(frozen=True)
class Imported:
    created: int
    problems: list[str]  # "line 3: …"; when any, nothing was stored


def cases_export(*, workspace: Workspace) -> str:
    return "".join(
        json.dumps({field: getattr(case, field) for field in FIELDS}, ensure_ascii=False) + "\n"
        for case in EvalCase.objects.filter(workspace=workspace)
    )


def cases_import(*, workspace: Workspace, text: str, actor: AbstractBaseUser | None) -> Imported:
    """Every line's case, or none when a line has a problem; `actor` is None for a
    command."""
    cases, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        case, line_problems = _case_from(line, workspace=workspace)
        problems += [f"line {number}: {problem}" for problem in line_problems]
        if case is not None:
            cases.append(case)
    if problems:
        return Imported(created=0, problems=problems)
    for case in cases:  # before the transaction: redaction runs a model
        case_redact(case=case)
    with transaction.atomic():
        created = EvalCase.objects.bulk_create(cases)
        _cases_audit(
            workspace_id=workspace.pk,
            actor=actor,
            action="import",
            cases=[case.pk for case in created],
        )
    return Imported(created=len(cases), problems=[])


def _case_from(line: str, *, workspace: Workspace) -> tuple[EvalCase | None, list[str]]:
    try:
        row = json.loads(line)
    except ValueError:
        return None, ["not a JSON object"]
    if not isinstance(row, dict):
        return None, ["not a JSON object"]
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        return None, [f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}"]
    if any(
        not isinstance(row.get(field, []), list)
        or not all(isinstance(item, str) for item in row.get(field, []))
        for field in LIST_FIELDS
    ):
        return None, ["lists must be arrays of strings"]
    case = EvalCase(workspace=workspace, **row)
    try:
        case.full_clean(exclude=["workspace"])
    except ValidationError as error:
        return None, [
            f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return case, []


def case_save(*, case: EvalCase, actor: AbstractBaseUser) -> EvalCase:
    """A case typed on the page, new or edited, stored redacted."""
    action = "edit" if case.pk else "add"
    case_redact(case=case)  # before the transaction: redaction runs a model
    with transaction.atomic():
        case.save()
        _cases_audit(workspace_id=case.workspace_id, actor=actor, action=action, cases=[case.pk])
    return case


def eval_case_delete(*, case: EvalCase, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        _cases_audit(workspace_id=case.workspace_id, actor=actor, action="delete", cases=[case.pk])
        case.delete()


def _cases_audit(
    *, workspace_id: int, actor: AbstractBaseUser | None, action: str, cases: list[int], **more
) -> None:
    """Which cases changed and how; never their text, which may be a customer's words."""
    workspace_audit(
        workspace_id=workspace_id,
        kind=AuditEvent.Kind.TEST_CASE,
        actor=actor,
        detail={"action": action, "cases": cases, **more},
    )


def case_redact(*, case: EvalCase) -> None:
    """Its question and earlier messages with the personal data the workspace's policy
    redacts in chats replaced by placeholders: a case is often a real customer's words."""
    kinds = frozenset(policy_in_force(workspace_id=case.workspace_id).personal_data_kinds)
    case.question = personal_data_redact(text=case.question, kinds=kinds).text
    case.earlier_turns = [
        personal_data_redact(text=turn, kinds=kinds).text for turn in case.earlier_turns
    ]


def cases_stored_redact() -> int:
    """The test cases and evaluation results stored before Keel redacted them, redacted
    now; how many changed. Safe to run again."""
    changed = 0
    for case in EvalCase.objects.iterator():
        before = (case.question, case.earlier_turns)
        case_redact(case=case)
        if (case.question, case.earlier_turns) != before:
            case.save(update_fields=["question", "earlier_turns"])
            changed += 1
    for result in EvalResult.objects.select_related("run").iterator():
        kinds = frozenset(policy_in_force(workspace_id=result.run.workspace_id).personal_data_kinds)
        question = personal_data_redact(text=result.question, kinds=kinds).text
        if question != result.question:
            EvalResult.objects.filter(pk=result.pk).update(question=question)
            changed += 1
    return changed


def case_from_turn(*, question: Message, actor: AbstractBaseUser) -> EvalCase:
    """A customer's question in a conversation, saved as a test case expecting what the
    assistant did then (an answer: from the documents it cited), for staff to adjust.
    The messages before it come along, so a follow-up keeps its context."""
    reply = (
        Message.objects.filter(conversation_id=question.conversation_id, pk__gt=question.pk)
        .exclude(role=Message.Role.CUSTOMER)
        .order_by("pk")
        .first()
    )
    expected = (
        behaviour_of(reply)
        if reply is not None and reply.role == Message.Role.ASSISTANT
        else EvalCase.Expected.ESCALATE
    )
    documents = (
        sorted(
            {
                PurePath(c.document.source).name
                for c in reply.citations.select_related("document")
                if c.document
            }
        )
        if reply is not None and expected == EvalCase.Expected.ANSWER
        else []
    )
    with transaction.atomic():
        case = EvalCase.objects.create(
            workspace_id=question.conversation.workspace_id,
            earlier_turns=earlier_turns_of(question),
            question=question.text,
            expected=expected,
            expected_documents=documents,
        )
        _cases_audit(
            workspace_id=case.workspace_id,
            actor=actor,
            action="add",
            cases=[case.pk],
            conversation=question.conversation_id,
        )
    return case


def earlier_turns_of(question: Message) -> list[str]:
    """The customer's last few messages before `question`, oldest first: a follow-up's
    context."""
    earlier = Message.objects.filter(
        conversation_id=question.conversation_id, role=Message.Role.CUSTOMER, pk__lt=question.pk
    ).order_by("-pk")[:EARLIER_TURNS_KEPT]
    return [turn.text for turn in reversed(earlier)]
