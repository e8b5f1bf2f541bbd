"""The page cache as production runs it, on Redis: a page's scope versions and its first
fragments come back in one round trip (a Lua script computes the fragments' keys), and
what the script reads is what Python stored. The rest of the suite runs the page cache on
the in-memory cache; these tests point it at the local Redis."""

import pytest
import redis
from django.test import Client
from django.urls import reverse

from paperclub import cache as page_cache
from papers.models import Vote
from papers.services import suggest_paper
from sessions.services import schedule_meeting
from tests.clubs.test_page_cache import _rename_member, _retitle
from tests.test_rate_limits import poll_setup, vote_url  # noqa: F401
from tests.test_rate_limits_redis import redis_cache  # noqa: F401

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def commands(monkeypatch):
    """The names of the Redis commands sent, in order (a script call is one)."""
    sent: list[str] = []
    original = redis.Redis.execute_command

    def counted(self, *args, **options):
        sent.append(str(args[0]).upper())
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    return sent


def signed_in(user) -> Client:
    client = Client(headers=HTMX)
    client.force_login(user)
    return client


def test_a_warm_club_page_reads_the_cache_in_two_round_trips(
    redis_cache,  # noqa: F811
    commands,
    club,
    member,
    poll_setup,  # noqa: F811
):
    client = signed_in(member)
    page = reverse("clubs:detail", args=[club.slug])
    client.get(page, headers={"HX-Request": ""})  # the first view builds and stores
    commands.clear()

    body = client.get(page, headers={"HX-Request": ""}).content.decode()

    # The versions with the shared parts, then the member's marked rows; nothing rebuilt.
    assert commands == ["EVALSHA", "MGET"]
    assert "Attention" in body


def test_a_vote_reads_its_answer_in_one_round_trip_after_the_rate_limit(
    redis_cache,  # noqa: F811
    commands,
    club,
    member,
    poll_setup,  # noqa: F811
):
    poll, suggestion = poll_setup
    client = signed_in(member)
    client.post(vote_url(club, poll, suggestion), {"approve": "1"})
    client.post(vote_url(club, poll, suggestion), {"approve": "0"})  # both rows are stored
    commands.clear()

    response = client.post(vote_url(club, poll, suggestion), {"approve": "1"})

    assert response.status_code == 200
    assert commands == ["EVALSHA", "EVALSHA"]  # the rate limit, then versions and row
    assert Vote.objects.filter(poll=poll, suggestion=suggestion).exists()
    assert f'id="suggestion-{suggestion.pk}"' in response.content.decode()


def test_a_warm_session_page_reads_the_cache_in_one_round_trip(
    redis_cache,  # noqa: F811
    commands,
    club,
    member,
    organizer,
):
    paper = suggest_paper(
        club=club, suggested_by=organizer, link="2106.09685", title="LoRA", pitch="p"
    )
    meeting = schedule_meeting(club=club, suggestions=[paper])
    client = signed_in(member)
    client.get(meeting.get_absolute_url(), headers={"HX-Request": ""})
    commands.clear()

    body = client.get(meeting.get_absolute_url(), headers={"HX-Request": ""}).content.decode()

    assert commands == ["EVALSHA"]
    assert "LoRA" in body


def test_writes_show_at_once_through_the_script(
    redis_cache,  # noqa: F811
    club,
    member,
    organizer,
    poll_setup,  # noqa: F811
):
    _, suggestion = poll_setup
    client = Client()
    client.force_login(organizer)
    page = reverse("clubs:detail", args=[club.slug])
    assert "Attention" in client.get(page).content.decode()

    _retitle(suggestion, "Attention, retitled")
    _rename_member(organizer, "Olga the Organizer")

    body = client.get(page).content.decode()
    assert "Attention, retitled" in body
    assert "Olga the Organizer" in body


def _emptied(cache, club) -> None:
    cache.clear()  # a restarted Redis: no versions, no fragments


def _older_versions(cache, club) -> None:
    for scope in page_cache.club_scopes(club.pk):
        cache.set(scope, "1f861c42a3c84989", timeout=None)  # as an older release wrote them


@pytest.mark.parametrize("change", [_emptied, _older_versions], ids=["emptied", "older"])
def test_a_cache_without_usable_versions_is_filled_again(
    redis_cache,  # noqa: F811
    commands,
    club,
    member,
    poll_setup,  # noqa: F811
    change,
):
    client = Client()
    client.force_login(member)
    page = reverse("clubs:detail", args=[club.slug])
    client.get(page)
    change(redis_cache, club)

    first = client.get(page).content.decode()
    commands.clear()
    second = client.get(page).content.decode()

    assert "Attention" in first and "Attention" in second
    assert commands == ["EVALSHA", "MGET"]  # the versions made again key what was stored
    assert all(type(redis_cache.get(s)) is int for s in page_cache.club_scopes(club.pk))
