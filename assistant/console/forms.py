from django import forms
from django.conf import settings

from assistant.console.selectors import canned_replies
from assistant.conversations.console_rows import Show
from assistant.models import CannedReply, Workspace


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


class ConsoleListForm(forms.Form):
    """The list's filter and words; anything unknown falls back to the waiting list."""

    show = forms.ChoiceField(choices=[(show.value, show.value) for show in Show], required=False)
    text = forms.CharField(required=False, max_length=200, label="Words in the conversation")

    def filters(self) -> tuple[Show, str]:
        if not self.is_valid():
            return Show.WAITING, ""
        return Show(self.cleaned_data["show"] or Show.WAITING), self.cleaned_data["text"]


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["shortcut", "title", "body"]
        help_texts = {"shortcut": "Agents type / and this in the reply box, e.g. /refund-window."}
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_shortcut(self) -> str:
        """Unique in the workspace (the model form cannot check it: the workspace is not a
        field)."""
        shortcut = self.cleaned_data["shortcut"].lower().removeprefix("/")
        taken = canned_replies(workspace=self.workspace).filter(shortcut=shortcut)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"/{shortcut} is already a canned reply here.")
        return shortcut
