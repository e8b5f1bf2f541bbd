import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone


class MeetingQuerySet(models.QuerySet):
    def upcoming(self, now=None):
        """Scheduled sessions not yet more than a day in the past, soonest first."""
        since = (now or timezone.now()) - dt.timedelta(days=1)
        return self.filter(state=Meeting.State.SCHEDULED, starts_at__gte=since).order_by(
            "starts_at", "id"
        )

    def timeline(self):
        """Held and scheduled sessions, newest first, with their papers loaded."""
        return (
            self.exclude(state=Meeting.State.CANCELLED).order_by("-starts_at", "-id").with_papers()
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
    notes_posted_at = models.DateTimeField(null=True, blank=True)
    notes_posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
    def has_notes(self) -> bool:
        return self.notes_posted_at is not None


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
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.question}"
