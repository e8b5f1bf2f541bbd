"""Writes and look-ups for linking a club to a Discord channel, and Discord users to
members. Each write runs in one transaction."""

import re

from allauth.socialaccount.models import SocialAccount
from django.db import IntegrityError, transaction
from django.utils import timezone

from clubs.models import Club, Membership
from integrations.models import DiscordLink
from paperclub.errors import RuleViolation

SNOWFLAKE = re.compile(r"[0-9]{15,20}")  # ASCII digits only


def checked_snowflake(value: str, label: str) -> str:
    value = (value or "").strip()
    if not SNOWFLAKE.fullmatch(value):
        raise RuleViolation(
            f"The {label} ID is the 15 to 20 digit number Discord copies with “Copy ID” "
            "(turn on Developer Mode in Discord's settings).",
            status=400,
        )
    return value


@transaction.atomic
def link_channel(*, club: Club, guild_id: str, channel_id: str, linked_by) -> DiscordLink:
    """Link the club to a Discord server's channel, pending until `/paper link` is run there.

    Replaces the club's earlier link (a club has one channel). Refused when another club
    has that channel.
    Side effects: the club's DiscordLink row created or replaced (unconfirmed).
    """
    guild_id = checked_snowflake(guild_id, "server")
    channel_id = checked_snowflake(channel_id, "channel")
    taken = DiscordLink.objects.filter(guild_id=guild_id, channel_id=channel_id).exclude(club=club)
    if taken.exists():
        raise RuleViolation("Another club is linked to that Discord channel.")
    current = DiscordLink.objects.select_for_update().filter(club=club).first()
    if current and (current.guild_id, current.channel_id) == (guild_id, channel_id):
        return current
    DiscordLink.objects.filter(club=club).delete()
    try:
        with transaction.atomic():
            return DiscordLink.objects.create(
                club=club, guild_id=guild_id, channel_id=channel_id, created_by=linked_by
            )
    except IntegrityError:
        raise RuleViolation("Another club is linked to that Discord channel.") from None


@transaction.atomic
def unlink_channel(*, club: Club) -> bool:
    """Stop posting to and answering from the club's Discord channel.

    Side effects: the club's DiscordLink row deleted. Returns whether there was one.
    """
    deleted, _ = DiscordLink.objects.filter(club=club).delete()
    return bool(deleted)


def user_for(discord_user_id: str):
    """The Paper Club account whose linked Discord account has this Discord ID, or None."""
    account = (
        SocialAccount.objects.filter(provider="discord", uid=discord_user_id)
        .select_related("user")
        .first()
    )
    return account.user if account else None


def membership_of_discord_user(discord_user_id: str, club_id: int) -> Membership | None:
    """The club's membership of the person whose linked Discord account has this ID."""
    return (
        Membership.objects.filter(
            club_id=club_id,
            user__socialaccount__provider="discord",
            user__socialaccount__uid=discord_user_id,
        )
        .select_related("club", "user")
        .first()
    )


def membership_for(user, club_id: int) -> Membership | None:
    return Membership.objects.filter(user=user, club_id=club_id).select_related("club").first()


def link_for_channel(guild_id: str, channel_id: str) -> DiscordLink | None:
    return (
        DiscordLink.objects.filter(guild_id=guild_id, channel_id=channel_id)
        .select_related("club")
        .first()
    )


@transaction.atomic
def confirm_link(*, link: DiscordLink, user, discord_user_id: str) -> DiscordLink:
    """`/paper link` run in the channel by one of the club's organizers confirms the link.

    Side effects: DiscordLink.confirmed_at/confirmed_by_discord_user set (once).
    """
    link = DiscordLink.objects.select_for_update().select_related("club").get(pk=link.pk)
    membership = membership_for(user, link.club_id)
    if membership is None or not membership.is_organizer:
        raise RuleViolation(
            f"Only an organizer of {link.club.name} can confirm the link.", status=403
        )
    if link.confirmed_at is None:
        link.confirmed_at = timezone.now()
        link.confirmed_by_discord_user = discord_user_id
        link.save(update_fields=["confirmed_at", "confirmed_by_discord_user"])
    return link
