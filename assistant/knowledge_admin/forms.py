from django import forms

from knowledge.models import Document


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
