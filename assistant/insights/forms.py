from datetime import date, timedelta

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from assistant.models import (
    AuditEvent,
    Message,
    Workspace,
)


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All kinds"), *AuditEvent.Kind.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    include_sandbox = forms.BooleanField(
        required=False, label="Include checks, evaluation runs and sandbox chats"
    )


class AnalyticsFilterForm(forms.Form):
    """The dashboard's filters; any left out or empty take their defaults."""

    DEFAULT_DAYS = 30
    DEFAULT_STALE_DAYS = 180
    MAX_DAYS = 366

    workspace = forms.ChoiceField(help_text="The workspaces you administer.")
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    stale_days = forms.IntegerField(
        label="Stale after (days)",
        min_value=1,
        max_value=3650,
        help_text="Documents not updated for this many days are listed as stale.",
    )

    def __init__(self, query: QueryDict, *, workspace: Workspace, workspaces, today: date):
        defaults = {
            "workspace": workspace.slug,
            "start": (today - timedelta(days=self.DEFAULT_DAYS - 1)).isoformat(),
            "end": today.isoformat(),
            "stale_days": str(self.DEFAULT_STALE_DAYS),
        }
        given = {name: query[name] for name in defaults if query.get(name, "").strip()}
        super().__init__({**defaults, **given})
        self.fields["workspace"].choices = [(choice.slug, choice.name) for choice in workspaces]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date comes before the start date.")
        elif start and end and (end - start).days >= self.MAX_DAYS:
            self.add_error("start", f"Choose a range of at most {self.MAX_DAYS} days.")
        return cleaned


class GapFilterForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Questions of the last",
        choices=[(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "year")],
        coerce=int,
        initial=30,
    )


class GapArticleForm(forms.Form):
    """An article for a gap's questions: the questions travel as hidden fields, checked
    to be customers' questions of this workspace."""

    title = forms.CharField(max_length=200)
    body = forms.CharField(
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown. Check it holds no customer's personal data before publishing.",
    )
    knowledge_base = forms.ModelChoiceField(queryset=None, empty_label=None)
    as_test_cases = forms.BooleanField(
        required=False,
        initial=True,
        label="Keep these questions as test cases, answered from this article",
    )
    questions = forms.ModelMultipleChoiceField(queryset=None, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, workspace: Workspace, questions: QuerySet[Message], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["knowledge_base"].queryset = workspace.knowledge_bases.order_by("name")
        self.fields["questions"].queryset = questions
