from datetime import date, timedelta
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.http import QueryDict

from assistant.models import (
    PERSONAL_DATA_KINDS,
    AuditEvent,
    Conversation,
    EvalRun,
    Message,
    PolicyVersion,
    Workspace,
)
from assistant.origins import origin_of
from assistant.policy_rules import rules_problems
from assistant.rails.contacts import contact_detail_read, domain_read
from assistant.rails.intents import INTENT_CHOICES
from assistant.rails.not_support import TOPIC_CHOICES
from knowledge.models import Document, KnowledgeBase, WebsiteSource
from knowledge.website_fetch import address_problem, url_problem

MAX_AVATAR_BYTES = 512 * 1024
MAX_CASES_FILE_BYTES = 5_000_000  # some ten thousand cases


class WidgetSettingsForm(forms.ModelForm):
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One site per line, e.g. https://www.example.com. Keel's own pages always work.",
    )
    domains = forms.CharField(
        label="Your web domains",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line, e.g. example.com: answers may give addresses on these and "
        "their subdomains (help.example.com), and on the sites above.",
    )
    contact_details = forms.CharField(
        label="Your e-mail addresses and phone numbers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. Answers give no other, except those on your domains and "
        "those your articles give (an outside address in two of them, a phone number in one).",
    )

    class Meta:
        model = Workspace
        fields = [
            *["greeting", "brand_colour", "avatar", "allowed_origins"],
            *["domains", "contact_details"],
        ]
        widgets = {"brand_colour": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("allowed_origins", "domains", "contact_details"):
            self.initial[name] = "\n".join(getattr(self.instance, name))

    def clean_domains(self) -> list[str]:
        domains = []
        for line in _lines(self.cleaned_data["domains"]):
            domain = domain_read(text=line)
            if domain is None:
                raise forms.ValidationError(f"“{line}” is not a domain like example.com.")
            domains.append(domain.removeprefix("www."))
        return sorted(set(domains))

    def clean_contact_details(self) -> list[str]:
        lines = _lines(self.cleaned_data["contact_details"])
        for line in lines:
            if contact_detail_read(text=line) is None:
                raise forms.ValidationError(
                    f"“{line}” is not one e-mail address or phone number, like "
                    "help@example.com or +1 555 010 4400."
                )
        return list(dict.fromkeys(lines))

    def clean_allowed_origins(self) -> list[str]:
        origins = []
        for line in self.cleaned_data["allowed_origins"].splitlines():
            if not line.strip():
                continue
            origin = origin_of(line)
            if not origin:
                raise forms.ValidationError(
                    f"“{line.strip()}” is not a web address like https://www.example.com."
                )
            origins.append(origin)
        return sorted(set(origins))

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and avatar.size > MAX_AVATAR_BYTES:
            raise forms.ValidationError("Use an image under 512 KB.")
        return avatar


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All kinds"), *AuditEvent.Kind.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


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


class PolicyForm(forms.ModelForm):
    builtin_rules_off = forms.MultipleChoiceField(
        choices=[("Escalation rules", INTENT_CHOICES), ("Refused topics", TOPIC_CHOICES)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Built-in rules switched off",
        help_text="Tick a rule to stop it handing conversations to a person, or a topic to "
        "stop it being refused. What each one looks for is listed under the form.",
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


class ReplyForm(forms.Form):
    text = forms.CharField(
        max_length=settings.KEEL_MAX_MESSAGE_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reply to the customer",
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        max_length=4000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Internal note (staff only)",
    )


class ConsoleSearchForm(forms.Form):
    text = forms.CharField(required=False, max_length=200, label="Words in the conversation")
    state = forms.ChoiceField(
        choices=[("", "Any state"), *Conversation.State.choices], required=False
    )


class EvaluationStartForm(forms.Form):
    suite = forms.ChoiceField(choices=EvalRun.Suite.choices, initial=EvalRun.Suite.ALL)
    policy = forms.ChoiceField(
        choices=[("live", "The version in force"), ("draft", "The draft being edited")],
        initial="live",
    )
    judged = forms.BooleanField(
        required=False,
        label="Also score faithfulness with the LLM (LLM-as-judge)",
        help_text="A model's opinion, shown apart from the measured figures.",
    )


class CasesImportForm(forms.Form):
    file = forms.FileField(
        label="Test cases (JSON lines)",
        help_text="One JSON object per line, as the export writes them. All or nothing.",
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CASES_FILE_BYTES:
            raise forms.ValidationError(f"The file is over {MAX_CASES_FILE_BYTES // 1_000_000} MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError("The file is not UTF-8 text.") from error


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


class DocumentDatesForm(forms.ModelForm):
    """A document's dates as an admin sets them; each may be left empty."""

    class Meta:
        model = Document
        fields = ["effective_date", "valid_from", "valid_until"]
        labels = {
            "effective_date": "Effective date",
            "valid_from": "Applies from",
            "valid_until": "Applies until",
        }
        help_texts = {
            "effective_date": "Of two documents saying the same thing, the newer one is used.",
            "valid_from": "For a temporary notice: not used before this day.",
            "valid_until": "For a temporary notice: not used after this day.",
        }
        widgets = {
            name: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d") for name in fields
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and start > end:
            self.add_error("valid_until", "The notice cannot end before it starts.")
        return cleaned


class WebsiteSourceForm(forms.ModelForm):
    """A website to pull into a knowledge base: refused at once if Keel may not fetch it."""

    start_url = forms.URLField(
        label="Address",
        max_length=1000,
        assume_scheme="https",
        help_text="The sitemap (https://example.com/sitemap.xml) or a start page.",
    )
    page_cap = forms.IntegerField(
        label="At most this many pages", min_value=1, max_value=2000, initial=200
    )

    class Meta:
        model = WebsiteSource
        fields = [
            "start_url",
            "kind",
            "include_patterns",
            "exclude_patterns",
            "schedule",
            "page_cap",
        ]
        labels = {
            "kind": "It is",
            "include_patterns": "Only pages whose path matches",
            "exclude_patterns": "Leave out pages whose path matches",
            "schedule": "Sync again",
        }
        help_texts = {
            "include_patterns": "One path pattern a line, such as /help/*; empty: every page.",
            "exclude_patterns": "One a line, such as /help/archive/*.",
        }
        widgets = {
            "include_patterns": forms.Textarea(attrs={"rows": 2}),
            "exclude_patterns": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, knowledge_base: KnowledgeBase, **kwargs):
        super().__init__(*args, **kwargs)
        self.knowledge_base = knowledge_base

    def clean_start_url(self) -> str:
        url = self.cleaned_data["start_url"].strip()
        problem = url_problem(url) or address_problem(
            urlsplit(url).hostname, allow_private=settings.KEEL_SYNC_ALLOW_PRIVATE
        )
        if problem:
            raise forms.ValidationError(problem)
        if WebsiteSource.objects.filter(knowledge_base=self.knowledge_base, start_url=url).exists():
            raise forms.ValidationError("This knowledge base already has this website.")
        return url

    def _clean_patterns(self, name: str) -> str:
        lines = [line.strip() for line in self.cleaned_data[name].splitlines() if line.strip()]
        wrong = [line for line in lines if not line.startswith(("/", "*"))]
        if wrong:
            raise forms.ValidationError(
                f"A pattern is a path starting with / or *, such as /help/*: not {wrong[0]!r}."
            )
        return "\n".join(lines)

    def clean_include_patterns(self) -> str:
        return self._clean_patterns("include_patterns")

    def clean_exclude_patterns(self) -> str:
        return self._clean_patterns("exclude_patterns")
