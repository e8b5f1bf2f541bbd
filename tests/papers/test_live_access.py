"""Who sees which live fragment: each viewer in their own zone, and only live polls have one."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from papers import live
from papers.models import Poll
from papers.polls import open_poll
from papers.votes import set_vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_poll(club, organizer, dpo, lora, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return live.open_live_poll(
            club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk], budget=1
        )


def _zones(organizer, member):
    organizer.time_zone = "Asia/Singapore"
    organizer.save(update_fields=["time_zone"])
    member.time_zone = "America/Los_Angeles"
    member.save(update_fields=["time_zone"])


def _state(client, user, club, poll) -> str:
    client.force_login(user)
    return client.get(reverse("papers:live_state", args=[club.slug, poll.pk])).text


def test_each_viewer_gets_the_closed_fragment_in_their_own_zone(
    client, club, organizer, member, member_ship, live_poll, lora
):
    _zones(organizer, member)
    set_vote(poll=live_poll, membership=member_ship, suggestion=lora, approve=True)
    Poll.objects.filter(pk=live_poll.pk).update(
        opened_at=timezone.now() - dt.timedelta(minutes=5),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    live.bump_state(live_poll.pk)

    first = _state(client, member, club, live_poll)  # rendered and cached for this zone
    second = _state(client, organizer, club, live_poll)

    assert "America/Los Angeles" in first.replace("_", " ")
    assert "Asia/Singapore" in second
    assert "America/Los" not in second.replace("_", " ")


@pytest.mark.parametrize("route", ["papers:live_screen", "papers:live_state", "papers:live_qr"])
def test_a_week_long_poll_has_no_shared_screen(member_client, club, organizer, dpo, route):
    poll = open_poll(club=club, opened_by=organizer)

    response = member_client.get(reverse(route, args=[club.slug, poll.pk]))

    assert response.status_code == 404
