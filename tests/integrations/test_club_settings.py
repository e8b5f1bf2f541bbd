"""The club settings page's Discord section: who may link and unlink, what it shows, and
the rules of linking (one club per channel, a channel per club)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from clubs.services import create_club
from integrations.models import DiscordLink
from integrations.services import link_channel, unlink_channel
from paperclub.errors import RuleViolation
from tests.integrations.conftest import CHANNEL, GUILD, settings_url

pytestmark = pytest.mark.django_db


def link_url(club) -> str:
    return reverse("integrations:discord_link", args=[club.slug])


def unlink_url(club) -> str:
    return reverse("integrations:discord_unlink", args=[club.slug])


def test_an_organizer_links_a_channel_and_sees_it_pending(organizer_client, club):
    response = organizer_client.post(
        link_url(club), {"guild_id": f" {GUILD} ", "channel_id": CHANNEL}, follow=True
    )

    link = DiscordLink.objects.get(club=club)
    assert (link.guild_id, link.channel_id, link.is_confirmed) == (GUILD, CHANNEL, False)
    page = response.content.decode()
    assert "Run /paper link in that channel to confirm it." in page
    assert "<strong>Pending</strong>" in page
    assert "Unlink Discord" in page


def test_a_confirmed_link_shows_as_linked(organizer_client, club):
    DiscordLink.objects.create(
        club=club,
        guild_id=GUILD,
        channel_id=CHANNEL,
        confirmed_at=timezone.now(),
        confirmed_by_discord_user="333333333333333331",
    )

    page = organizer_client.get(settings_url(club)).content.decode()

    assert "<strong>Linked</strong>" in page
    assert CHANNEL in page


@pytest.mark.parametrize(
    ("guild", "channel"),
    [
        ("", CHANNEL),
        ("12345", CHANNEL),
        (GUILD, "\uff12" * 18),
        (GUILD, "1" * 21),
    ],
)
def test_bad_ids_are_refused_with_a_message_and_nothing_stored(
    organizer_client, club, guild, channel
):
    response = organizer_client.post(link_url(club), {"guild_id": guild, "channel_id": channel})

    assert response.status_code == 422
    assert "Copy ID" in response.content.decode() or "required" in response.content.decode()
    assert not DiscordLink.objects.exists()


def test_a_channel_of_another_club_is_refused(organizer_client, organizer, club):
    other = create_club(creator=organizer, name="Other", slug="other")
    link_channel(club=other, guild_id=GUILD, channel_id=CHANNEL, linked_by=organizer)

    response = organizer_client.post(link_url(club), {"guild_id": GUILD, "channel_id": CHANNEL})

    assert response.status_code == 422
    assert "Another club is linked to that Discord channel." in response.content.decode()
    assert DiscordLink.objects.get().club == other


def test_linking_another_channel_replaces_the_link_and_asks_again(organizer, club):
    first = link_channel(club=club, guild_id=GUILD, channel_id=CHANNEL, linked_by=organizer)
    DiscordLink.objects.filter(pk=first.pk).update(
        confirmed_at=timezone.now(), confirmed_by_discord_user="333333333333333331"
    )

    again = link_channel(club=club, guild_id=GUILD, channel_id=CHANNEL, linked_by=organizer)
    moved = link_channel(
        club=club, guild_id=GUILD, channel_id="999999999999999999", linked_by=organizer
    )

    assert again.pk == first.pk
    assert moved.channel_id == "999999999999999999"
    assert not moved.is_confirmed
    assert DiscordLink.objects.count() == 1


def test_the_database_holds_one_club_per_channel(organizer, club):
    from django.db import IntegrityError, transaction

    other = create_club(creator=organizer, name="Other", slug="other")
    DiscordLink.objects.create(club=club, guild_id=GUILD, channel_id=CHANNEL)

    with pytest.raises(IntegrityError), transaction.atomic():
        DiscordLink.objects.create(club=other, guild_id=GUILD, channel_id=CHANNEL)
    with pytest.raises(IntegrityError), transaction.atomic():
        DiscordLink.objects.create(club=other, guild_id="x", channel_id=CHANNEL)


def test_an_organizer_unlinks(organizer_client, club, organizer):
    link_channel(club=club, guild_id=GUILD, channel_id=CHANNEL, linked_by=organizer)

    response = organizer_client.post(unlink_url(club), follow=True)

    assert not DiscordLink.objects.exists()
    assert "The club is no longer linked to Discord." in response.content.decode()
    assert unlink_channel(club=club) is False


@pytest.mark.parametrize(("who", "status"), [("member", 403), ("outsider", 403)])
def test_members_and_outsiders_cannot_link_or_unlink(client, request, club, organizer, who, status):
    link_channel(club=club, guild_id=GUILD, channel_id=CHANNEL, linked_by=organizer)
    client.force_login(request.getfixturevalue(who))

    linked = client.post(link_url(club), {"guild_id": GUILD, "channel_id": "999999999999999999"})
    unlinked = client.post(unlink_url(club))

    assert (linked.status_code, unlinked.status_code) == (status, status)
    assert DiscordLink.objects.get().channel_id == CHANNEL


def test_outsiders_of_a_private_club_get_404(client, outsider, private_club):
    client.force_login(outsider)

    response = client.post(link_url(private_club), {"guild_id": GUILD, "channel_id": CHANNEL})

    assert response.status_code == 404
    assert not DiscordLink.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, club):
    response = client.post(link_url(club), {"guild_id": GUILD, "channel_id": CHANNEL})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_service_refuses_bad_ids_too(organizer, club):
    with pytest.raises(RuleViolation, match="Copy ID"):
        link_channel(club=club, guild_id="1; drop", channel_id=CHANNEL, linked_by=organizer)


def test_the_demo_club_is_linked_to_a_sample_server(client, django_user_model):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    link = DiscordLink.objects.select_related("club").get()
    organizer = link.club.memberships.filter(role="organizer").first().user
    client.force_login(organizer)

    page = client.get(settings_url(link.club)).content.decode()

    assert link.club.slug == "asia-paper-club"
    assert "<strong>Linked</strong>" in page
