"""A workspace's test cases as JSON lines, out and back in: one object per line with
"question", "expected" and, optionally, "expected_documents", "must_contain" and
"must_not_contain" (arrays of strings). Import checks every line first and stores all
of them or none."""

import json
from dataclasses import dataclass
from pathlib import PurePath

from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.db import transaction

from assistant.evaluation import behaviour_of
from assistant.models import EvalCase, Message, Workspace

FIELDS = ["question", "expected", "expected_documents", "must_contain", "must_not_contain"]
LIST_FIELDS = FIELDS[2:]
# The form reads a list as one string; a delimiter no value contains keeps commas intact.
SEPARATOR = "\x1f"


def _list_field() -> SimpleArrayField:
    return SimpleArrayField(forms.CharField(max_length=500), delimiter=SEPARATOR, required=False)


class EvalCaseForm(forms.ModelForm):
    expected_documents = _list_field()
    must_contain = _list_field()
    must_not_contain = _list_field()

    class Meta:
        model = EvalCase
        fields = FIELDS


@dataclass(frozen=True)
class Imported:
    created: int
    problems: list[str]  # "line 3: …"; when any, nothing was stored


def cases_export(*, workspace: Workspace) -> str:
    return "".join(
        json.dumps({field: getattr(case, field) for field in FIELDS}, ensure_ascii=False) + "\n"
        for case in EvalCase.objects.filter(workspace=workspace)
    )


def cases_import(*, workspace: Workspace, text: str) -> Imported:
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
    with transaction.atomic():
        EvalCase.objects.bulk_create(cases)
    return Imported(created=len(cases), problems=[])


def _case_from(line: str, *, workspace: Workspace) -> tuple[EvalCase | None, list[str]]:
    try:
        row = json.loads(line)
    except ValueError:
        return None, ["not a JSON object"]
    if not isinstance(row, dict) or any(
        not isinstance(row.get(field, []), list) for field in LIST_FIELDS
    ):
        return None, ["a JSON object whose lists are arrays of strings"]
    form = EvalCaseForm(
        {**row, **{field: SEPARATOR.join(map(str, row.get(field, []))) for field in LIST_FIELDS}}
    )
    if not form.is_valid():
        return None, [
            f"{field}: {message}" for field, messages in form.errors.items() for message in messages
        ]
    case = form.save(commit=False)
    case.workspace = workspace
    return case, []


def case_from_turn(*, question: Message) -> EvalCase:
    """A customer's question in a conversation, saved as a test case expecting what the
    assistant did then (an answer: from the documents it cited), for staff to adjust."""
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
    return EvalCase.objects.create(
        workspace_id=question.conversation.workspace_id,
        question=question.text,
        expected=expected,
        expected_documents=documents,
    )
