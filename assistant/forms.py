from django import forms

from assistant.models import AuditEvent, Workspace
from assistant.origins import origin_of

MAX_AVATAR_BYTES = 512 * 1024


class WidgetSettingsForm(forms.ModelForm):
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One site per line, e.g. https://www.example.com. Keel's own pages always work.",
    )

    class Meta:
        model = Workspace
        fields = ["greeting", "brand_colour", "avatar", "allowed_origins"]
        widgets = {"brand_colour": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["allowed_origins"] = "\n".join(self.instance.allowed_origins)

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


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All kinds"), *AuditEvent.Kind.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
