"""The rate limits as production counts them: in Redis, one Lua script per request, shared by
every process. The rest of the suite runs them on the in-memory cache; these tests point the
site's cache at the local Redis (a database number of its own, emptied around each test)."""

import threading
import time

import pytest
import redis
from django.core.cache import cache
from django.test import Client, RequestFactory

from paperclub import ratelimit
from papers.models import Vote
from tests.test_rate_limits import poll_setup, vote_url  # noqa: F401

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def redis_cache(settings):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {"BACKEND": "paperclub.redis_cache.RedisCache", "LOCATION": REDIS_URL}
    }
    cache.clear()
    yield cache
    cache.clear()


def a_request(user, ip="198.51.100.7"):
    request = RequestFactory().post("/", REMOTE_ADDR=ip)
    request.user = user
    return request


def counted(cache, per: str) -> int:
    """The requests counted in the one window of the "vote" limit per `per`."""
    client = cache.redis_client()
    (key,) = client.keys(f"*rl:paperclub:vote:*/{per}:*")
    return client.zcard(key)


@pytest.mark.django_db
def test_votes_over_the_limit_are_refused_in_place_and_a_refusal_is_not_counted(
    redis_cache,
    settings,
    club,
    member,
    poll_setup,  # noqa: F811
):
    settings.RATE_LIMITS = {"vote": "3/m/user,100/m/ip"}
    poll, suggestion = poll_setup
    client = Client(headers={"HX-Request": "true"})
    client.force_login(member)
    url = vote_url(club, poll, suggestion)

    responses = [client.post(url, {"approve": str(1 - n % 2)}) for n in range(5)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert 55 <= int(responses[-1]["Retry-After"]) <= 60
    assert "Too many votes in a short time." in responses[-1].content.decode()
    assert Vote.objects.filter(poll=poll).count() == 1  # the third vote; refused ones wrote none
    assert counted(redis_cache, "user") == 3  # the refusals were not counted
    keys = redis_cache.redis_client().keys("*rl*vote*")
    assert len(keys) == 2 and all(0 < redis_cache.redis_client().pttl(k) <= 60_000 for k in keys)


@pytest.mark.django_db
def test_the_window_slides_and_says_how_long_to_wait(redis_cache, settings, member):
    settings.RATE_LIMITS = {"rsvp": "2/1s/user"}
    request = a_request(member)

    first = [ratelimit._consume(request, "rsvp") for _ in range(2)]
    wait = ratelimit._consume(request, "rsvp")
    time.sleep(wait + 0.05)
    again = ratelimit._consume(request, "rsvp")

    assert first == [None, None]
    assert 0 < wait <= 1
    assert again is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_from_many_threads_never_pass_more_than_the_limit(
    redis_cache, settings, member
):
    settings.RATE_LIMITS = {"vote": "100/m/user,7/m/ip"}
    passed, start = [], threading.Barrier(24)

    def one():
        start.wait()
        passed.append(ratelimit._consume(a_request(member), "vote") is None)

    threads = [threading.Thread(target=one) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert passed.count(True) == 7
    # The per-member window counted only the seven that passed every limit.
    assert counted(redis_cache, "user") == 7


@pytest.mark.django_db
def test_one_ip_is_held_across_accounts_and_others_are_not(
    redis_cache, settings, member, organizer
):
    settings.RATE_LIMITS = {"join": "100/m/user,2/m/ip"}

    same_ip = [ratelimit._consume(a_request(user), "join") is None for user in (member, organizer)]
    third = ratelimit._consume(a_request(member), "join")
    elsewhere = ratelimit._consume(a_request(organizer, ip="203.0.113.5"), "join")

    assert same_ip == [True, True]
    assert 59 < third <= 60
    assert elsewhere is None


def test_the_cache_backend_keeps_one_client_per_pool(redis_cache):
    assert redis_cache.redis_client() is redis_cache.redis_client()
    redis_cache.set("a", 1)
    assert redis_cache.get_many(["a", "b"]) == {"a": 1}


@pytest.mark.django_db
def test_djangos_own_redis_backend_is_counted_in_redis_too(redis_cache, settings, member):
    # A deployment may name Django's backend instead of ours: the limits are still
    # counted by the script, atomically for every process, not under one process's lock.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    settings.RATE_LIMITS = {"vote": "2/m/user,100/m/ip"}

    taken = [ratelimit._consume(a_request(member), "vote") is None for _ in range(3)]

    assert taken == [True, True, False]
    client = redis.Redis.from_url(REDIS_URL)
    (key,) = client.keys("*rl:paperclub:vote:*/user:*")
    assert client.type(key) == b"zset"  # the script's window, not a list the process locked
    assert client.zcard(key) == 2
