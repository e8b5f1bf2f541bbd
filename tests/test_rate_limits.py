"""Rate limits: every POST route has one; bursts over it get 429 with a message (in place for
htmx, a page otherwise); the per-IP limit holds across accounts; sign-in locks out with 429,
and the admin signs in only through it."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clubs.models import Membership
from clubs.services import join_club
from paperclub.ratelimit import ACTIONS
from papers.models import Vote
from papers.polls import open_poll
from papers.services import suggest_paper
from sessions.models import Rsvp
from sessions.services import schedule_meeting
from tests.conftest import make_user
from tests.test_authorization_matrix import POST_CELLS, url_for, world  # noqa: F401

PASSWORD = "a-strong-test-password"


def project_views() -> dict[str, object]:
    views = {}

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                views[f"{namespace}{pattern.name}"] = pattern.callback

    walk(get_resolver().url_patterns)
    return views


@pytest.mark.parametrize("name", POST_CELLS)
def test_every_post_route_has_a_rate_limit(name):
    # POST_CELLS comes from the authorization matrix, which the resolver keeps complete.
    action = getattr(project_views()[name], "rate_limit_action", None)

    assert action in ACTIONS


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("name", POST_CELLS)
def test_every_post_route_answers_429_once_its_limit_is_used(world, settings, name, htmx):  # noqa: F811
    people, clubs = world
    settings.RATE_LIMITS = {action: "0/m/user,0/m/ip" for action in ACTIONS} | {
        "unsubscribe": "0/m/ip"
    }
    client = Client(headers={"HX-Request": "true"} if htmx else {})
    client.force_login(people["organizer"])
    counts = (Membership.objects.count(), Vote.objects.count(), Rsvp.objects.count())

    response = client.post(url_for(name, clubs["public"]), {})

    assert response.status_code == 429
    assert int(response["Retry-After"]) == 60
    assert "Try again in 60 seconds." in response.content.decode()
    if htmx:  # the page's messages, or the row of the button (a vote)
        assert re.fullmatch(r"#messages|#row-message-[0-9]+", response["HX-Retarget"])
        assert "<html" not in response.content.decode()
    else:
        assert "<html" in response.content.decode()
    assert (Membership.objects.count(), Vote.objects.count(), Rsvp.objects.count()) == counts


@pytest.fixture
def poll_setup(club, organizer, member):
    suggestion = suggest_paper(
        club=club, suggested_by=organizer, link="1706.03762", title="Attention", pitch="p"
    )
    poll = open_poll(club=club, opened_by=organizer)
    return poll, suggestion


def vote_url(club, poll, suggestion) -> str:
    return reverse("papers:vote", args=[club.slug, poll.pk, suggestion.pk])


@pytest.mark.django_db
def test_twenty_vote_toggles_a_minute_pass_and_the_next_is_refused_in_place(
    club, member_client, member, poll_setup
):
    poll, suggestion = poll_setup
    url = vote_url(club, poll, suggestion)
    htmx = {"HX-Request": "true"}

    statuses = [
        member_client.post(url, {"approve": str(1 - n % 2)}, headers=htmx).status_code
        for n in range(20)
    ]
    refused = member_client.post(url, {"approve": "1"}, headers=htmx)

    assert statuses == [200] * 20
    assert refused.status_code == 429
    assert refused["HX-Retarget"] == f"#row-message-{suggestion.pk}"  # beside the button
    assert refused["HX-Reswap"] == "innerHTML"
    assert "Too many votes in a short time. Try again in " in refused.content.decode()
    assert Vote.objects.filter(poll=poll).count() == 0  # the 20th took the vote back


@pytest.mark.django_db
def test_a_burst_of_suggestions_is_refused_with_a_page_after_the_twentieth(club, member_client):
    url = reverse("papers:suggest", args=[club.slug])

    statuses = [
        member_client.post(
            url, {"link": f"2401.{n:05d}", "title": f"Paper {n}", "pitch": "p"}
        ).status_code
        for n in range(1, 22)
    ]

    assert statuses == [302] * 20 + [429]
    assert club.suggestions.count() == 20
    refused = member_client.post(url, {"link": "2401.00099", "title": "One more"})
    assert "Too many suggestions in a short time." in refused.content.decode()
    assert "Nothing was changed." in refused.content.decode()


@pytest.mark.django_db
def test_the_link_check_is_limited_so_it_cannot_make_the_server_call_arxiv_in_bursts(
    club, member_client
):
    url = reverse("papers:suggest_check", args=[club.slug])
    htmx = {"HX-Request": "true"}

    statuses = [
        member_client.post(url, {"link": f"2401.{n:05d}"}, headers=htmx).status_code
        for n in range(31)
    ]

    assert 429 not in statuses[:30]
    assert statuses[30] == 429


@pytest.mark.django_db
def test_limits_count_per_member_so_one_members_burst_leaves_others_alone(
    club, member, organizer, poll_setup, settings
):
    settings.RATE_LIMITS = {"vote": "2/m/user,100/m/ip"}
    poll, suggestion = poll_setup
    url = vote_url(club, poll, suggestion)
    busy, other = Client(), Client()
    busy.force_login(member)
    other.force_login(organizer)

    first = [busy.post(url, {"approve": "1"}).status_code for _ in range(3)]

    assert first == [302, 302, 429]
    assert other.post(url, {"approve": "1"}).status_code == 302


@pytest.mark.django_db
def test_per_ip_limit_holds_across_accounts_at_the_client_ip_the_proxy_reports(
    club, organizer, django_user_model, settings
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1  # as in production behind one reverse proxy
    settings.RATE_LIMITS = {"rsvp": "100/m/user,3/m/ip"}
    paper = suggest_paper(
        club=club, suggested_by=organizer, link="1706.03762", title="A", pitch="p"
    )
    meeting = schedule_meeting(club=club, suggestions=[paper])
    url = reverse("meetings:rsvp", args=[club.slug, meeting.number])

    def answer(email: str, ip: str) -> int:
        user = make_user(django_user_model, email)
        join_club(club=club, user=user)
        # The proxy appends the address it sees; what the client sent before it is not trusted.
        spoofed = f"203.0.113.{len(email)}"
        client = Client(headers={"X-Forwarded-For": f"{spoofed}, {ip}"})
        client.force_login(user)
        return client.post(url, {"answer": "going"}).status_code

    same_ip = [answer(f"p{n}@example.com", "198.51.100.7") for n in range(4)]
    elsewhere = answer("far@example.com", "198.51.100.8")

    assert same_ip == [302, 302, 302, 429]
    assert elsewhere == 302
    assert Rsvp.objects.filter(meeting=meeting).count() == 4


@pytest.mark.django_db
def test_a_limit_frees_up_when_its_window_has_passed(club, member_client, poll_setup, settings):
    settings.RATE_LIMITS = {"vote": "1/1s/user,100/m/ip"}
    poll, suggestion = poll_setup
    url = vote_url(club, poll, suggestion)

    assert member_client.post(url, {"approve": "1"}).status_code == 302
    refused = member_client.post(url, {"approve": "0"})
    time.sleep(1.1)
    again = member_client.post(url, {"approve": "0"})

    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert again.status_code == 302


@pytest.mark.django_db
def test_pages_are_not_counted_only_posts(club, member_client, settings):
    settings.RATE_LIMITS = {"settings": "1/m/user,1/m/ip"}
    url = reverse("clubs:notifications", args=[club.slug])

    statuses = [member_client.get(url).status_code for _ in range(5)]

    assert statuses == [200] * 5


# Sign-in lockout and the admin.


@pytest.fixture
def staff(django_user_model):
    user = make_user(django_user_model, "admin@example.com")
    user.is_staff = user.is_superuser = True
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.mark.django_db
def test_sign_in_lockout_answers_429_and_says_for_how_long(client, staff):
    wrong = {"login": staff.email, "password": "wrong"}
    failures = [client.post(reverse("account_login"), wrong).status_code for _ in range(5)]

    locked = client.post(reverse("account_login"), {**wrong, "password": PASSWORD})

    assert failures == [200] * 5
    assert locked.status_code == 429
    assert locked["Retry-After"] == "300"
    assert "signing in is locked for up to 5 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_form_cannot_be_used_to_guess_passwords(client, staff):
    admin_login = reverse("admin:login")
    wrong = {"username": staff.email, "password": "wrong", "next": "/admin/"}
    for _ in range(20):
        client.post(admin_login, wrong)

    response = client.post(admin_login, {**wrong, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_admin_signs_in_through_allauth_and_its_lockout(client, staff):
    page = client.get("/admin/", follow=True)
    assert page.redirect_chain[-1][0] == f"{reverse('account_login')}?next=%2Fadmin%2F"
    wrong = {"login": staff.email, "password": "wrong"}
    for _ in range(5):
        client.post(reverse("account_login"), wrong)

    locked = client.post(reverse("account_login"), {**wrong, "password": PASSWORD})

    assert locked.status_code == 429
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_staff_reach_the_admin_after_signing_in_on_the_sign_in_page(client, staff):
    signed_in = client.post(
        reverse("account_login") + "?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )

    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_signed_in_member_who_is_not_staff_is_refused_by_the_admin(member_client):
    assert member_client.get("/admin/", follow=True).status_code == 403
