import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clubs.models import Club, Membership
from clubs.services import create_club, join_club


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # The manifest storage needs collectstatic; tests read static files from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    # Real password hashing costs ~0.3 s per user; tests do not test the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate-limit counters live in the cache; each test starts with none.
    cache.clear()
    # No test reaches the real arXiv: a closed local port refuses at once. Tests of the
    # client and of autofill point this at a local server with recorded responses.
    settings.ARXIV_API_URL = "http://127.0.0.1:9/api/query"
    # Nor Discord: no bot until a test starts a local stand-in for its API.
    settings.DISCORD_API_URL = "http://127.0.0.1:9/api/v10"
    settings.DISCORD_BOT_TOKEN = ""
    settings.DISCORD_PUBLIC_KEY = ""


def make_user(django_user_model, email: str, name: str = ""):
    return django_user_model.objects.create_user(
        email=email, password="a-strong-test-password", display_name=name or email.split("@")[0]
    )


@pytest.fixture
def organizer(django_user_model):
    return make_user(django_user_model, "organizer@example.com", "Olive Organizer")


@pytest.fixture
def member(django_user_model):
    return make_user(django_user_model, "member@example.com", "Max Member")


@pytest.fixture
def outsider(django_user_model):
    return make_user(django_user_model, "outsider@example.com", "Otto Outsider")


@pytest.fixture
def club(organizer, member) -> Club:
    club = create_club(
        creator=organizer,
        name="Asia Paper Club",
        slug="asia",
        time_zone="Asia/Singapore",
        meeting_weekday=2,
    )
    join_club(club=club, user=member)
    return club


@pytest.fixture
def private_club(organizer, member) -> Club:
    club = create_club(
        creator=organizer,
        name="Secret Club",
        slug="secret",
        visibility=Club.Visibility.PRIVATE,
        joining=Club.Joining.INVITE,
    )
    Membership.objects.create(club=club, user=member)
    return club


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def same_queries(django_assert_num_queries):
    """N+1 guard: `fetch()` runs as many queries after `grow()` added rows as before.

    Returns that number, so a test can also hold it to a budget.
    """

    def check(fetch, grow) -> int:
        fetch()  # first request warms per-process caches
        # Both measured with the page cache empty (its warm path reads no rows at all).
        cache.clear()
        with CaptureQueriesContext(connection) as small:
            fetch()
        grow()
        cache.clear()
        with django_assert_num_queries(len(small.captured_queries)):
            fetch()
        return len(small.captured_queries)

    return check
