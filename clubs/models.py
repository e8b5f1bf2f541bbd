import datetime as dt
import secrets
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.timezones import validate_time_zone
from paperclub import cache
from paperclub.text import length_limit

DEFAULT_QUESTIONS = ["Big Idea", "Relevance", "Open Questions"]
RULES_MAX = 20_000  # characters of Markdown; the form says so, the database holds to it
QUESTION_MAX = 120  # NoteSection.question
QUESTIONS_MAX = 8


def default_questions() -> list[str]:
    return list(DEFAULT_QUESTIONS)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class ClubQuerySet(models.QuerySet):
    def of_member(self, user):
        return self.filter(memberships__user=user)

    def with_member_counts(self):
        # A subquery, so the count stays right when the query also filters on memberships.
        counts = (
            Membership.objects.filter(club=models.OuterRef("pk"))
            .order_by()
            .values("club")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(member_count=Coalesce(models.Subquery(counts), 0))


class Club(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public — anyone may read sessions and notes"
        PRIVATE = "private", "Private — members only"

    class Joining(models.TextChoices):
        OPEN = "open", "Open — anyone signed in may join"
        INVITE = "invite", "By invite link only"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.CharField(max_length=300, blank=True)
    rules = models.TextField(blank=True, help_text="Markdown.")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    meeting_weekday = models.PositiveSmallIntegerField(choices=Weekday, default=Weekday.THURSDAY)
    meeting_time = models.TimeField(default=dt.time(18, 0), help_text="In the club's time zone.")
    meeting_duration = models.PositiveSmallIntegerField(default=60, help_text="Minutes.")
    place_name = models.CharField(
        max_length=120, blank=True, help_text="e.g. Discord #paper-club voice"
    )
    place_url = models.URLField(blank=True, help_text="Link to the voice channel or video call.")
    discussion_questions = models.JSONField(default=default_questions)
    webhook_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Optional. Discord or Slack incoming-webhook URL: polls closing and session "
        "changes are posted there.",
    )
    visibility = models.CharField(max_length=10, choices=Visibility, default=Visibility.PUBLIC)
    joining = models.CharField(max_length=10, choices=Joining, default=Joining.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClubQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(meeting_duration__gte=5) & Q(meeting_duration__lte=600),
                name="clubs_club_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "private"]),
                name="clubs_club_visibility_valid",
            ),
            models.CheckConstraint(
                condition=Q(joining__in=["open", "invite"]), name="clubs_club_joining_valid"
            ),
            length_limit("rules", RULES_MAX, name="clubs_club_rules_length"),
            models.CheckConstraint(condition=~Q(name=""), name="clubs_club_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Its name, rules, zone and slot show on every page of the club: cached ones too.
        cache.bump_clubs([self.pk])

    def get_absolute_url(self) -> str:
        return reverse("clubs:detail", args=[self.slug])

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC

    @property
    def slot_description(self) -> str:
        return (
            f"{self.get_meeting_weekday_display()}s at {self.meeting_time:%H:%M} "
            f"({self.time_zone.replace('_', ' ')}), {self.meeting_duration} min"
        )

    def next_slot_after(self, moment: dt.datetime) -> dt.datetime:
        """The first weekly meeting start strictly after `moment`, as an aware datetime.

        Computed on the wall clock of the club's zone, so a 19:00 club still meets at
        19:00 local after a daylight-saving change.
        """
        local = moment.astimezone(self.tz)
        days_ahead = (self.meeting_weekday - local.weekday()) % 7
        day = local.date() + dt.timedelta(days=days_ahead)
        while True:
            candidate = dt.datetime.combine(day, self.meeting_time, tzinfo=self.tz)
            # Normalise times that do not exist (spring forward) by a round trip through UTC.
            candidate = candidate.astimezone(dt.UTC).astimezone(self.tz)
            if candidate > moment:
                return candidate
            day += dt.timedelta(days=7)


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Membership(models.Model):
    class Role(models.TextChoices):
        ORGANIZER = "organizer", "Organizer"
        MEMBER = "member", "Member"

    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    # Calendar apps and feed readers carry no cookies: private clubs' feeds take this secret.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)

    class Reminders(models.TextChoices):
        ANSWERED = "answered", "For sessions I said I'd go to (or maybe)"
        ALL = "all", "For every session"
        NONE = "none", "Never"

    reminders = models.CharField(
        max_length=10,
        choices=Reminders,
        default=Reminders.ANSWERED,
        help_text="An email a day before the session, with a calendar invitation.",
    )
    poll_emails = models.BooleanField(
        default=True, help_text="When a poll opens, and a day before it closes."
    )
    notes_emails = models.BooleanField(default=True, help_text="When a session's notes are posted.")

    # Each kind of email a member can stop with one click: the field and its "off" value.
    EMAIL_SWITCHES = {
        "reminders": ("reminders", Reminders.NONE),
        "polls": ("poll_emails", False),
        "notes": ("notes_emails", False),
    }

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["club", "user"], name="clubs_membership_one_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=["organizer", "member"]), name="clubs_membership_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(reminders__in=["answered", "all", "none"]),
                name="clubs_membership_reminders_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.club} ({self.role})"

    @property
    def is_organizer(self) -> bool:
        return self.role == self.Role.ORGANIZER


def new_invite_token() -> str:
    return secrets.token_urlsafe(24)


class InviteQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return (
            self.filter(revoked_at__isnull=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .filter(Q(max_uses__isnull=True) | Q(use_count__lt=models.F("max_uses")))
        )


class Invite(models.Model):
    club = models.ForeignKey(Club, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True, default=new_invite_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(max_uses__gte=1),
                name="clubs_invite_max_uses_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(use_count__lte=models.F("max_uses")),
                name="clubs_invite_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"Invite to {self.club}"

    def get_absolute_url(self) -> str:
        return reverse("clubs:invite", args=[self.token])

    def problem(self, now=None) -> str:
        """Why this invite cannot be used, or "" when it can."""
        now = now or timezone.now()
        if self.revoked_at:
            return "This invite link was revoked."
        if self.expires_at and self.expires_at <= now:
            return "This invite link has expired."
        if self.max_uses is not None and self.use_count >= self.max_uses:
            return "This invite link has been used up."
        return ""
