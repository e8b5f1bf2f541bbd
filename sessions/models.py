import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from paperclub.text import length_limit

NOTES_MAX = 20_000  # characters of Markdown under one discussion question


class MeetingQuerySet(models.QuerySet):
    def with_later_start(self, now=None):
        """`later_started`: whether another session of the club, not cancelled, started
        after this one and before now (so this one is not the club's latest)."""
        later = Meeting.objects.filter(
            club=OuterRef("club"),
            starts_at__gt=OuterRef("starts_at"),
            starts_at__lte=now or timezone.now(),
        ).exclude(state=Meeting.State.CANCELLED)
        return self.annotate(later_started=models.Exists(later))

    def upcoming(self, now=None):
        """Scheduled sessions not yet more than a day in the past, soonest first."""
        since = (now or timezone.now()) - dt.timedelta(days=1)
        return self.filter(state=Meeting.State.SCHEDULED, starts_at__gte=since).order_by(
            "starts_at", "id"
        )

    def timeline(self):
        """Held and scheduled sessions, newest first, with their papers and materials loaded."""
        from papers.models import Suggestion

        return (
            self.exclude(state=Meeting.State.CANCELLED)
            .order_by("-starts_at", "-id")
            .select_related("club")
            .prefetch_related(
                Prefetch("suggestions", queryset=Suggestion.objects.select_related("paper")),
                "materials",
            )
        )

    def of_member(self, user):
        return self.filter(club__memberships__user=user)

    def with_my_rsvp(self, user):
        """`my_rsvp`: `user`'s answer for each session ("" when they have not answered)."""
        answer = Rsvp.objects.filter(meeting=OuterRef("pk"), membership__user=user).values(
            "answer"
        )[:1]
        return self.annotate(my_rsvp=Coalesce(Subquery(answer), Value("")))

    def with_notes(self):
        """Sessions whose notes are posted, latest notes first."""
        return self.filter(notes_posted_at__isnull=False).order_by("-notes_posted_at", "-id")

    def with_titles(self):
        """The club and the papers (for their titles): what a list of sessions shows."""
        from papers.models import Suggestion

        return self.select_related("club").prefetch_related(
            Prefetch("suggestions", queryset=Suggestion.objects.select_related("paper"))
        )

    def with_papers(self):
        from papers.models import Suggestion

        return self.select_related("club").prefetch_related(
            Prefetch("suggestions", queryset=Suggestion.objects.select_related("paper")),
            "presenters",
        )


class Meeting(models.Model):
    """One weekly session of a club, numbered #1, #2, … within the club."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        VOTE = "vote", "Chosen by the club's vote"
        PICK = "pick", "Presenter's pick"
        ORGANIZER = "organizer", "Scheduled by an organizer"

    club = models.ForeignKey("clubs.Club", on_delete=models.CASCADE, related_name="meetings")
    number = models.PositiveIntegerField()
    suggestions = models.ManyToManyField(
        "papers.Suggestion", related_name="meetings", verbose_name="papers"
    )
    starts_at = models.DateTimeField()
    duration = models.DurationField(default=dt.timedelta(hours=1))
    place_name = models.CharField(max_length=120, blank=True)
    place_url = models.URLField(blank=True)
    presenters = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="presented_meetings"
    )
    state = models.CharField(max_length=10, choices=State, default=State.SCHEDULED)
    source = models.CharField(max_length=10, choices=Source, default=Source.ORGANIZER)
    poll = models.OneToOneField(
        "papers.Poll", null=True, blank=True, on_delete=models.SET_NULL, related_name="meeting"
    )
    recorded = models.BooleanField(default=False, help_text="Was the session recorded?")
    # RFC 5545 SEQUENCE: raised on every change, so calendars update the event in place.
    sequence = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    notes_posted_at = models.DateTimeField(null=True, blank=True)
    notes_posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Takeaways of notes saved as a draft (paper id -> line); they reach the papers on publishing.
    draft_takeaways = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["club", "number"], name="meetings_meeting_number_per_club"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="meetings_meeting_number_positive"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["scheduled", "held", "cancelled"]),
                name="meetings_meeting_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(duration__gte=dt.timedelta(minutes=5))
                & Q(duration__lte=dt.timedelta(hours=10)),
                name="meetings_meeting_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.club} #{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("meetings:detail", args=[self.club.slug, self.number])

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + self.duration

    @property
    def duration_minutes(self) -> int:
        return int(self.duration.total_seconds() // 60)

    @property
    def has_notes(self) -> bool:
        return self.notes_posted_at is not None

    def presented_by(self, user) -> bool:
        return user.is_authenticated and any(p.pk == user.pk for p in self.presenters.all())

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def rsvp_open(self) -> bool:
        """Members may say whether they come until the session ends: published notes mark
        it held from its start, but latecomers still answer while it runs."""
        return self.state != self.State.CANCELLED and timezone.now() < self.ends_at


class SkippedWeek(models.Model):
    """A week the club does not meet (a holiday). The weekly slot itself stays."""

    club = models.ForeignKey("clubs.Club", on_delete=models.CASCADE, related_name="skipped_weeks")
    day = models.DateField(help_text="The slot's date in the club's time zone.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["club", "day"], name="meetings_skippedweek_once_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.club}: no session on {self.day}"


class SentEmail(models.Model):
    """One email sent to one member, keyed so that it is never sent twice.

    `key` names what it was about, e.g. "reminder:<session>:<start time>": a moved
    session gets a new key, so its reminder follows the new time.
    """

    membership = models.ForeignKey(
        "clubs.Membership", on_delete=models.CASCADE, related_name="sent_emails"
    )
    key = models.CharField(max_length=120)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "key"], name="meetings_sentemail_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} to {self.membership_id}"


class Material(models.Model):
    """A labeled link of a session: slides, recording, chat log, code, further reading."""

    class Kind(models.TextChoices):
        SLIDES = "slides", "Slides"
        RECORDING = "recording", "Recording"
        CHAT = "chat", "Chat log"
        CODE = "code", "Code"
        READING = "reading", "Further reading"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(max_length=10, choices=Kind)
    url = models.URLField(max_length=500)
    label = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["slides", "recording", "chat", "code", "reading"]),
                name="meetings_material_kind_valid",
            ),
            models.UniqueConstraint(fields=["meeting", "url"], name="meetings_material_unique_url"),
        ]

    def __str__(self) -> str:
        return self.label or self.get_kind_display()

    @property
    def title(self) -> str:
        return self.label or self.get_kind_display()


class Rsvp(models.Model):
    """A member's answer for one session, and (afterwards) whether they attended."""

    class Answer(models.TextChoices):
        GOING = "going", "Going"
        MAYBE = "maybe", "Maybe"
        NOT_GOING = "no", "Not going"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="rsvps")
    membership = models.ForeignKey(
        "clubs.Membership", on_delete=models.CASCADE, related_name="rsvps"
    )
    answer = models.CharField(max_length=10, choices=Answer, blank=True)
    attended = models.BooleanField(null=True, blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "membership"], name="meetings_rsvp_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(answer__in=["", "going", "maybe", "no"]),
                name="meetings_rsvp_answer_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership.user}: {self.answer or '—'} for {self.meeting}"


class NoteSection(models.Model):
    """The notes under one discussion question. `html` is the sanitized rendering of `body`."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="note_sections")
    position = models.PositiveSmallIntegerField()
    question = models.CharField(max_length=120)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "position"], name="meetings_notesection_one_per_position"
            ),
            length_limit("body", NOTES_MAX, name="meetings_notesection_body_length"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.question}"


class EmailFailure(models.Model):
    """A club email the mail server did not take, kept so the club's organizers see it on
    the emails page (the worker retries it; a log line alone reaches nobody)."""

    club = models.ForeignKey("clubs.Club", on_delete=models.CASCADE, related_name="email_failures")
    key = models.CharField(max_length=120)
    subject = models.CharField(max_length=300)
    error = models.CharField(max_length=500)
    failed = models.PositiveIntegerField(help_text="Members this attempt could not reach.")
    failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-failed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.key}: {self.error}"


def new_personal_feed_token() -> str:
    return secrets.token_urlsafe(24)


class PersonalFeed(models.Model):
    """A member's own calendar of every session of all their clubs, private ones included.

    Calendar apps carry no cookies, so the secret token in the URL is the credential;
    resetting it gives a new one and the old URL stops working.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_personal_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar of {self.user}"
