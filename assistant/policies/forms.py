from django import forms
from django.conf import settings

from assistant.models import (
    PERSONAL_DATA_KINDS,
    PolicyVersion,
)
from assistant.rails.intents import INTENT_CHOICES
from assistant.rails.not_support import TOPIC_CHOICES
from assistant.rails.policy_rules import rules_problems


class PolicyForm(forms.ModelForm):
    builtin_rules_off = forms.MultipleChoiceField(
        choices=[("Escalation rules", INTENT_CHOICES), ("Refused topics", TOPIC_CHOICES)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Built-in rules switched off",
        help_text="Tick a rule to stop it handing conversations to a person, or a topic to "
        "stop it being refused. What each one looks for is listed below.",
    )
    personal_data_kinds = forms.MultipleChoiceField(
        choices=PERSONAL_DATA_KINDS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Personal data to redact",
    )

    class Meta:
        model = PolicyVersion
        fields = PolicyVersion.CONTENT_FIELDS
        widgets = {
            "persona": forms.Textarea(attrs={"rows": 2}),
            "tone": forms.Textarea(attrs={"rows": 2}),
            "topics_in_scope": forms.Textarea(attrs={"rows": 4}),
            "topics_refused": forms.Textarea(attrs={"rows": 6}),
            "banned_phrases": forms.Textarea(attrs={"rows": 3}),
            "competitors": forms.Textarea(attrs={"rows": 3}),
            "escalation_rules": forms.Textarea(attrs={"rows": 6}),
            "confidence_threshold": forms.NumberInput(attrs={"step": "0.01"}),
        }

    # The editor's sections (templates/policy/_editor.html), each a fieldset: every
    # content field in exactly one, in the order an admin thinks about them.
    SECTIONS = (
        ("Voice", "How the assistant speaks, and what it never says.",
         ["assistant_name", "persona", "tone", "banned_phrases", "competitors"]),
        ("Scope", "What it helps with, and what it declines.",
         ["topics_in_scope", "topics_refused"]),
        ("Rules", "When a conversation goes to a person.",
         ["escalation_rules", "builtin_rules_off"]),
        ("Personal data", "What is redacted, and how long things are kept.",
         ["personal_data_kinds", "personal_data_retention_days", "transcript_retention_days"]),
        ("Safety", "What happens to an attack or to an answer that breaks a rule.",
         ["injection_action", "violation_action"]),
        ("Limits", "How sure and how long an answer may be.",
         ["confidence_threshold", "answer_max_words"]),
    )  # fmt: skip

    def sections(self) -> list[tuple[str, str, list]]:
        return [
            (title, about, [self[name] for name in names]) for title, about, names in self.SECTIONS
        ]

    def clean_topics_refused(self) -> str:
        return _rules_checked(self.cleaned_data["topics_refused"])

    def clean_escalation_rules(self) -> str:
        return _rules_checked(self.cleaned_data["escalation_rules"])


def _rules_checked(text: str) -> str:
    problems = rules_problems(text)
    if problems:
        raise forms.ValidationError(problems)
    return text


class SandboxQuestionForm(forms.Form):
    message = forms.CharField(
        max_length=settings.KEEL_MAX_MESSAGE_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Ask as a customer would"}),
    )


class PublishForm(forms.Form):
    override_reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why publish despite failing critical cases?",
    )
