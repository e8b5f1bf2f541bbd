import re

from django import forms

from accounts.models import User, is_local_part, squash_name
from accounts.timezones import time_zone_choices
from paperclub.fields import OneLineField

# Anything shaped like an address (someone's, or one's own): "a@b.c", "x @ y . org".
EMAIL_LIKE = re.compile(r"[^\s@]+\s*@\s*[^\s@]+\s*\.\s*[^\s@]+")


def clean_name(value: str, email: str = "") -> str:
    """A display name as typed, trimmed; refused when blank or when it is the email's
    local part (which would show the address to everyone)."""
    name = squash_name(value)
    if not name:
        raise forms.ValidationError("Give a name other members will see.")
    if EMAIL_LIKE.search(name):
        raise forms.ValidationError(
            "A display name cannot be an email address: others would take it for one."
        )
    if is_local_part(name, email):
        raise forms.ValidationError(
            "That is the start of your email address; pick a name that does not reveal it."
        )
    return name


class SignupForm(forms.Form):
    """What allauth's sign-up forms (email and GitHub/Discord) ask besides the address:
    the name other members see. The account adapter stores it."""

    display_name = OneLineField(
        label="Display name",
        max_length=User._meta.get_field("display_name").max_length,
        error_messages={"required": "Give a name other members will see."},
        help_text="How other members see you, e.g. “Ana Lima”. Your email stays private.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    field_order = ["display_name", "email", "password1", "password2"]

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("display_name")
        if name is not None:
            try:
                cleaned["display_name"] = clean_name(name, cleaned.get("email") or "")
            except forms.ValidationError as error:
                self.add_error("display_name", error)
        return cleaned

    def signup(self, request, user) -> None:
        """allauth's hook after the account is saved; the adapter stored the name already."""


class ProfileForm(forms.ModelForm):
    display_name = OneLineField(
        max_length=User._meta.get_field("display_name").max_length,
        required=False,
        label="Your name",
        help_text="What other members see next to your suggestions and votes. "
        "Your email stays private.",
    )
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        label="Your time zone",
        help_text="Session times and dates are shown in it, with each club's own time beside.",
    )

    class Meta:
        model = User
        fields = ["display_name", "time_zone"]

    def clean_display_name(self):
        return clean_name(self.cleaned_data["display_name"], self.instance.email)
