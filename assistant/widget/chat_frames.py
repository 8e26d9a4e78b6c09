"""The chat socket's frames that store something (feedback, the customer's e-mail for a
ticket, a rating of a person's help), validated by forms as an HTTP post would be: a bad
frame gets the form's first error as a notice, and nothing is stored."""

from django import forms

from assistant.models import Feedback

MAX_COMMENT_CHARS = 2000
ANSWER_NOT_FOUND = "That answer could not be found."


class FrameForm(forms.Form):
    """A form over a frame's fields read as text; those sent as another JSON type (a list,
    an object) are `unreadable`, and invalid even where the field is optional."""

    def __init__(self, *, fields: dict[str, str], unreadable: set[str]):
        super().__init__(fields)
        self.unreadable = unreadable

    def clean(self):
        for name in sorted(self.unreadable):
            self.add_error(name, self.fields[name].error_messages["invalid"])
        return self.cleaned_data


class FeedbackFrameForm(FrameForm):
    message_id = forms.IntegerField(
        min_value=1,
        max_value=2**63 - 1,  # PostgreSQL's bigint
        error_messages={
            key: ANSWER_NOT_FOUND for key in ("required", "invalid", "min_value", "max_value")
        },
    )
    rating = forms.ChoiceField(
        choices=Feedback.Rating.choices,
        error_messages={
            key: "Choose thumbs up or thumbs down."
            for key in ("required", "invalid", "invalid_choice")
        },
    )
    comment = forms.CharField(
        required=False,
        max_length=MAX_COMMENT_CHARS,
        error_messages={
            "max_length": f"Please keep your comment under {MAX_COMMENT_CHARS:,} characters.",
            "invalid": "That comment could not be read. Please write it again.",
        },
    )


class TicketFrameForm(FrameForm):
    email = forms.EmailField(
        error_messages={
            key: "That doesn't look like an e-mail address. Please check it."
            for key in ("required", "invalid", "max_length")
        },
    )


class CsatFrameForm(FrameForm):
    rating = forms.IntegerField(
        min_value=1,
        max_value=5,
        error_messages={
            key: "Choose a rating from 1 to 5."
            for key in ("required", "invalid", "min_value", "max_value")
        },
    )


def form_first_error(form: forms.Form) -> str:
    """What the customer reads: one problem at a time, in the fields' order."""
    return next(message for errors in form.errors.values() for message in errors)
