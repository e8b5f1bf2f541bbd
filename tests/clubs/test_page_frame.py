"""The club page's frame (clubs/page.py, club_page_html) is one page kept for every viewer
of a kind (organizer, member, signed-in outsider, anonymous): what is a viewer's own (name,
feed links, votes left, ranking, marks, CSRF token, messages) never reaches another
viewer's page, and each viewer gets the page the template renders for them."""

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

from clubs import views
from clubs.models import Membership
from papers.polls import open_poll, set_ranking
from papers.services import suggest_paper
from papers.votes import set_vote
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def _papers(club, by, count=3):
    return [
        suggest_paper(
            club=club, suggested_by=by, link=f"2401.0100{i}", title=f"Paper {i}", pitch="p"
        )
        for i in range(count)
    ]


@pytest.fixture
def viewers(django_user_model, club, organizer, member, outsider):
    """Every kind of viewer of `club`, a second member among them, each with a client."""
    second = make_user(django_user_model, "second@example.com", "Sara Second")
    Membership.objects.create(club=club, user=second)
    people = {"organizer": organizer, "member": member, "second": second, "outsider": outsider}
    clients = {}
    for name, user in people.items():
        clients[name] = Client()
        clients[name].force_login(user)
    clients["anonymous"] = Client()
    return people, clients


def _rendered_the_usual_way(monkeypatch, client, url) -> str:
    with monkeypatch.context() as patched:
        patched.setattr(views, "club_page_html", lambda *args: None)
        return client.get(url).content.decode()


@pytest.mark.parametrize("ballot", ["approval", "ranked", "no poll"])
@pytest.mark.parametrize("visibility", ["public", "private"])
def test_each_viewer_gets_the_page_the_template_renders(
    monkeypatch, club, organizer, member, viewers, ballot, visibility
):
    _people, clients = viewers
    club.visibility = visibility
    club.rules = "We read **one paper** a week."
    club.save()
    papers = _papers(club, member)
    if ballot != "no poll":
        poll = open_poll(
            club=club, opened_by=organizer, budget=2, method=_method(ballot), show_live_results=True
        )
        mine = club.memberships.get(user=member)
        if ballot == "ranked":
            set_ranking(poll=poll, membership=mine, order=[papers[1].pk, papers[0].pk])
        else:
            set_vote(poll=poll, membership=mine, suggestion=papers[1], approve=True)
    url = club.get_absolute_url()
    shown = 0
    for name in ["member", "second", "organizer", "outsider", "anonymous"]:
        if visibility == "private" and name in {"outsider", "anonymous"}:
            continue
        client = clients[name]
        client.get(url)  # the frame, warmed by whoever came first
        framed = client.get(url)
        assert framed.status_code == 200
        usual = _rendered_the_usual_way(monkeypatch, client, url)
        assert CSRF.sub(r"\1…", framed.content.decode()) == CSRF.sub(r"\1…", usual), name
        shown += 1
    assert shown == (5 if visibility == "public" else 3)


def _method(ballot: str) -> str:
    return "irv" if ballot == "ranked" else "approval"


def test_no_viewer_sees_another_viewers_own_parts(
    private_club, organizer, member, django_user_model
):
    club = private_club
    second = make_user(django_user_model, "second@example.com", "Sara Second")
    Membership.objects.create(club=club, user=second)
    papers = _papers(club, member)
    poll = open_poll(club=club, opened_by=organizer, budget=2)
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=papers[0], approve=True
    )
    pages = {}
    for user in [member, second, organizer, member, second]:  # the frame is warm after the first
        client = Client()
        client.force_login(user)
        response = client.get(club.get_absolute_url())
        pages[user.pk] = (response.content.decode(), client.cookies["csrftoken"].value)

    for user in [member, second, organizer]:
        page, cookie = pages[user.pk]
        mine = club.memberships.get(user=user)
        assert f'<a class="nav-name" href="/accounts/profile/"><span>{user.name}</span>' in page
        assert page.count(mine.feed_token) == 5  # two links in the head, three in the aside
        for other in club.memberships.exclude(user=user):
            assert other.feed_token not in page
        tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert tokens and {_unmask_cipher_token(t) for t in tokens} == {cookie}
        assert "\x00" not in page
    assert "You have voted</strong> for 1 paper" in pages[member.pk][0]
    assert "You have not voted yet" in pages[second.pk][0]
    assert pages[member.pk][0].count("✓ You voted</button>") == 1
    assert "✓ You voted</button>" not in pages[second.pk][0]


def test_a_name_with_markup_is_escaped_in_the_frame(club, django_user_model):
    rogue = make_user(django_user_model, "rogue@example.com", '<script>alert("x")</script>')
    Membership.objects.create(club=club, user=rogue)
    client = Client()
    client.force_login(rogue)
    client.get(club.get_absolute_url())
    page = client.get(club.get_absolute_url()).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_feed_addresses_are_in_the_host_the_page_was_asked_at(settings, club):
    settings.ALLOWED_HOSTS = ["paperclub.example.org", "club.example.net"]
    for host in ["paperclub.example.org", "club.example.net", "paperclub.example.org"]:
        page = Client(HTTP_HOST=host).get(club.get_absolute_url()).content.decode()
        assert f'value="http://{host}/c/asia/calendar.ics"' in page
        assert f'href="webcal://{host}/c/asia/calendar.ics"' in page


def test_a_message_is_shown_once_to_its_viewer_alone(club, outsider, member):
    newcomer = Client()
    newcomer.force_login(outsider)
    newcomer.get(club.get_absolute_url())  # warms the outsider's frame
    joined = newcomer.post(f"/c/{club.slug}/join/", follow=True)
    assert joined.status_code == 200
    message = re.search(r'<p class="message message-success">([^<]+)</p>', joined.content.decode())
    assert message is not None
    again = newcomer.get(club.get_absolute_url()).content.decode()
    assert message[1] not in again
    other = Client()
    other.force_login(member)
    assert message[1] not in other.get(club.get_absolute_url()).content.decode()


def test_a_slot_written_into_the_club_text_is_shown_as_written(private_club, organizer, member):
    """A feed token's slot is made with each frame: the slot of a frame seen before, written
    into the club's own text, is text like any other, and no viewer's token goes in it."""
    from django.core.cache import cache

    club = private_club
    client = Client()
    client.force_login(member)
    client.get(club.get_absolute_url())
    frames = [v for v in cache._cache.values() if b"feed_slot" in v]  # locmem: pickles
    assert frames
    slot = re.search(rb"feed[0-9a-f]{32}", frames[0])[0].decode()

    club.description = f"Bring your link: https://elsewhere.example/?t={slot}"
    club.place_url = f"https://elsewhere.example/meet?t={slot}"
    club.place_name = "The call"
    club.save()
    page = client.get(club.get_absolute_url()).content.decode()
    token = club.memberships.get(user=member).feed_token
    assert f"https://elsewhere.example/?t={slot}" in page
    assert f'href="https://elsewhere.example/meet?t={slot}"' in page
    assert f"elsewhere.example/?t={token}" not in page
    assert page.count(token) == 5


def test_a_host_of_its_own_does_not_make_a_frame_of_its_own(monkeypatch, settings, club):
    from clubs import page

    settings.ALLOWED_HOSTS = ["localhost"]
    rendered = []
    real = page.render_to_string

    def counting(name, *args, **kwargs):
        rendered.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(page, "render_to_string", counting)
    Client(HTTP_HOST="localhost").get(club.get_absolute_url())
    assert rendered.count(page.CLUB_PAGE) == 1
    for host in ["localhost:8000", "localhost:99999", "localhost:000123"]:
        response = Client(HTTP_HOST=host).get(club.get_absolute_url())
        assert f'value="http://{host}/c/asia/calendar.ics"' in response.content.decode()
    assert rendered.count(page.CLUB_PAGE) == 1
