from django import forms

from assistant.models import (
    Workspace,
)
from assistant.rails.contacts import contact_detail_read, domain_read
from assistant.widget.origins import origin_of

MAX_AVATAR_BYTES = 512 * 1024
# A few buttons fit above the composer on a phone; longer lists would push the greeting away.
MAX_SUGGESTED_QUESTIONS = 4
MAX_SUGGESTED_QUESTION_CHARS = Workspace._meta.get_field(
    "suggested_questions"
).base_field.max_length


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
    suggested_questions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Up to {MAX_SUGGESTED_QUESTIONS} questions, one per line, offered as buttons "
        "when a customer opens the chat (until they write), e.g. How do I return an item?",
    )

    class Meta:
        model = Workspace
        fields = [
            *["greeting", "brand_colour", "avatar", "allowed_origins"],
            *["suggested_questions", "domains", "contact_details"],
        ]
        widgets = {"brand_colour": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("allowed_origins", "suggested_questions", "domains", "contact_details"):
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

    def clean_suggested_questions(self) -> list[str]:
        questions = list(dict.fromkeys(_lines(self.cleaned_data["suggested_questions"])))
        if len(questions) > MAX_SUGGESTED_QUESTIONS:
            raise forms.ValidationError(
                f"Keep it to {MAX_SUGGESTED_QUESTIONS} questions; this has {len(questions)}."
            )
        for question in questions:
            if len(question) > MAX_SUGGESTED_QUESTION_CHARS:
                raise forms.ValidationError(
                    f"“{question[:40]}…” is {len(question)} characters long; "
                    f"keep each to {MAX_SUGGESTED_QUESTION_CHARS} or fewer."
                )
        return questions

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
