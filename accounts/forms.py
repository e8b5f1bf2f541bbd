from django import forms

from accounts.models import User
from accounts.timezones import time_zone_choices
from paperclub.fields import OneLineField


class ProfileForm(forms.ModelForm):
    display_name = OneLineField(
        max_length=80,
        required=False,
        help_text="How other members see you. Your email stays private.",
    )
    time_zone = forms.ChoiceField(choices=time_zone_choices)

    class Meta:
        model = User
        fields = ["display_name", "time_zone"]

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError("Give a name other members will see.")
        return name
