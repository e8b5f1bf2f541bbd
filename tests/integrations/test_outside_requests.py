"""What an interaction signed by Discord but sent by someone who should not get in may reach:
a private club's polls and sessions, a channel they do not manage, IDs Discord never sends."""

import datetime as dt

import pytest
from django.utils import timezone

from clubs.models import Club
from integrations.models import DiscordLink
from papers.polls import open_poll
from papers.services import suggest_paper
from sessions.services import schedule_meeting
from tests.integrations.conftest import (
    CHANNEL,
    GUILD,
    MEMBER_ID,
    ORGANIZER_ID,
    OUTSIDER_ID,
    STRANGER_ID,
    connect,
)

pytestmark = pytest.mark.django_db

SECRET_TITLE = "A title the private club typed itself"


@pytest.fixture
def private(linked, club, organizer):
    Club.objects.filter(pk=club.pk).update(visibility=Club.Visibility.PRIVATE)
    club.refresh_from_db()
    suggest_paper(
        club=club, suggested_by=organizer, link="2401.00001", title=SECRET_TITLE, pitch="p"
    )
    other = suggest_paper(
        club=club, suggested_by=organizer, link="2401.00003", title="Another", pitch="p"
    )
    poll = open_poll(club=club, opened_by=organizer)
    schedule_meeting(
        club=club, suggestions=[other], starts_at=timezone.now() + dt.timedelta(days=3)
    )
    return poll


@pytest.mark.parametrize("user", [STRANGER_ID, OUTSIDER_ID], ids=["unlinked", "non-member"])
def test_a_private_clubs_poll_pages_are_not_shown_to_outsiders(discord, private, user):
    answer = discord.click(f"page:{private.pk}:1", user=user)

    assert SECRET_TITLE not in str(answer)
    assert answer["data"]["flags"] == 64  # the refusal, to the clicker alone


@pytest.mark.parametrize("sub", ["poll", "next"])
@pytest.mark.parametrize("user", [STRANGER_ID, OUTSIDER_ID], ids=["unlinked", "non-member"])
def test_a_private_clubs_commands_answer_only_its_members(discord, private, sub, user):
    outsider = discord.command(sub, user=user)
    member = discord.command(sub, user=MEMBER_ID)

    assert SECRET_TITLE not in str(outsider)
    assert "Another" not in str(outsider)
    assert outsider["data"]["flags"] == 64
    assert (SECRET_TITLE if sub == "poll" else "Another") in str(member)


def test_a_public_clubs_poll_is_shown_to_anyone(discord, linked, club, organizer):
    suggest_paper(club=club, suggested_by=organizer, link="2401.00002", title="Open", pitch="p")
    poll = open_poll(club=club, opened_by=organizer)

    answer = discord.click(f"page:{poll.pk}:1", user=STRANGER_ID)

    assert "Open" in str(answer)


def test_linking_a_channel_needs_permission_to_manage_it(discord, club, organizer):
    connect(organizer, ORGANIZER_ID)
    DiscordLink.objects.create(club=club, guild_id=GUILD, channel_id=CHANNEL)

    refused = discord.command("link", user=ORGANIZER_ID, permissions="0")

    assert "Manage Channels" in refused["data"]["content"]
    assert not DiscordLink.objects.get(club=club).is_confirmed

    for bits in (1 << 3, 1 << 5):  # Administrator, Manage Server
        DiscordLink.objects.filter(club=club).update(confirmed_at=None)
        discord.command("link", user=ORGANIZER_ID, permissions=str(bits))
        assert DiscordLink.objects.get(club=club).is_confirmed


@pytest.mark.parametrize("sub", ["poll", "next", "link", "suggest"])
@pytest.mark.parametrize("field", ["guild", "channel"])
@pytest.mark.parametrize("value", ["\x00", f"{GUILD}\x00", "\uff11\uff12\uff13", "-1", "9" * 40])
def test_ids_discord_never_sends_are_answered_not_linked(discord, linked, sub, field, value):
    ids = {"guild": GUILD, "channel": CHANNEL} | {field: value}

    answer = discord.command(sub, user=MEMBER_ID, **ids)

    assert (
        "not linked" in answer["data"]["content"]
        or "No club is waiting" in answer["data"]["content"]
    )
