from urllib.parse import urlsplit

from django import forms
from django.conf import settings

from knowledge.models import Document, KnowledgeBase, WebsiteSource
from knowledge.website_fetch import address_problem, url_problem


class KnowledgeBaseNameForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=KnowledgeBase._meta.get_field("name").max_length,
        help_text="Such as Help center, or Internal procedures.",
    )


class QuestionTestForm(forms.Form):
    question = forms.CharField(
        label="Question",
        max_length=settings.KEEL_MAX_MESSAGE_CHARS,  # what a customer may send
        help_text="As a customer would ask it. Searches this knowledge base only; the "
        "assistant searches all of the workspace's.",
    )


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
