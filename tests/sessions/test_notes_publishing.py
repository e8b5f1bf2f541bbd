"""Notes are drafted any time but publish only once the session has started."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clubs.services import join_club
from paperclub.errors import RuleViolation
from papers.models import Suggestion
from papers.services import suggest_paper
from sessions.models import Meeting
from sessions.services import post_notes, save_notes_draft, schedule_meeting

pytestmark = pytest.mark.django_db

NOTES_TASKS = ["sessions.tasks.send_notes_posted", "sessions.tasks.post_webhook"]


@pytest.fixture
def paper(club, member):
    return suggest_paper(club=club, suggested_by=member, link="1706.03762", title="A", pitch="p")


@pytest.fixture
def meeting(club, paper, member, settings):
    club.webhook_url = "https://hooks.example.com/club"
    club.save()
    meeting = schedule_meeting(
        club=club, suggestions=[paper], starts_at=timezone.now() + dt.timedelta(hours=3)
    )
    meeting.presenters.add(member)
    DBTaskResult.objects.all().delete()  # what scheduling queued is not under test
    return meeting


@pytest.fixture
def bystander(club, django_user_model):
    user = django_user_model.objects.create_user(email="by@example.com", password="x")
    join_club(club=club, user=user)
    return user


def notes_url(meeting):
    return reverse("meetings:notes", args=[meeting.club.slug, meeting.number])


def form(paper, action: str) -> dict:
    return {"q0": "The idea.", "q1": "", "q2": "", f"takeaway{paper.pk}": "Line.", action: "1"}


def notes_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__in=NOTES_TASKS).count()


@pytest.mark.parametrize("who", ["organizer", "member"])  # member presents this session
def test_draft_before_the_start_is_saved_and_sends_nothing(
    client, request, meeting, paper, who, django_capture_on_commit_callbacks
):
    client.force_login(request.getfixturevalue(who))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(notes_url(meeting), form(paper, "draft"))

    assert response.status_code == 302
    meeting.refresh_from_db()
    paper.refresh_from_db()
    assert (meeting.state, meeting.notes_posted_at, paper.state) == ("scheduled", None, "chosen")
    assert meeting.note_sections.first().body == "The idea."
    assert (meeting.draft_takeaways, paper.takeaway) == ({str(paper.pk): "Line."}, "")
    assert notes_tasks() == 0


@pytest.mark.parametrize("who", ["organizer", "member"])
def test_publishing_before_the_start_is_refused_with_when(
    client, request, meeting, paper, who, django_capture_on_commit_callbacks
):
    client.force_login(request.getfixturevalue(who))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(notes_url(meeting), form(paper, "publish"))

    assert response.status_code == 422
    assert "can be published once the session has started" in response.content.decode()
    meeting.refresh_from_db()
    assert (meeting.state, meeting.notes_posted_at, meeting.note_sections.count()) == (
        "scheduled",
        None,
        0,
    )
    assert notes_tasks() == 0


@pytest.mark.parametrize("who", ["organizer", "member"])
def test_publishing_after_the_start_marks_held_and_sends_once(
    client, request, meeting, paper, who, start_session, django_capture_on_commit_callbacks
):
    start_session(meeting)
    client.force_login(request.getfixturevalue(who))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(notes_url(meeting), form(paper, "publish"))
        client.post(notes_url(meeting), form(paper, "publish"))  # an edit sends nothing more

    assert response.status_code == 302
    meeting.refresh_from_db()
    paper.refresh_from_db()
    assert (meeting.state, paper.state, paper.takeaway) == ("held", "read", "Line.")
    assert meeting.notes_posted_by == request.getfixturevalue(who)
    assert notes_tasks() == 2  # the email and the webhook, once each


@pytest.mark.parametrize("started", [False, True])
def test_members_who_do_not_present_write_no_notes(
    client, bystander, meeting, paper, started, start_session
):
    if started:
        start_session(meeting)
    client.force_login(bystander)

    for action in ("draft", "publish"):
        assert client.post(notes_url(meeting), form(paper, action)).status_code == 403
    assert client.get(notes_url(meeting)).status_code == 403
    assert meeting.note_sections.count() == 0


def test_form_before_the_start_offers_only_a_draft(organizer_client, meeting):
    html = organizer_client.get(notes_url(meeting)).content.decode()

    assert 'name="draft"' in html
    assert 'name="publish"' not in html
    assert "can be published once the session starts" in html


def test_form_after_the_start_offers_publish(organizer_client, meeting, start_session):
    start_session(meeting)

    html = organizer_client.get(notes_url(meeting)).content.decode()

    assert 'name="publish"' in html
    assert 'name="draft"' in html


def test_draft_is_not_published_when_the_session_starts(
    client, organizer, meeting, paper, start_session, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        save_notes_draft(
            meeting=meeting, author=organizer, bodies=["d", "", ""], takeaways={paper.pk: "T"}
        )
    start_session(meeting)

    meeting.refresh_from_db()
    assert (meeting.state, meeting.notes_posted_at) == ("scheduled", None)
    client.force_login(organizer)
    html = client.get(notes_url(meeting)).content.decode()
    assert 'value="T"' in html  # the drafted takeaway comes back into the form
    assert 'name="publish"' in html

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            notes_url(meeting),
            {"q0": "d", "q1": "", "q2": "", f"takeaway{paper.pk}": "T", "publish": "1"},
        )

    meeting.refresh_from_db()
    paper.refresh_from_db()
    assert (meeting.state, meeting.draft_takeaways, paper.takeaway) == ("held", {}, "T")
    assert notes_tasks() == 2


@pytest.mark.parametrize(
    ("who", "sees"), [("organizer", True), ("member", True), ("bystander", False), (None, False)]
)
def test_a_draft_is_seen_only_by_the_note_takers(client, request, organizer, meeting, who, sees):
    save_notes_draft(
        meeting=meeting, author=organizer, bodies=["Secret draft", "", ""], takeaways={}
    )
    if who:
        client.force_login(request.getfixturevalue(who))

    html = client.get(meeting.get_absolute_url()).content.decode()

    assert ("Secret draft" in html) == sees
    assert ("A draft: only organizers and presenters see it" in html) == sees


def test_draft_stays_out_of_the_notes_feed(client, club, organizer, meeting):
    save_notes_draft(
        meeting=meeting, author=organizer, bodies=["Secret draft", "", ""], takeaways={}
    )

    body = client.get(reverse("meetings:notes_feed", args=[club.slug])).content.decode()

    assert "Secret draft" not in body


def test_service_refuses_publishing_before_the_start(organizer, meeting):
    with pytest.raises(RuleViolation, match="once the session has started"):
        post_notes(meeting=meeting, author=organizer, bodies=["x", "", ""], takeaways={})

    assert Meeting.objects.get().state == "scheduled"
    assert Suggestion.objects.get().state == "chosen"


def test_published_notes_are_not_turned_back_into_a_draft(organizer, meeting, start_session):
    start_session(meeting)
    post_notes(meeting=meeting, author=organizer, bodies=["x", "", ""], takeaways={})

    with pytest.raises(RuleViolation, match="published"):
        save_notes_draft(meeting=meeting, author=organizer, bodies=["y", "", ""], takeaways={})

    assert Meeting.objects.get().note_sections.first().body == "x"


def test_the_publish_time_is_in_the_viewers_zone_with_the_clubs_beside(
    organizer, organizer_client, meeting
):
    from django.utils.html import escape

    from paperclub.when import when_text

    organizer.time_zone = "America/New_York"
    organizer.save()
    new_york = meeting.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    expected = when_text(
        meeting.starts_at, club_zone=meeting.club.tz, viewer=zoneinfo.ZoneInfo("America/New_York")
    )

    html = organizer_client.get(notes_url(meeting)).content.decode()

    assert f"{new_york:%H:%M}" in expected and "(America/New York)" in expected
    assert "in the club's time (Asia/Singapore)" in expected
    assert f"once the session starts, {escape(expected)}." in html
