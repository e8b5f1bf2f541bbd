"""Every URL the project defines, for every method, as every role, on a public and a private club.

The expected outcome of each cell is written in RULES below. The URL list is read from the
resolver, so a new view that is missing from the table fails `test_every_view_is_in_the_table`.
"""

import datetime as dt

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from clubs.models import Club, Membership
from clubs.services import create_club, create_invite, join_club
from integrations.models import DiscordLink
from papers.live import new_code
from papers.models import Poll
from papers.polls import open_poll
from papers.services import add_to_track, create_track, suggest_paper
from sessions.services import personal_feed, schedule_meeting
from sessions.tasks import unsubscribe_token

ROLES = ["anonymous", "outsider", "other_organizer", "member", "organizer"]
VISIBILITIES = ["public", "private"]
METHODS = ["GET", "POST"]

OK, LOGIN, NOT_FOUND, FORBIDDEN, NOT_ALLOWED = "ok", "login", "404", "403", "405"


# Policies: who may do it, as a function of (role, visibility).


def anyone(role, visibility):
    return OK


def signed_in(role, visibility):
    return LOGIN if role == "anonymous" else OK


def reader(role, visibility):
    """Public clubs: anyone. Private clubs: members only; the club does not exist for others."""
    if visibility == "public" or role in ("member", "organizer"):
        return OK
    return NOT_FOUND


def member_only(role, visibility):
    if role == "anonymous":
        return LOGIN
    if role in ("member", "organizer"):
        return OK
    return FORBIDDEN if visibility == "public" else NOT_FOUND


def organizer_only(role, visibility):
    if role == "member":
        return FORBIDDEN
    return member_only(role, visibility)


def joiner(role, visibility):
    """Joining: signed-in people who can see the club."""
    if role == "anonymous":
        return LOGIN
    return reader(role, visibility)


def public_feed(role, visibility):
    """Feed readers carry no cookies: without a token only public clubs' feeds exist."""
    return OK if visibility == "public" else NOT_FOUND


def not_allowed(role, visibility):
    return NOT_ALLOWED


def discord_signed(role, visibility):
    """Discord's endpoint takes no cookies: its signature is the credential, and without a
    public key configured (as here) it does not exist."""
    return NOT_FOUND


# url name -> {method: policy}. Methods a view does not accept must answer 405.
RULES = {
    "home": {"GET": anyone, "POST": not_allowed},
    "profile": {"GET": signed_in, "POST": signed_in},
    "unsubscribe": {"GET": anyone, "POST": anyone},
    "clubs:create": {"GET": signed_in, "POST": signed_in},
    "clubs:invite": {"GET": anyone, "POST": signed_in},
    "clubs:detail": {"GET": reader, "POST": not_allowed},
    "clubs:edit": {"GET": organizer_only, "POST": organizer_only},
    "clubs:members": {"GET": member_only, "POST": not_allowed},
    "clubs:member_role": {"GET": not_allowed, "POST": organizer_only},
    "clubs:member_remove": {"GET": not_allowed, "POST": organizer_only},
    "clubs:invite_create": {"GET": not_allowed, "POST": organizer_only},
    "clubs:invite_revoke": {"GET": not_allowed, "POST": organizer_only},
    "clubs:join": {"GET": not_allowed, "POST": joiner},
    "clubs:leave": {"GET": not_allowed, "POST": member_only},
    "clubs:notifications": {"GET": member_only, "POST": member_only},
    "papers:suggest": {"GET": not_allowed, "POST": member_only},
    "papers:suggest_check": {"GET": not_allowed, "POST": member_only},
    # The suggestion in the world was made by the organizer: a member may not edit it.
    "papers:suggestion_edit": {"GET": organizer_only, "POST": organizer_only},
    "papers:suggestion_withdraw": {"GET": not_allowed, "POST": organizer_only},
    "papers:poll_open": {"GET": organizer_only, "POST": organizer_only},
    "papers:poll": {"GET": reader, "POST": not_allowed},
    "papers:poll_close": {"GET": not_allowed, "POST": organizer_only},
    "papers:poll_override": {"GET": not_allowed, "POST": organizer_only},
    "papers:vote": {"GET": not_allowed, "POST": member_only},
    "papers:ranking": {"GET": not_allowed, "POST": member_only},
    "papers:search": {"GET": reader, "POST": not_allowed},
    "papers:tracks": {"GET": reader, "POST": not_allowed},
    "papers:track_create": {"GET": not_allowed, "POST": organizer_only},
    "papers:track": {"GET": reader, "POST": not_allowed},
    "papers:track_edit": {"GET": organizer_only, "POST": organizer_only},
    "papers:track_delete": {"GET": not_allowed, "POST": organizer_only},
    "papers:track_move": {"GET": not_allowed, "POST": organizer_only},
    "papers:track_entry_add": {"GET": not_allowed, "POST": organizer_only},
    "papers:track_entry_edit": {"GET": organizer_only, "POST": organizer_only},
    "papers:track_entry_move": {"GET": not_allowed, "POST": organizer_only},
    "papers:track_entry_remove": {"GET": not_allowed, "POST": organizer_only},
    "papers:read_mark": {"GET": not_allowed, "POST": member_only},
    "papers:import": {"GET": organizer_only, "POST": organizer_only},
    "papers:export_markdown": {"GET": reader, "POST": not_allowed},
    "papers:export_bibtex": {"GET": reader, "POST": not_allowed},
    # The live vote: the screen and its fragment and QR code for readers; the ballot for
    # signed-in readers (non-members see how to join); the short link for anyone signed in.
    "papers:live_new": {"GET": organizer_only, "POST": organizer_only},
    "papers:live_screen": {"GET": reader, "POST": not_allowed},
    "papers:live_state": {"GET": reader, "POST": not_allowed},
    "papers:live_qr": {"GET": reader, "POST": not_allowed},
    "papers:live_ballot": {"GET": joiner, "POST": not_allowed},
    "papers:live_vote": {"GET": not_allowed, "POST": member_only},
    "papers:live_short": {"GET": signed_in, "POST": not_allowed},
    "meetings:timeline": {"GET": reader, "POST": not_allowed},
    "meetings:new": {"GET": organizer_only, "POST": organizer_only},
    "meetings:detail": {"GET": reader, "POST": not_allowed},
    "meetings:edit": {"GET": organizer_only, "POST": organizer_only},
    "meetings:cancel": {"GET": not_allowed, "POST": organizer_only},
    # Notes and materials: organizers and the session's presenters (none in the world).
    "meetings:notes": {"GET": organizer_only, "POST": organizer_only},
    "meetings:materials": {"GET": organizer_only, "POST": organizer_only},
    "meetings:rsvp": {"GET": not_allowed, "POST": member_only},
    "meetings:attendance": {"GET": not_allowed, "POST": organizer_only},
    "meetings:meeting_calendar": {"GET": reader, "POST": not_allowed},
    "meetings:calendar": {"GET": public_feed, "POST": not_allowed},
    "meetings:notes_feed": {"GET": public_feed, "POST": not_allowed},
    # With a member's token the feed opens for whoever holds the link.
    "meetings:private_calendar": {"GET": anyone, "POST": not_allowed},
    "meetings:private_notes_feed": {"GET": anyone, "POST": not_allowed},
    "meetings:week_skip": {"GET": not_allowed, "POST": organizer_only},
    "meetings:feed_token_reset": {"GET": not_allowed, "POST": member_only},
    # The personal calendar: its page and reset for whoever is signed in; the feed for
    # whoever holds its secret link (calendar apps carry no cookies).
    "meetings:my_calendar": {"GET": signed_in, "POST": not_allowed},
    "meetings:personal_feed_reset": {"GET": not_allowed, "POST": signed_in},
    "meetings:personal_calendar": {"GET": anyone, "POST": not_allowed},
    "integrations:discord_interactions": {"GET": not_allowed, "POST": discord_signed},
    "integrations:discord_link": {"GET": not_allowed, "POST": organizer_only},
    "integrations:discord_unlink": {"GET": not_allowed, "POST": organizer_only},
}

# Views that are not ours: Django's admin and allauth's account pages, tested by their authors.
FOREIGN_PREFIXES = ("admin:", "account_", "socialaccount_", "github_", "discord_")


def project_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin" or "allauth" in str(pattern.urlconf_name):
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns)
    return {name for name in names if not name.startswith(FOREIGN_PREFIXES)}


def test_every_view_is_in_the_table():
    assert project_url_names() == set(RULES)


@pytest.fixture
def world(django_user_model):
    def user(email):
        # A name a person would choose: the profile form refuses one shaped like an email.
        name = email.split("@")[0].replace("_", " ").title() + " Person"
        return django_user_model.objects.create_user(email=email, password="x", display_name=name)

    people = {role: user(f"{role}@example.com") for role in ROLES if role != "anonymous"}
    other = create_club(creator=people["other_organizer"], name="Other", slug="other")
    clubs = {}
    for visibility in VISIBILITIES:
        club = create_club(
            creator=people["organizer"],
            name=f"{visibility} club",
            slug=f"{visibility}-club",
            visibility=visibility,
            joining="open",
        )
        member = join_club(club=club, user=people["member"])
        suggestion = suggest_paper(
            club=club, suggested_by=people["organizer"], link="1706.03762", title="A", pitch="p"
        )
        suggest_paper(
            club=club, suggested_by=people["organizer"], link="2305.18290", title="B", pitch="p"
        )
        meeting = schedule_meeting(
            club=club, suggestions=[suggestion], starts_at=timezone.now() - dt.timedelta(hours=1)
        )
        poll = open_poll(club=club, opened_by=people["organizer"])
        # A live poll (papers/live.py), so the live vote's routes have one to act on.
        Poll.objects.filter(pk=poll.pk).update(
            countdown_minutes=15,
            closes_at=timezone.now() + dt.timedelta(minutes=15),
            live_code=new_code(),
        )
        poll.refresh_from_db()
        poll.shortlist.set(club.suggestions.all())
        invite = create_invite(club=club, created_by=people["organizer"])
        track = create_track(club=club, title="Retrieval")
        entry = add_to_track(track=track, suggestion=suggestion)
        clubs[visibility] = {
            "track": track,
            "entry": entry,
            "club": club,
            "member": member,
            "suggestion": suggestion,
            "meeting": meeting,
            "poll": poll,
            "invite": invite,
        }
    # The public club has a Discord channel waiting for /paper link: its settings page
    # shows the unlink button too.
    DiscordLink.objects.create(
        club=clubs["public"]["club"], guild_id="111111111111111111", channel_id="333333333333333333"
    )
    assert other.pk
    return people, clubs


def url_for(name: str, objects: dict) -> str:
    club: Club = objects["club"]
    member: Membership = objects["member"]
    slug = [club.slug]
    args = {
        "home": [],
        "profile": [],
        "unsubscribe": [unsubscribe_token(member, "polls")],
        "clubs:create": [],
        "clubs:invite": [objects["invite"].token],
        "clubs:member_role": [*slug, member.pk],
        "clubs:member_remove": [*slug, member.pk],
        "clubs:invite_revoke": [*slug, objects["invite"].pk],
        "papers:suggestion_edit": [*slug, objects["suggestion"].pk],
        "papers:suggestion_withdraw": [*slug, objects["suggestion"].pk],
        "papers:poll": [*slug, objects["poll"].pk],
        "papers:poll_close": [*slug, objects["poll"].pk],
        "papers:poll_override": [*slug, objects["poll"].pk],
        "papers:vote": [*slug, objects["poll"].pk, objects["suggestion"].pk],
        "papers:ranking": [*slug, objects["poll"].pk],
        **{
            f"papers:{name}": [*slug, objects["poll"].pk]
            for name in ("live_screen", "live_state", "live_qr", "live_ballot")
        },
        "papers:live_vote": [*slug, objects["poll"].pk, objects["suggestion"].pk],
        "papers:live_short": [objects["poll"].live_code],
        "papers:read_mark": [*slug, objects["suggestion"].pk],
        **{
            f"papers:{name}": [*slug, objects["track"].pk]
            for name in ("track", "track_edit", "track_delete", "track_move", "track_entry_add")
        },
        **{
            f"papers:{name}": [*slug, objects["track"].pk, objects["entry"].pk]
            for name in ("track_entry_edit", "track_entry_move", "track_entry_remove")
        },
        "meetings:private_calendar": [*slug, member.feed_token],
        "meetings:private_notes_feed": [*slug, member.feed_token],
        "meetings:my_calendar": [],
        "meetings:personal_feed_reset": [],
        "meetings:personal_calendar": [personal_feed(member.user).token],
        "integrations:discord_interactions": [],
    }.get(name)
    if args is None:
        needs_number = name.startswith("meetings:") and name.split(":")[1] in {
            "detail",
            "edit",
            "cancel",
            "notes",
            "materials",
            "rsvp",
            "attendance",
            "meeting_calendar",
        }
        args = [*slug, objects["meeting"].number] if needs_number else slug
    return reverse(name, args=args)


def outcome(response) -> str:
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    if response.status_code in (403, 404, 405):
        return str(response.status_code)
    assert response.status_code < 500
    return OK


CELLS = [
    (name, method, role, visibility)
    for name in sorted(RULES)
    for method in METHODS
    for role in ROLES
    for visibility in VISIBILITIES
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "role", "visibility"), CELLS)
def test_authorization_cell(world, name, method, role, visibility):
    people, clubs = world
    client = Client()
    if role != "anonymous":
        client.force_login(people[role])
    url = url_for(name, clubs[visibility])

    response = client.get(url) if method == "GET" else client.post(url, {})

    assert outcome(response) == RULES[name][method](role, visibility)
    if method == "GET" and response.status_code == 200 and "html" in response["Content-Type"]:
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]


POST_CELLS = sorted(name for name, methods in RULES.items() if methods["POST"] is not not_allowed)


@pytest.mark.django_db
@pytest.mark.parametrize("name", POST_CELLS)
def test_every_post_without_csrf_token_is_refused(world, name):
    people, clubs = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["organizer"])

    response = client.post(url_for(name, clubs["public"]), {})

    if name == "unsubscribe":
        # One-click unsubscribe (RFC 8058): the signed token in the URL is the credential.
        assert response.status_code == 200
    elif name == "integrations:discord_interactions":
        # Discord signs its requests instead (tests/integrations/test_interactions.py).
        assert response.status_code == 404
    else:
        assert response.status_code == 403


def test_matrix_size():
    # Reported in the README's "Security and reliability" section.
    assert len(CELLS) == len(RULES) * len(METHODS) * len(ROLES) * len(VISIBILITIES)
