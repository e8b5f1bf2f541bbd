import datetime as dt

from django import forms
from django.utils import timezone

from paperclub.errors import RuleViolation
from paperclub.validators import plausible_moment
from papers.models import Suggestion
from papers.services import identify_paper


class SuggestForm(forms.Form):
    link = forms.CharField(
        max_length=500,
        label="arXiv ID or link",
        help_text="e.g. 2305.18290, arxiv.org/abs/1706.03762, or any link to the paper.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    title = forms.CharField(max_length=300, required=False)
    authors = forms.CharField(max_length=1000, required=False)
    year = forms.IntegerField(required=False, min_value=1900, max_value=2100)
    pitch = forms.CharField(
        max_length=500,
        label="Why read this?",
        help_text="One or two sentences for the club.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_link(self):
        link = self.cleaned_data["link"].strip()
        try:
            identify_paper(link)
        except RuleViolation as error:
            raise forms.ValidationError(error.message) from None
        return link

    def clean_pitch(self):
        pitch = self.cleaned_data["pitch"].strip()
        if not pitch:
            raise forms.ValidationError("Say in a sentence why the club should read this.")
        return pitch


class SuggestionEditForm(forms.ModelForm):
    """The pitch; the club's takeaway is the organizers' to write."""

    class Meta:
        model = Suggestion
        fields = ["pitch", "takeaway"]
        widgets = {"pitch": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, organizer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not organizer:
            del self.fields["takeaway"]


class PollForm(forms.Form):
    closes_at = forms.DateTimeField(
        required=False,
        validators=[plausible_moment],
        label="Voting closes",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the club's time zone. Leave empty to close it by hand.",
    )
    budget = forms.IntegerField(
        initial=3,
        min_value=1,
        max_value=50,
        label="Votes per member",
        help_text="Each member may vote for up to this many papers.",
    )
    show_live_results = forms.BooleanField(
        required=False,
        label="Show the counts while voting is open",
        help_text="Off by default, so early votes do not sway later ones.",
    )

    def clean_closes_at(self):
        closes_at = self.cleaned_data.get("closes_at")
        if closes_at is not None and closes_at <= timezone.now():
            raise forms.ValidationError("The closing time must be in the future.")
        return closes_at

    @staticmethod
    def default_closing(now: dt.datetime | None = None) -> dt.datetime:
        """Two days from the moment the form is shown, to the minute."""
        moment = (now or timezone.now()) + dt.timedelta(days=2)
        return moment.replace(second=0, microsecond=0)


class OverrideForm(forms.Form):
    suggestion = forms.ModelChoiceField(queryset=Suggestion.objects.none(), label="New winner")
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown on the result page, for the record.",
    )

    def __init__(self, *args, poll, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suggestion"].queryset = (
            Suggestion.objects.filter(tallies__poll=poll, state=Suggestion.State.OPEN)
            .select_related("paper")
            .order_by("tallies__rank")
        )
        self.fields["suggestion"].label_from_instance = lambda s: s.paper.title
