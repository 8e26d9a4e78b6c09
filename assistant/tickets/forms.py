from django import forms

from assistant.models import NotificationPreference


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["by_email", "after_minutes"]
        labels = {
            "by_email": "E-mail me when a customer waits and nobody is online in the console",
            "after_minutes": "After how many minutes of waiting",
        }
