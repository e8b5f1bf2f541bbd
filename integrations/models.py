"""A club's Discord server: the guild channel its commands and announcements go to."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clubs.models import Club

# Discord's IDs are "snowflakes": 64-bit integers written as up to 20 decimal digits.
SNOWFLAKE_MAX = 20


class DiscordLink(models.Model):
    """One club per guild channel, one channel per club. Pending until someone runs
    `/paper link` in that channel (confirmed_at), so a typed ID cannot make the bot speak
    in a server that did not ask for it."""

    club = models.OneToOneField(Club, on_delete=models.CASCADE, related_name="discord_link")
    guild_id = models.CharField(max_length=SNOWFLAKE_MAX)
    channel_id = models.CharField(max_length=SNOWFLAKE_MAX)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by_discord_user = models.CharField(max_length=SNOWFLAKE_MAX, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["guild_id", "channel_id"], name="integrations_discordlink_one_club"
            ),
            models.CheckConstraint(
                condition=Q(guild_id__regex=r"^[0-9]{15,20}$")
                & Q(channel_id__regex=r"^[0-9]{15,20}$"),
                name="integrations_discordlink_snowflakes",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | ~Q(confirmed_by_discord_user=""),
                name="integrations_discordlink_confirmed_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.club} in Discord channel {self.channel_id}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class DiscordPollMessage(models.Model):
    """A message in Discord that shows a poll with its buttons: the bot edits it when the
    counts change, for a poll with live results."""

    poll = models.ForeignKey("papers.Poll", on_delete=models.CASCADE, related_name="+")
    channel_id = models.CharField(max_length=SNOWFLAKE_MAX)
    message_id = models.CharField(max_length=SNOWFLAKE_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel_id", "message_id"], name="integrations_discordpollmessage_once"
            ),
            models.CheckConstraint(
                condition=Q(channel_id__regex=r"^[0-9]{15,20}$")
                & Q(message_id__regex=r"^[0-9]{15,20}$"),
                name="integrations_discordpollmessage_snowflakes",
            ),
        ]

    def __str__(self) -> str:
        return f"Discord message {self.message_id} of poll {self.poll_id}"
