import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def sign_up(client, email, name="New Reader"):
    return client.post(
        reverse("account_signup"),
        {"display_name": name, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def test_sign_up_requires_email_verification_then_signs_in(client, django_user_model):
    response = sign_up(client, "new@example.com")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = django_user_model.objects.get(email="new@example.com")
    assert user.display_name == "New Reader"
    assert "_auth_user_id" not in client.session

    link = re.search(
        r"https://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body
    ).group(1)
    client.post(link)

    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_before_verifying_is_held_back(client, django_user_model):
    sign_up(client, "new@example.com")
    client.logout()

    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_sign_up_with_a_known_address_answers_the_same(client, member):
    known = sign_up(client, "member@example.com")
    client.logout()
    unknown = sign_up(client, "fresh@example.com")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, member):
    known = client.post(reverse("account_reset_password"), {"email": "member@example.com"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])


def test_sign_in_by_email_and_sign_out(client, member):
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    response = client.post(
        reverse("account_login"),
        {"login": "member@example.com", "password": "a-strong-test-password"},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(member.pk)

    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_wrong_password_is_refused_with_a_message(client, member):
    response = client.post(
        reverse("account_login"), {"login": "member@example.com", "password": "nope"}
    )

    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failed_sign_ins_are_rate_limited(client, member):
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    data = {"login": "member@example.com", "password": "wrong"}
    for _ in range(5):
        client.post(reverse("account_login"), data)

    data["password"] = "a-strong-test-password"
    response = client.post(reverse("account_login"), data)

    assert response.status_code == 429
    assert "signing in is locked for up to 5 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_social_sign_in_is_absent_without_keys(client):
    html = client.get(reverse("account_login")).content.decode()

    assert "GitHub" not in html
    assert "Discord" not in html


def test_profile_updates_name_and_time_zone(member_client, member):
    response = member_client.post(
        reverse("profile"), {"display_name": "Maxine", "time_zone": "Asia/Tokyo"}
    )

    member.refresh_from_db()
    assert response.status_code == 302
    assert (member.display_name, member.time_zone) == ("Maxine", "Asia/Tokyo")


def test_profile_rejects_unknown_time_zone_and_blank_name(member_client, member):
    response = member_client.post(
        reverse("profile"), {"display_name": " ", "time_zone": "Nowhere/City"}
    )

    member.refresh_from_db()
    assert response.status_code == 422
    assert (member.display_name, member.time_zone) == ("Max Member", "UTC")


def test_profile_requires_sign_in(client):
    assert client.get(reverse("profile")).status_code == 302


@pytest.fixture
def berlin_session(organizer, member):
    import datetime as dt

    from clubs.services import create_club, join_club
    from papers.services import suggest_paper
    from sessions.services import schedule_meeting

    club = create_club(
        creator=organizer,
        name="Berlin",
        slug="berlin",
        time_zone="Europe/Berlin",
        meeting_weekday=3,
        meeting_time=dt.time(19, 0),
    )
    join_club(club=club, user=member)
    paper = suggest_paper(club=club, suggested_by=member, link="1706.03762", title="A", pitch="p")
    # Thursday 29 Oct 2026, 19:00 in Berlin: Europe has left summer time, America has not.
    return schedule_meeting(
        club=club, suggestions=[paper], starts_at=dt.datetime(2026, 10, 29, 18, 0, tzinfo=dt.UTC)
    )


def page_text(client, meeting):
    from html import unescape

    html = client.get(meeting.get_absolute_url()).content.decode()
    return " ".join(unescape(html.replace('"', "'")).split())


def test_viewer_in_asia_sees_their_time_with_the_clubs_beside(client, member, berlin_session):
    member.time_zone = "Asia/Tokyo"
    member.save()
    client.force_login(member)

    assert (
        "Fri 30 Oct 2026, 03:00 JST (Asia/Tokyo)</time> <span class='muted club-time'>"
        "· Thu 29 Oct, 19:00 in the club's time (Europe/Berlin)"
        in page_text(client, berlin_session)
    )


def test_viewer_in_america_during_the_daylight_saving_gap(client, member, berlin_session):
    member.time_zone = "America/New_York"
    member.save()
    client.force_login(member)

    # Berlin is on winter time already, New York not yet: five hours apart, not six.
    assert (
        "Thu 29 Oct 2026, 14:00 EDT (America/New York)</time> <span class='muted club-time'>"
        "· 19:00 in the club's time (Europe/Berlin)" in page_text(client, berlin_session)
    )


def test_viewer_in_the_clubs_zone_sees_one_time(client, member, berlin_session):
    member.time_zone = "Europe/Berlin"
    member.save()
    client.force_login(member)

    text = page_text(client, berlin_session)
    assert "Thu 29 Oct 2026, 19:00 CET (Europe/Berlin)</time>" in text
    assert "club's time" not in text


def test_anonymous_visitor_without_a_zone_sees_the_clubs_time(client, berlin_session):
    text = page_text(client, berlin_session)

    assert "Thu 29 Oct 2026, 19:00 CET (Europe/Berlin)</time>" in text
    assert "club's time" not in text


@pytest.mark.parametrize(
    ("cookie", "zone"),
    [
        ("America%2FNew_York", "America/New_York"),  # what encodeURIComponent wrote
        ("America/New_York", "America/New_York"),  # what static/js/app.js writes now
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Etc%2FGMT%2B5", "Etc/GMT+5"),
        ("UTC", "UTC"),
        ("America%252FNew_York", ""),  # encoded twice: not a browser's doing
        ('"America/New_York"', ""),
        ("Not/AZone", ""),
        ("%FF%FE", ""),
        ("../../etc/passwd", ""),
        ("localtime", ""),
        ("", ""),
        ("A" * 5000, ""),
    ],
)
def test_known_zone_reads_the_cookie_as_browsers_write_it(cookie, zone):
    from accounts.timezones import known_zone

    assert known_zone(cookie) == zone


def test_new_account_is_asked_for_a_display_name(client, django_user_model):
    response = sign_up(client, "quiet@example.com", name="  ")

    assert response.status_code == 200
    assert "Give a name other members will see." in response.content.decode()
    assert not django_user_model.objects.filter(email="quiet@example.com").exists()


def test_new_account_may_not_use_its_email_as_display_name(client, django_user_model):
    response = sign_up(client, "bob.1201@example.com", name="Bob.1201")

    assert response.status_code == 200
    assert "start of your email address" in response.content.decode()
    assert not django_user_model.objects.filter(email="bob.1201@example.com").exists()


@pytest.mark.parametrize("name", ["victim@example.com", "Victim @ Example . org", "a@b.c"])
def test_new_account_may_not_take_an_email_address_as_display_name(client, django_user_model, name):
    response = sign_up(client, "dn@example.net", name=name)

    assert response.status_code == 200
    assert "A display name cannot be an email address" in response.content.decode()
    assert not django_user_model.objects.filter(email="dn@example.net").exists()


def test_github_and_discord_sign_ups_start_in_the_browsers_zone(rf, django_user_model):
    from allauth.socialaccount.models import SocialLogin

    from accounts.adapter import SocialAccountAdapter

    request = rf.get("/")
    request.COOKIES["tz"] = "Asia%2FSingapore"  # the exact string older pages stored
    login = SocialLogin(user=django_user_model(email="gh@example.com"))

    user = SocialAccountAdapter(request).populate_user(
        request, login, {"email": "gh@example.com", "name": "Octo Cat"}
    )

    assert (user.display_name, user.time_zone) == ("Octo Cat", "Asia/Singapore")


def test_a_social_sign_up_without_a_name_gets_no_name_from_the_email(rf, django_user_model):
    from allauth.socialaccount.models import SocialLogin

    from accounts.adapter import SocialAccountAdapter

    login = SocialLogin(user=django_user_model(email="octo.cat@example.com"))

    user = SocialAccountAdapter(rf.get("/")).populate_user(
        rf.get("/"), login, {"email": "octo.cat@example.com"}
    )
    user.save()

    assert (user.display_name, user.name, user.time_zone) == ("", f"Member #{user.pk}", "UTC")
