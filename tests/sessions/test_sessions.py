import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from paperclub.errors import RuleViolation
from papers.models import Suggestion
from papers.services import suggest_paper
from sessions.models import Meeting, NoteSection
from sessions.services import cancel_meeting, post_notes, schedule_meeting

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def paper(club, member):
    return suggest_paper(
        club=club,
        suggested_by=member,
        link="1706.03762",
        title="Attention Is All You Need",
        pitch="p",
    )


@pytest.fixture
def meeting(club, paper):
    return schedule_meeting(club=club, suggestions=[paper])


def notes_url(club, meeting):
    return reverse("meetings:notes", args=[club.slug, meeting.number])


# Scheduling


def test_sessions_are_numbered_per_club(club, organizer, paper, member):
    other = suggest_paper(club=club, suggested_by=member, link="2305.18290", title="DPO", pitch="p")

    first = schedule_meeting(club=club, suggestions=[paper])
    second = schedule_meeting(club=club, suggestions=[other])

    assert (first.number, second.number) == (1, 2)
    assert second.starts_at - first.starts_at == dt.timedelta(days=7)


def test_schedule_by_hand_records_a_presenters_pick(organizer_client, club, paper, member):
    response = organizer_client.post(
        reverse("meetings:new", args=[club.slug]),
        {
            "suggestions": [paper.pk],
            "source": "pick",
            "starts_at": "2030-05-01T20:00",
            "duration": "90",
            "place_name": "Discord",
            "place_url": "https://discord.com/",
            "presenters": [member.pk],
        },
    )

    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert (meeting.source, meeting.duration) == ("pick", dt.timedelta(minutes=90))
    assert meeting.starts_at == dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.UTC)
    assert list(meeting.presenters.all()) == [member]
    paper.refresh_from_db()
    assert paper.state == "chosen"


def test_schedule_form_without_a_paper_is_refused(organizer_client, club):
    response = organizer_client.post(
        reverse("meetings:new", args=[club.slug]),
        {"source": "organizer", "starts_at": "2030-05-01T20:00", "duration": "60"},
    )

    assert response.status_code == 422
    assert Meeting.objects.count() == 0


def test_schedule_with_another_clubs_paper_is_refused(club, organizer):
    from clubs.services import create_club

    other = create_club(creator=organizer, name="Other", slug="other")
    foreign = suggest_paper(
        club=other, suggested_by=organizer, link="2305.18290", title="T", pitch="p"
    )

    with pytest.raises(RuleViolation, match="this club's list"):
        schedule_meeting(club=club, suggestions=[foreign])

    assert Meeting.objects.count() == 0


def test_members_cannot_schedule_move_or_cancel(member_client, club, meeting):
    new = member_client.get(reverse("meetings:new", args=[club.slug]))
    edit = member_client.get(reverse("meetings:edit", args=[club.slug, meeting.number]))
    cancel = member_client.post(reverse("meetings:cancel", args=[club.slug, meeting.number]))

    assert (new.status_code, edit.status_code, cancel.status_code) == (403, 403, 403)
    meeting.refresh_from_db()
    assert meeting.state == "scheduled"


def test_organizer_moves_a_session(organizer_client, club, meeting):
    response = organizer_client.post(
        reverse("meetings:edit", args=[club.slug, meeting.number]),
        {"starts_at": "2030-06-02T21:30", "duration": "45", "place_name": "Zoom", "place_url": ""},
    )

    meeting.refresh_from_db()
    assert response.status_code == 302
    assert meeting.starts_at == dt.datetime(2030, 6, 2, 13, 30, tzinfo=dt.UTC)
    assert (meeting.place_name, meeting.duration) == ("Zoom", dt.timedelta(minutes=45))


def test_cancelling_puts_the_paper_back_on_the_list(club, meeting, paper):
    cancel_meeting(meeting=meeting)

    paper.refresh_from_db()
    meeting.refresh_from_db()
    assert (meeting.state, paper.state) == ("cancelled", "open")


# Notes


def test_organizer_posts_notes_marking_session_held_and_paper_read(
    organizer_client, club, meeting, paper, organizer, start_session
):
    start_session(meeting)
    response = organizer_client.post(
        notes_url(club, meeting),
        {
            "q0": "Attention **replaces** recurrence.",
            "q1": "Everything.",
            "q2": "",
            f"takeaway{paper.pk}": "Attention is all you need.",
            "publish": "1",
        },
    )

    assert response.status_code == 302
    meeting.refresh_from_db()
    paper.refresh_from_db()
    assert (meeting.state, meeting.notes_posted_by, paper.state) == ("held", organizer, "read")
    assert paper.takeaway == "Attention is all you need."
    assert list(meeting.note_sections.values_list("question", "html")) == [
        ("Big Idea", "<p>Attention <strong>replaces</strong> recurrence.</p>"),
        ("Relevance", "<p>Everything.</p>"),
        ("Open Questions", ""),
    ]


def test_presenter_may_write_notes_but_other_members_may_not(
    client, club, meeting, member, django_user_model
):
    from clubs.services import join_club

    bystander = django_user_model.objects.create_user(email="b@example.com", password="x")
    join_club(club=club, user=bystander)
    meeting.presenters.add(member)

    client.force_login(bystander)
    assert client.get(notes_url(club, meeting)).status_code == 403
    client.force_login(member)
    assert client.get(notes_url(club, meeting)).status_code == 200


def test_outsider_cannot_write_notes(client, club, meeting, outsider):
    client.force_login(outsider)

    response = client.post(notes_url(club, meeting), {"q0": "hi"})

    assert response.status_code == 403
    assert NoteSection.objects.count() == 0


def test_empty_notes_are_refused(organizer_client, club, meeting):
    response = organizer_client.post(notes_url(club, meeting), {"q0": " ", "q1": "", "q2": ""})

    assert response.status_code == 422
    assert "Write something under at least one question" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.state == "scheduled"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<div hx-get="/admin/" hx-trigger="load">x</div>',
        "<iframe src=https://evil.example></iframe>",
        '<p style="position:fixed" onclick="alert(1)">x</p>',
    ],
)
def test_notes_are_sanitized_after_markdown(
    club, meeting, organizer, client, hostile, start_session
):
    start_session(meeting)
    post_notes(meeting=meeting, author=organizer, bodies=[hostile, "", ""], takeaways={})

    html = client.get(meeting.get_absolute_url()).content.decode()
    notes = html.split('id="notes-heading"')[1]
    for needle in (
        "<script>alert",
        "onerror",
        "javascript:",
        "data:text",
        "hx-get",
        "<iframe",
        "onclick",
        "style=",
    ):
        assert needle not in notes


def test_notes_sit_in_a_container_htmx_ignores(club, meeting, organizer, client, start_session):
    start_session(meeting)
    post_notes(meeting=meeting, author=organizer, bodies=["hello", "", ""], takeaways={})

    html = client.get(meeting.get_absolute_url()).content.decode()

    assert '<div class="prose" hx-disable><p>hello</p>' in html


def test_preview_with_htmx_returns_only_the_preview(organizer_client, club, meeting):
    response = organizer_client.post(
        notes_url(club, meeting), {"q0": "*draft*", "q1": "", "q2": "", "preview": "1"}, **HTMX
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="preview"')
    assert "<em>draft</em>" in body
    assert NoteSection.objects.count() == 0


def test_preview_without_javascript_renders_page_and_saves_nothing(organizer_client, club, meeting):
    response = organizer_client.post(
        notes_url(club, meeting), {"q0": "*draft*", "q1": "", "q2": "", "preview": "1"}
    )

    assert response.status_code == 200
    assert "<em>draft</em>" in response.content.decode()
    assert NoteSection.objects.count() == 0


def test_editing_posted_notes_keeps_the_first_posting(
    club, meeting, organizer, member, start_session
):
    start_session(meeting)
    post_notes(meeting=meeting, author=organizer, bodies=["a", "b", "c"], takeaways={})
    first = Meeting.objects.get().notes_posted_at

    post_notes(meeting=meeting, author=member, bodies=["a2", "b", "c"], takeaways={})

    meeting.refresh_from_db()
    assert (meeting.notes_posted_at, meeting.notes_posted_by) == (first, organizer)
    assert meeting.note_sections.first().body == "a2"


def test_notes_keep_their_questions_when_the_club_changes_them(
    club, meeting, organizer, start_session
):
    start_session(meeting)
    post_notes(meeting=meeting, author=organizer, bodies=["a", "b", "c"], takeaways={})
    club.discussion_questions = ["Something else"]
    club.save()

    post_notes(meeting=meeting, author=organizer, bodies=["x", "y", "z"], takeaways={})

    assert list(meeting.note_sections.values_list("question", flat=True)) == [
        "Big Idea",
        "Relevance",
        "Open Questions",
    ]


def test_notes_for_cancelled_session_are_refused(club, meeting, organizer):
    cancel_meeting(meeting=meeting)

    with pytest.raises(RuleViolation, match="cancelled"):
        post_notes(meeting=meeting, author=organizer, bodies=["a", "b", "c"], takeaways={})


# Reading


def test_anonymous_visitor_reads_notes_of_public_club(
    client, club, meeting, organizer, start_session
):
    start_session(meeting)
    post_notes(meeting=meeting, author=organizer, bodies=["The big idea.", "", ""], takeaways={})

    html = client.get(meeting.get_absolute_url()).content.decode()

    assert "The big idea." in html
    assert "Big Idea" in html


def test_session_of_private_club_is_not_found_for_outsiders(
    client, private_club, organizer, outsider
):
    paper = suggest_paper(
        club=private_club, suggested_by=organizer, link="1706.03762", title="A", pitch="p"
    )
    meeting = schedule_meeting(club=private_club, suggestions=[paper])

    assert client.get(meeting.get_absolute_url()).status_code == 404
    client.force_login(outsider)
    assert client.get(meeting.get_absolute_url()).status_code == 404


def test_timeline_lists_sessions_newest_first_with_takeaways(client, club, organizer, member):
    titles = ["First", "Second", "Third"]
    for i, title in enumerate(titles):
        paper = suggest_paper(
            club=club, suggested_by=member, link=f"2401.0000{i}", title=title, pitch="p"
        )
        meeting = schedule_meeting(
            club=club, suggestions=[paper], starts_at=timezone.now() - dt.timedelta(weeks=3 - i)
        )
        post_notes(
            meeting=meeting,
            author=organizer,
            bodies=["n", "", ""],
            takeaways={paper.pk: f"{title} line"},
        )

    response = client.get(reverse("meetings:timeline", args=[club.slug]))

    assert [m.number for m in response.context["shown"]] == [3, 2, 1]
    assert "Third line" in response.content.decode()


def test_timeline_query_count_does_not_grow_with_sessions(client, club, add_sessions, same_queries):
    add_sessions(0, 1)

    same_queries(
        lambda: client.get(reverse("meetings:timeline", args=[club.slug])),
        lambda: add_sessions(1, 15),
    )


def test_session_page_query_count_does_not_grow_with_papers(
    client, club, member, organizer, django_assert_num_queries
):
    papers = [
        suggest_paper(
            club=club, suggested_by=member, link=f"2401.{i:05d}", title=f"P{i}", pitch="p"
        )
        for i in range(6)
    ]
    one = schedule_meeting(club=club, suggestions=papers[:1], presenters=[member])
    many = schedule_meeting(club=club, suggestions=papers[1:], presenters=[member, organizer])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(one.get_absolute_url())
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(many.get_absolute_url())


def test_club_page_shows_next_session_and_recent_sessions(client, club, organizer, member):
    held_paper = suggest_paper(
        club=club, suggested_by=member, link="2401.00001", title="Held one", pitch="p"
    )
    held = schedule_meeting(
        club=club, suggestions=[held_paper], starts_at=timezone.now() - dt.timedelta(days=7)
    )
    post_notes(meeting=held, author=organizer, bodies=["n", "", ""], takeaways={})
    next_paper = suggest_paper(
        club=club, suggested_by=member, link="2401.00002", title="Next one", pitch="p"
    )
    schedule_meeting(club=club, suggestions=[next_paper])

    response = client.get(reverse("clubs:detail", args=[club.slug]))

    assert response.context["next_meeting"].suggestions.get().paper.title == "Next one"
    assert [m.number for m in response.context["recent_meetings"]] == [1]
    assert Suggestion.objects.get(pk=held_paper.pk).state == "read"
