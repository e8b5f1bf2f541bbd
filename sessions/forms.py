import datetime as dt

from django import forms

from paperclub.fields import MultiLineField, OneLineField
from paperclub.validators import plausible_moment
from papers.models import Suggestion
from sessions.models import NOTES_MAX, Meeting


class MeetingForm(forms.Form):
    """Schedule or move a session. Times are in the club's time zone (the view activates it)."""

    suggestions = forms.ModelMultipleChoiceField(
        queryset=Suggestion.objects.none(),
        label="Papers",
        widget=forms.CheckboxSelectMultiple,
        help_text="Usually one; a session may cover several.",
    )
    source = forms.ChoiceField(
        choices=[
            (Meeting.Source.ORGANIZER, "Scheduled by an organizer"),
            (Meeting.Source.PICK, "A volunteer presenter's pick (bypasses the vote)"),
        ],
        initial=Meeting.Source.ORGANIZER,
        label="How the paper was chosen",
        widget=forms.RadioSelect,
    )
    starts_at = forms.DateTimeField(
        label="Starts",
        validators=[plausible_moment],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration = forms.IntegerField(min_value=5, max_value=600, label="Duration (minutes)")
    place_name = OneLineField(
        max_length=Meeting._meta.get_field("place_name").max_length,
        required=False,
        label="Where",
        help_text="A room, or the call's name. The club's usual place is filled in.",
    )
    place_url = forms.URLField(
        required=False,
        label="Meeting link",
        help_text="The video call or voice channel for this session, if there is one.",
        assume_scheme="https",
    )
    presenters = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, club, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import User

        self.fields["presenters"].queryset = User.objects.filter(memberships__club=club).order_by(
            "display_name"
        )
        self.fields["presenters"].label_from_instance = str
        if editing:
            del self.fields["suggestions"]
            del self.fields["source"]
        else:
            self.fields["suggestions"].queryset = (
                Suggestion.objects.filter(club=club, state=Suggestion.State.OPEN)
                .select_related("paper")
                .order_by("paper__title")
            )
            self.fields["suggestions"].label_from_instance = lambda s: s.display_title

    def slot(self) -> dict:
        """When, how long, where and who: what scheduling and editing both take."""
        data = self.cleaned_data
        return {
            "starts_at": data["starts_at"],
            "duration": dt.timedelta(minutes=data["duration"]),
            "place_name": data["place_name"],
            "place_url": data["place_url"],
            "presenters": data["presenters"],
        }


class NotesForm(forms.Form):
    """One Markdown field per discussion question, one takeaway per paper."""

    def __init__(self, *args, questions: list[str], suggestions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for i, question in enumerate(questions):
            self.fields[f"q{i}"] = MultiLineField(
                label=question,
                required=False,
                max_length=NOTES_MAX,
                rows=6,
                help_text="Markdown.",
            )
        self.suggestions = list(suggestions)
        for suggestion in self.suggestions:
            self.fields[f"takeaway{suggestion.pk}"] = OneLineField(
                label=f"One-line takeaway: {suggestion.display_title}",
                required=False,
                max_length=200,
                initial=suggestion.takeaway,
                help_text="The “X is all you need” line shown in the timeline.",
            )

    def question_fields(self):
        return [self[f"q{i}"] for i in range(len(self.questions))]

    def takeaway_fields(self):
        return [self[f"takeaway{s.pk}"] for s in self.suggestions]

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"q{i}", "").strip() for i in range(len(self.questions))):
            raise forms.ValidationError("Write something under at least one question.")
        return cleaned

    def bodies(self) -> list[str]:
        return [self.cleaned_data[f"q{i}"] for i in range(len(self.questions))]

    def takeaways(self) -> dict[int, str]:
        return {s.pk: self.cleaned_data[f"takeaway{s.pk}"] for s in self.suggestions}


class MaterialsForm(forms.Form):
    """One link per kind, plus any number of further-reading links."""

    slides = forms.URLField(required=False, max_length=500, assume_scheme="https")
    recording = forms.URLField(required=False, max_length=500, assume_scheme="https")
    chat = forms.URLField(required=False, max_length=500, assume_scheme="https", label="Chat log")
    code = forms.URLField(required=False, max_length=500, assume_scheme="https")
    reading = MultiLineField(
        required=False,
        label="Further reading",
        help_text="One link per line.",
        max_length=5000,
    )
    recorded = forms.BooleanField(required=False, label="The session was recorded")

    SINGLE = ("slides", "recording", "chat", "code")

    def __init__(self, *args, meeting, **kwargs):
        existing = list(meeting.materials.all())
        initial = {m.kind: m.url for m in existing if m.kind in self.SINGLE}
        initial["reading"] = "\n".join(m.url for m in existing if m.kind == "reading")
        initial["recorded"] = meeting.recorded
        super().__init__(*args, initial=initial, **kwargs)

    def clean_reading(self):
        field = forms.URLField(max_length=500, assume_scheme="https")
        urls = []
        for line in self.cleaned_data["reading"].splitlines():
            if line.strip():
                try:
                    urls.append(field.clean(line.strip()))
                except forms.ValidationError:
                    raise forms.ValidationError(
                        f"“{line.strip()[:80]}” is not a web link."
                    ) from None
        if len(urls) > 20:
            raise forms.ValidationError("Twenty links at most.")
        return urls

    def links(self) -> list[tuple[str, str, str]]:
        data = self.cleaned_data
        links = [(kind, data[kind], "") for kind in self.SINGLE if data.get(kind)]
        return links + [("reading", url, "") for url in data["reading"]]


class AttendanceForm(forms.Form):
    attended = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Who came"
    )

    def __init__(self, *args, meeting, rsvps=None, **kwargs):
        super().__init__(*args, **kwargs)
        from clubs.models import Membership

        field = self.fields["attended"]
        field.queryset = Membership.objects.filter(club=meeting.club_id).select_related("user")
        field.label_from_instance = lambda m: str(m.user)
        rsvps = list(meeting.rsvps.all()) if rsvps is None else rsvps
        field.initial = [r.membership_id for r in rsvps if r.attended] or [
            r.membership_id for r in rsvps if r.answer == "going"
        ]
