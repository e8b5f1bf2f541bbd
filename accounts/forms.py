from django import forms

from accounts.models import User
from accounts.timezones import time_zone_choices


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        label="Your time zone",
        help_text="Session times and dates are shown in it, with each club's own time beside.",
    )

    class Meta:
        model = User
        fields = ["display_name", "time_zone"]
        labels = {"display_name": "Your name"}
        help_texts = {"display_name": "What other members see next to your suggestions and votes."}

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError("Give a name other members will see.")
        return name
