from django import forms

from assistant.models import NotificationPreference


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["by_email", "in_browser", "after_minutes"]
        labels = {
            "by_email": "E-mail me when a customer waits and nobody is online in the console",
            "in_browser": "Notify me in this browser when a customer waits while the console "
            "is open in a background tab",
            "after_minutes": "After how many minutes of waiting",
        }
