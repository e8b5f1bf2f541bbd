"""Tracks: ordered themes of papers, with the club's summaries and members' read marks."""

import pytest
from django.urls import reverse

from paperclub.errors import RuleViolation
from papers.models import PaperLink, ReadMark, Suggestion, Track, TrackEntry
from papers.services import (
    add_to_track,
    create_track,
    move_track_entry,
    set_read_mark,
    suggest_paper,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def track(club):
    return create_track(club=club, title="RLHF", description="Preference tuning, in order.")


@pytest.fixture
def entries(track, dpo, lora, flash):
    return [add_to_track(track=track, suggestion=s) for s in (dpo, lora, flash)]


def order(track) -> list[str]:
    return [e.suggestion.paper.title for e in TrackEntry.objects.filter(track=track)]


def test_papers_keep_their_order_and_move_up_and_down(track, entries):
    move_track_entry(entry=entries[2], direction="up")
    move_track_entry(entry=entries[0], direction="up")  # already first: stays

    assert order(track) == ["Direct Preference Optimization", "FlashAttention", "LoRA"]


def test_same_title_twice_is_refused_whatever_the_case(club, track):
    with pytest.raises(RuleViolation, match="already has a track called"):
        create_track(club=club, title="rlhf")

    assert Track.objects.count() == 1


def test_paper_of_another_club_cannot_join_a_track(track, member, django_user_model):
    from clubs.services import create_club

    other = create_club(creator=member, name="Elsewhere", slug="elsewhere")
    stranger = suggest_paper(
        club=other, suggested_by=member, link="1706.03762", title="A", pitch="p"
    )

    with pytest.raises(RuleViolation, match="not on this club's list"):
        add_to_track(track=track, suggestion=stranger)


def test_a_paper_appears_once_per_track(track, entries, dpo):
    with pytest.raises(RuleViolation, match="already in this track"):
        add_to_track(track=track, suggestion=dpo)


def test_track_page_shows_order_club_progress_and_next_up(client, club, track, entries, lora):
    Suggestion.objects.filter(pk=entries[0].suggestion_id).update(state="read")

    body = client.get(track.get_absolute_url()).content.decode()

    assert body.index("Direct Preference Optimization") < body.index("LoRA")
    assert "Read by the club" in body
    assert f'id="entry-{entries[1].pk}"' in body
    assert "next-up" in body.split(f'id="entry-{entries[1].pk}"')[0].rsplit("<li", 1)[1]
    assert "the club has read 1" in body


def test_member_marks_a_paper_read_with_htmx(member_client, club, member_ship, track, entries, dpo):
    url = reverse("papers:read_mark", args=[club.slug, dpo.pk])

    response = member_client.post(url, {"read": "1"}, **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith(f'<form id="read-{dpo.pk}"')
    assert "✓ I have read it" in body
    assert ReadMark.objects.filter(membership=member_ship, suggestion=dpo).count() == 1
    member_client.post(url, {"read": "1"}, **HTMX)  # twice is still once
    assert ReadMark.objects.count() == 1
    member_client.post(url, {"read": "0"}, **HTMX)
    assert ReadMark.objects.count() == 0


def test_read_mark_without_javascript_goes_back_only_to_this_site(member_client, club, dpo, track):
    url = reverse("papers:read_mark", args=[club.slug, dpo.pk])

    here = member_client.post(url, {"read": "1", "next": track.get_absolute_url()})
    away = member_client.post(url, {"read": "1", "next": "https://evil.example/"})

    assert here["Location"] == track.get_absolute_url()
    assert away["Location"] == club.get_absolute_url()


def test_read_marks_are_per_member(club, member_ship, organizer_ship, track, entries, dpo):
    set_read_mark(membership=member_ship, suggestion=dpo, read=True)

    page = TrackEntry.objects.filter(track=track).with_read_by(organizer_ship)

    assert [e.read_by_me for e in page] == [False, False, False]


def test_organizer_creates_a_track_and_adds_a_paper_with_a_summary(organizer_client, club, dpo):
    response = organizer_client.post(
        reverse("papers:track_create", args=[club.slug]), {"title": "Intro to Modern LLMs"}
    )
    track = Track.objects.get()
    assert response["Location"] == track.get_absolute_url()

    organizer_client.post(
        reverse("papers:track_entry_add", args=[club.slug, track.pk]),
        {"suggestion": dpo.pk, "summary": "Start **here**."},
    )

    body = organizer_client.get(track.get_absolute_url()).content.decode()
    assert "<strong>here</strong>" in body


def test_entry_edit_keeps_summary_further_reading_and_materials(
    organizer_client, club, track, entries
):
    entry = entries[0]
    url = reverse("papers:track_entry_edit", args=[club.slug, track.pk, entry.pk])

    response = organizer_client.post(
        url,
        {
            "summary": "Skip section 5.",
            "further_reading": "- [IPO](https://arxiv.org/abs/2310.12036)",
            "links": "Slides https://example.com/s.pdf\nRecording: https://youtu.be/abc\n",
        },
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.summary == "Skip section 5."
    links = list(PaperLink.objects.values_list("label", "url"))
    assert links == [("Slides", "https://example.com/s.pdf"), ("Recording", "https://youtu.be/abc")]


def test_entry_edit_with_a_bad_link_changes_nothing(organizer_client, club, track, entries):
    entry = entries[0]
    url = reverse("papers:track_entry_edit", args=[club.slug, track.pk, entry.pk])

    response = organizer_client.post(url, {"summary": "New", "links": "Slides javascript:alert(1)"})

    assert response.status_code == 422
    assert "Line 1 has no link starting with http:// or https://." in response.content.decode()
    entry.refresh_from_db()
    assert entry.summary == ""


def test_member_cannot_change_a_track(member_client, club, track, entries):
    response = member_client.post(
        reverse("papers:track_entry_move", args=[club.slug, track.pk, entries[1].pk]),
        {"direction": "up"},
    )

    assert response.status_code == 403
    assert order(track)[0] == "Direct Preference Optimization"


def test_deleting_a_track_keeps_its_papers(organizer_client, club, track, entries):
    organizer_client.post(reverse("papers:track_delete", args=[club.slug, track.pk]))

    assert (Track.objects.count(), TrackEntry.objects.count()) == (0, 0)
    assert Suggestion.objects.filter(club=club).count() == 3


def test_track_page_queries_do_not_grow_with_papers(
    member_client, club, member, track, entries, same_queries
):
    def grow():
        for i in range(5):
            s = suggest_paper(
                club=club, suggested_by=member, link=f"2402.0000{i}", title=f"T{i}", pitch="p"
            )
            add_to_track(track=track, suggestion=s)
            PaperLink.objects.create(suggestion=s, label="Slides", url=f"https://e.com/{i}")

    same_queries(lambda: member_client.get(track.get_absolute_url()), grow)


def test_tracks_list_queries_do_not_grow_with_tracks(client, club, track, same_queries):
    def grow():
        for i in range(5):
            create_track(club=club, title=f"Theme {i}")

    same_queries(lambda: client.get(reverse("papers:tracks", args=[club.slug])), grow)
