"""What every response promises a browser or a proxy: who may cache it, where sign-in
goes back to, and what a stale form says."""

import pytest
from django.test import Client
from django.urls import reverse

from clubs.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _verified_member(member):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)


def test_a_members_page_is_private_to_their_browser(member_client, private_club):
    response = member_client.get(private_club.get_absolute_url())

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


def test_a_feed_read_with_its_secret_token_is_private(client, private_club, member):
    token = Membership.objects.get(club=private_club, user=member).feed_token
    url = reverse("meetings:private_calendar", args=[private_club.slug, token])

    response = client.get(url)

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


def test_a_public_feed_for_an_anonymous_reader_says_nothing_of_privacy(client, club):
    response = client.get(reverse("meetings:calendar", args=[club.slug]))

    assert response.status_code == 200
    assert "private" not in response.get("Cache-Control", "")


@pytest.mark.parametrize(
    "target", ["abc", "//evil.example", "/\\evil.example", "https://evil.example/"]
)
def test_signing_in_goes_back_only_to_a_path_on_this_site(client, member, target):
    response = client.post(
        f"{reverse('account_login')}?next={target}",
        {"login": member.email, "password": "a-strong-test-password"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_signing_in_goes_back_to_the_page_asked_for(client, member, club):
    response = client.post(
        f"{reverse('account_login')}?next={club.get_absolute_url()}",
        {"login": member.email, "password": "a-strong-test-password"},
    )

    assert response["Location"] == club.get_absolute_url()


def test_a_form_without_its_csrf_token_gets_the_sites_own_page():
    response = Client(enforce_csrf_checks=True).post(reverse("account_login"), {"login": "x"})

    body = response.content.decode()
    assert response.status_code == 403
    assert "This page is out of date" in body
    assert "DEBUG=True" not in body


@pytest.mark.parametrize("page", ["account_login", "account_signup", "home", "club"])
def test_a_page_with_a_visitors_csrf_token_is_private_to_their_browser(client, club, page):
    # Every page carries the visitor's own token (htmx sends it): a shared cache must not
    # hand it to the next visitor.
    response = client.get(club.get_absolute_url() if page == "club" else reverse(page))

    assert "csrftoken" in response.cookies
    assert "private" in response["Cache-Control"]
