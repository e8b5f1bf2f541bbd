import pytest
from django.urls import reverse

from clubs.models import Club, Invite, Membership
from clubs.services import create_club, create_invite, join_club
from papers.polls import open_poll
from papers.services import suggest_paper

pytestmark = pytest.mark.django_db


def club_form_data(**overrides):
    data = {
        "name": "Asia Edition",
        "slug": "",
        "description": "Weekly, Asia-friendly hours",
        "rules": "Read **before** the session.",
        "time_zone": "Asia/Singapore",
        "meeting_weekday": "2",
        "meeting_time": "20:00",
        "meeting_duration": "60",
        "place_name": "Discord voice",
        "place_url": "https://discord.com/",
        "discussion_questions": "Big Idea\nRelevance\nOpen Questions",
        "visibility": "public",
        "joining": "open",
    }
    data.update(overrides)
    return data


def test_create_club_page_requires_sign_in(client):
    response = client.get(reverse("clubs:create"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_create_club_derives_slug_and_makes_creator_organizer(organizer_client, organizer):
    response = organizer_client.post(reverse("clubs:create"), club_form_data())

    club = Club.objects.get()
    assert response.status_code == 302
    assert response["Location"] == "/c/asia-edition/"
    assert club.memberships.get().user == organizer
    assert club.memberships.get().role == "organizer"


def test_create_club_with_bad_input_explains_and_writes_nothing(organizer_client):
    data = club_form_data(
        name="", time_zone="Mars/Olympus", meeting_duration="0", discussion_questions=""
    )

    response = organizer_client.post(reverse("clubs:create"), data)

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) >= {"name", "time_zone", "meeting_duration", "discussion_questions"}
    assert Club.objects.count() == 0


def test_create_club_with_taken_slug_is_refused(organizer_client, club):
    response = organizer_client.post(reverse("clubs:create"), club_form_data(slug=club.slug))

    assert response.status_code == 422
    assert "already uses this address" in response.content.decode()


def test_club_settings_are_for_organizers_only(client, club, organizer, member, outsider):
    url = reverse("clubs:edit", args=[club.slug])

    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.force_login(organizer)
    assert client.get(url).status_code == 200


def test_organizer_saves_settings(organizer_client, club):
    data = club_form_data(name="Renamed", slug=club.slug, discussion_questions="Q1\nQ2")

    response = organizer_client.post(reverse("clubs:edit", args=[club.slug]), data)

    club.refresh_from_db()
    assert response.status_code == 302
    assert (club.name, club.discussion_questions) == ("Renamed", ["Q1", "Q2"])


@pytest.mark.parametrize(
    "url_name",
    ["clubs:detail", "clubs:members", "clubs:edit", "meetings:timeline"],
)
def test_private_club_is_not_found_for_outsiders(client, private_club, outsider, url_name):
    url = reverse(url_name, args=[private_club.slug])

    assert client.get(url).status_code in (302, 404)  # anonymous: sign in first, or 404
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_private_club_is_not_found_for_anonymous_readers(client, private_club):
    assert client.get(reverse("clubs:detail", args=[private_club.slug])).status_code == 404
    assert client.get(reverse("meetings:timeline", args=[private_club.slug])).status_code == 404


def test_private_club_is_readable_by_members(member_client, private_club):
    response = member_client.get(reverse("clubs:detail", args=[private_club.slug]))

    assert response.status_code == 200
    assert "Secret Club" in response.content.decode()


def test_private_club_is_not_listed_on_home_for_outsiders(client, private_club, outsider):
    client.force_login(outsider)

    assert "Secret Club" not in client.get("/").content.decode()


def test_home_lists_my_clubs_and_public_clubs(member_client, club, private_club):
    response = member_client.get("/")

    assert [c.slug for c in response.context["my_clubs"]] == ["asia", "secret"]
    assert list(response.context["public_clubs"]) == []


def test_home_counts_every_member_of_my_clubs(member_client, club, outsider):
    join_club(club=club, user=outsider)

    response = member_client.get("/")

    assert [c.member_count for c in response.context["my_clubs"]] == [3]
    assert "3 members" in response.content.decode()


def test_public_club_page_is_readable_anonymously(client, club):
    response = client.get(reverse("clubs:detail", args=[club.slug]))

    assert response.status_code == 200
    assert "Sign in to take part" in response.content.decode()


def test_outsider_joins_open_club(client, club, outsider):
    client.force_login(outsider)

    response = client.post(reverse("clubs:join", args=[club.slug]))

    assert response.status_code == 302
    assert club.memberships.filter(user=outsider, role="member").exists()


def test_join_invite_only_club_without_link_is_refused(client, organizer, outsider):
    club = create_club(creator=organizer, name="Invite", slug="invite-only", joining="invite")
    client.force_login(outsider)

    client.post(reverse("clubs:join", args=[club.slug]))

    assert not club.memberships.filter(user=outsider).exists()


def test_an_invite_only_club_says_how_to_join_instead_of_offering_a_button(
    client, organizer, member, outsider
):
    club = create_club(creator=organizer, name="Invite", slug="invite-only", joining="invite")
    open_poll(club=club, opened_by=organizer)
    client.force_login(outsider)
    page = client.get(club.get_absolute_url()).content.decode()
    assert "Join this club" not in page
    assert "New members join by an invite link: ask an organizer for one." in page
    assert "this club takes new members by invite link" in page
    assert "Join the club to vote." not in page

    club.joining = "open"
    club.save()
    page = client.get(club.get_absolute_url()).content.decode()
    assert "Join this club" in page and "Join the club to vote." in page
    assert "invite link" not in page


def test_organizer_creates_and_revokes_invite(organizer_client, private_club):
    response = organizer_client.post(
        reverse("clubs:invite_create", args=[private_club.slug]),
        {"expires_in_days": "7", "max_uses": "5"},
        follow=True,
    )
    invite = Invite.objects.get()
    assert invite.max_uses == 5
    assert invite.token in response.content.decode()

    organizer_client.post(reverse("clubs:invite_revoke", args=[private_club.slug, invite.pk]))

    invite.refresh_from_db()
    assert invite.revoked_at is not None


def test_invite_with_bad_limits_is_refused(organizer_client, private_club):
    response = organizer_client.post(
        reverse("clubs:invite_create", args=[private_club.slug]),
        {"expires_in_days": "-1", "max_uses": "0"},
        follow=True,
    )

    assert Invite.objects.count() == 0
    assert "No invite created" in response.content.decode()


def test_members_cannot_create_invites(member_client, private_club):
    response = member_client.post(reverse("clubs:invite_create", args=[private_club.slug]), {})

    assert response.status_code == 403
    assert Invite.objects.count() == 0


def test_invite_link_shows_private_club_and_joins_it(client, private_club, organizer, outsider):
    invite = create_invite(club=private_club, created_by=organizer)
    url = reverse("clubs:invite", args=[invite.token])

    assert "Secret Club" in client.get(url).content.decode()
    client.force_login(outsider)
    response = client.post(url)

    assert response.status_code == 302
    assert private_club.memberships.filter(user=outsider).exists()
    assert client.get(reverse("clubs:detail", args=[private_club.slug])).status_code == 200


def test_invite_link_for_anonymous_asks_to_sign_in(client, private_club, organizer):
    invite = create_invite(club=private_club, created_by=organizer)

    response = client.post(reverse("clubs:invite", args=[invite.token]))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_revoked_invite_link_says_so(client, private_club, organizer, outsider):
    invite = create_invite(club=private_club, created_by=organizer)
    Invite.objects.filter(pk=invite.pk).update(revoked_at="2026-01-01T00:00:00Z")
    client.force_login(outsider)

    page = client.get(reverse("clubs:invite", args=[invite.token]))
    client.post(reverse("clubs:invite", args=[invite.token]))

    assert page.status_code == 410
    assert "revoked" in page.content.decode()
    assert not private_club.memberships.filter(user=outsider).exists()


def test_unknown_invite_token_is_not_found(client):
    assert client.get(reverse("clubs:invite", args=["nope"])).status_code == 404


def test_organizer_promotes_and_demotes(organizer_client, club, member):
    membership = club.memberships.get(user=member)
    url = reverse("clubs:member_role", args=[club.slug, membership.pk])

    organizer_client.post(url, {"role": "organizer"})
    membership.refresh_from_db()
    assert membership.role == "organizer"

    organizer_client.post(url, {"role": "member"})
    membership.refresh_from_db()
    assert membership.role == "member"


def test_members_cannot_change_roles_or_remove(member_client, club, organizer):
    membership = club.memberships.get(user=organizer)

    role = member_client.post(
        reverse("clubs:member_role", args=[club.slug, membership.pk]), {"role": "member"}
    )
    remove = member_client.post(reverse("clubs:member_remove", args=[club.slug, membership.pk]))

    assert (role.status_code, remove.status_code) == (403, 403)
    assert club.memberships.get(user=organizer).role == "organizer"


def test_last_organizer_rule_is_explained_in_the_page(organizer_client, club, organizer):
    membership = club.memberships.get(user=organizer)

    response = organizer_client.post(
        reverse("clubs:member_role", args=[club.slug, membership.pk]),
        {"role": "member"},
        follow=True,
    )

    assert "last organizer" in response.content.decode()
    assert club.memberships.get(user=organizer).role == "organizer"


def test_organizer_removes_member(organizer_client, club, member):
    membership = club.memberships.get(user=member)

    organizer_client.post(reverse("clubs:member_remove", args=[club.slug, membership.pk]))

    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_organizer_cannot_act_on_membership_of_another_club(
    organizer_client, organizer, django_user_model
):
    other_owner = django_user_model.objects.create_user(email="o2@example.com", password="x")
    other = create_club(creator=other_owner, name="Other", slug="other")
    join_club(club=other, user=organizer)
    create_club(creator=organizer, name="Mine", slug="mine")
    victim = other.memberships.get(user=other_owner)

    response = organizer_client.post(reverse("clubs:member_remove", args=["mine", victim.pk]))

    assert response.status_code == 404
    assert Membership.objects.filter(pk=victim.pk).exists()


def test_member_leaves(member_client, club, member):
    response = member_client.post(reverse("clubs:leave", args=[club.slug]))

    assert response.status_code == 302
    assert not club.memberships.filter(user=member).exists()


def test_members_page_lists_members_for_members_only(client, club, member, outsider):
    url = reverse("clubs:members", args=[club.slug])
    client.force_login(outsider)
    assert client.get(url).status_code == 403

    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200
    assert "Olive Organizer" in response.content.decode()
    assert "organizer@example.com" not in response.content.decode()


def test_club_rules_markdown_is_sanitized(client, organizer):
    club = create_club(
        creator=organizer,
        name="XSS",
        slug="xss",
        rules=(
            "**ok** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
        ),
    )

    html = client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert "<strong>ok</strong>" in html
    assert "<script>alert" not in html
    assert "javascript:" not in html
    assert "onerror" not in html


def test_home_query_count_does_not_grow_with_clubs(client, organizer, same_queries):
    create_club(creator=organizer, name="One", slug="one")
    client.force_login(organizer)

    def grow():
        for i in range(8):
            create_club(creator=organizer, name=f"Club {i}", slug=f"club-{i}")

    # Session and user, my clubs, my next sessions, polls, notes, public clubs (count, page).
    assert same_queries(lambda: client.get("/"), grow) == 7


def test_club_page_query_count_does_not_grow_with_suggestions(
    member_client, club, member, same_queries
):
    suggest_paper(club=club, suggested_by=member, link="2305.18290", title="DPO", pitch="Read it")

    def grow():
        for i in range(10):
            suggest_paper(
                club=club,
                suggested_by=member,
                link=f"2401.{i:05d}",
                title=f"Paper {i}",
                pitch="Why",
            )

    same_queries(lambda: member_client.get(reverse("clubs:detail", args=[club.slug])), grow)


def test_members_page_query_count_does_not_grow_with_members(
    organizer_client, club, organizer, django_user_model, same_queries
):
    from clubs.services import create_invite

    create_invite(club=club, created_by=organizer)

    def grow():
        for i in range(12):
            join_club(club=club, user=django_user_model.objects.create_user(email=f"u{i}@x.org"))
            create_invite(club=club, created_by=organizer)

    same_queries(lambda: organizer_client.get(reverse("clubs:members", args=[club.slug])), grow)


def test_a_new_club_starts_in_its_creators_zone(member_client, member):
    member.time_zone = "Asia/Tokyo"
    member.save()

    form = member_client.get(reverse("clubs:create")).context["form"]

    assert form["time_zone"].value() == "Asia/Tokyo"


def test_a_new_club_starts_in_utc_when_nothing_is_known(member_client):
    form = member_client.get(reverse("clubs:create")).context["form"]

    assert form["time_zone"].value() == "UTC"


@pytest.mark.parametrize(
    ("authors", "year", "line"),
    [
        ("", None, "arXiv:1706.03762"),
        ("", 2017, "2017 · arXiv:1706.03762"),
        ("Vaswani et al.", None, "Vaswani et al. · arXiv:1706.03762"),
        ("Vaswani et al.", 2017, "Vaswani et al. · 2017 · arXiv:1706.03762"),
    ],
)
def test_a_ballot_row_puts_separators_only_between_present_details(
    member_client, club, member, authors, year, line
):
    suggest_paper(
        club=club,
        suggested_by=member,
        link="https://arxiv.org/abs/1706.03762",
        title="Attention Is All You Need",
        authors=authors,
        year=year,
        pitch="The transformer.",
    )
    body = member_client.get(club.get_absolute_url()).content.decode()

    details = body.split('class="paper-title"', 1)[1].split('<p class="muted small">', 1)[1]
    assert details.split("</p>", 1)[0] == line
