import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.text import slugify

from accounts.timezones import time_zone_choices
from clubs.models import QUESTION_MAX, QUESTIONS_MAX, RULES_MAX, Club, Membership
from paperclub.fields import MultiLineField, OneLineField
from paperclub.text import one_line

RESERVED_SLUGS = {"new", "admin", "accounts", "static", "join"}


class QuestionsField(MultiLineField):
    """Discussion questions, one per line in a textarea, stored as a list of one-line texts."""

    def __init__(self, **kwargs):
        super().__init__(max_length=QUESTIONS_MAX * (QUESTION_MAX + 1), **kwargs)
        self.validators = []  # the list is checked in validate(), question by question

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        return [line for line in map(one_line, text.split("\n")) if line]

    def validate(self, value):
        if not value:
            raise forms.ValidationError("Give at least one question for the notes.")
        if len(value) > QUESTIONS_MAX:
            raise forms.ValidationError("Eight questions at most.")
        if any(len(q) > QUESTION_MAX for q in value):
            raise forms.ValidationError("Each question must be 120 characters or fewer.")


class ClubForm(forms.ModelForm):
    # A TextField has no max_length for the form to take: the limit is given here.
    rules = MultiLineField(
        max_length=RULES_MAX,
        rows=5,
        required=False,
        label="How the club runs",
        help_text="Markdown. How the club runs: what to read before, how the vote works…",
    )
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        initial="UTC",
        label="Time zone",
        help_text="The meeting time is in this zone; each member also sees times in their own.",
    )
    discussion_questions = QuestionsField(
        label="Discussion questions",
        help_text="One per line. Notes after each session are written under these.",
    )

    class Meta:
        model = Club
        fields = [
            "name",
            "slug",
            "description",
            "rules",
            "time_zone",
            "meeting_weekday",
            "meeting_time",
            "meeting_duration",
            "place_name",
            "place_url",
            "discussion_questions",
            "visibility",
            "joining",
            "webhook_url",
        ]
        # The input rule for the one-line texts; their lengths come from the model.
        field_classes = {
            "name": OneLineField,
            "description": OneLineField,
            "place_name": OneLineField,
        }
        widgets = {
            "meeting_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "visibility": forms.RadioSelect,
            "joining": forms.RadioSelect,
        }
        labels = {
            "name": "Name",
            "slug": "Web address",
            "description": "Short description",
            "meeting_weekday": "Meeting day",
            "meeting_time": "Meeting time",
            "meeting_duration": "Length of a session (minutes)",
            "place_name": "Where you meet",
            "place_url": "Meeting link",
            "visibility": "Who can see the club",
            "joining": "Who can join",
            "webhook_url": "Discord or Slack webhook",
        }
        help_texts = {
            "description": "One or two sentences, shown on the club page and in the list of clubs.",
            "place_name": "A room, or the call's name, e.g. “Discord · #paper-club voice”.",
            "slug": "The end of the club's link, /c/your-club/: letters, digits and hyphens. "
            "Leave empty to make it from the name.",
            "meeting_time": "In the club's time zone.",
            "meeting_duration": "From 5 to 600 minutes.",
            "place_url": "The video call or voice channel members open to join, if there is one.",
            "webhook_url": "Optional. In Discord: Channel settings → Integrations → Webhooks; "
            "in Slack: an incoming webhook. Polls closing and session changes are posted there.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        if not self.initial.get("discussion_questions") and not self.instance.pk:
            self.initial["discussion_questions"] = ["Big Idea", "Relevance", "Open Questions"]

    def clean_meeting_duration(self):
        minutes = self.cleaned_data["meeting_duration"]
        if not 5 <= minutes <= 600:
            raise forms.ValidationError("A session lasts between 5 and 600 minutes.")
        return minutes

    def clean_slug(self):
        slug = self.cleaned_data.get("slug") or slugify(self.cleaned_data.get("name", ""))[:60]
        if not slug:
            raise forms.ValidationError("Give the club an address made of letters and digits.")
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError("That address is reserved; pick another.")
        taken = Club.objects.filter(slug=slug).exclude(pk=self.instance.pk).exists()
        if taken:
            raise forms.ValidationError("Another club already uses this address.")
        return slug


class InviteForm(forms.Form):
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        label="Expires after (days)",
        help_text="Leave empty for a link that does not expire.",
    )
    max_uses = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10000,
        label="Use limit",
        help_text="Leave empty for unlimited uses.",
    )

    def expires_at(self) -> dt.datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + dt.timedelta(days=days) if days else None


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=[("organizer", "Organizer"), ("member", "Member")],
        label="Role",
        help_text="Organizers schedule sessions, run polls and post notes.",
    )


class NotificationsForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["reminders", "poll_emails", "notes_emails"]
        widgets = {"reminders": forms.RadioSelect}
        labels = {
            "reminders": "Session reminders",
            "poll_emails": "Emails about polls",
            "notes_emails": "Emails when notes are posted",
        }
