from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import SetPasswordForm

from assistant.models import Membership
from assistant.people.members import member_password_reset

# The invited address becomes the new login's username: no longer than a username may be.
EMAIL_MAX = 150


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=EMAIL_MAX)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class JoinForm(forms.Form):
    """A new person's login: their name, and a password Django's validators accept."""

    name = forms.CharField(label="Your name", max_length=150)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password1")
        if password and password != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif password:
            try:
                # An unsaved user: the validators compare the password with its fields.
                candidate = get_user_model()(
                    username=self.email, email=self.email, first_name=cleaned.get("name", "")
                )
                password_validation.validate_password(password, user=candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class WorkspaceForm(forms.Form):
    name = forms.CharField(label="Company name", max_length=200)
    admin_email = forms.EmailField(label="Its first admin's e-mail address", max_length=EMAIL_MAX)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not any(character.isalnum() for character in name):
            raise forms.ValidationError("Give the company's name in letters or digits.")
        return name


class PasswordResetSetForm(SetPasswordForm):
    """Django's new-password form for the e-mailed link, saved with its audit events."""

    def save(self, commit=True):
        member_password_reset(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user
