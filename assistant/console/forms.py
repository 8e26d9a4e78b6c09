from django import forms
from django.conf import settings

from assistant.models import (
    Conversation,
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
