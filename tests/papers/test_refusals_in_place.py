"""A refused htmx action is shown beside the control that caused it, and read out.

On a phone the top of the ballot is off screen, so each refusal is retargeted to a message
region in the row of its button. The sweep: for every refused action, the region the
answer names is in the page, in the same row as the button, and is an assertive live region.
"""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from papers.models import Poll
from papers.polls import close_poll, open_poll, set_ranking
from papers.votes import set_vote
from sessions.services import cancel_meeting, schedule_meeting

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def region(html: str, element_id: str) -> str:
    """The opening tag of the element with this id (exactly one in the page)."""
    tags = re.findall(rf'<[a-z]+ [^>]*id="{re.escape(element_id)}"[^>]*>', html)
    assert len(tags) == 1, f"{element_id}: {len(tags)} elements"
    return tags[0]


def row_of(html: str, element_id: str, row_start: str) -> str:
    """The row (from `row_start` to the next row) that holds the element."""
    at = html.index(f'id="{element_id}"')
    start = html.rindex(row_start, 0, at)
    end = html.find(row_start, at)
    return html[start : end if end != -1 else len(html)]


def assert_shown_beside(page_html: str, response, *, control: str, row_start: str) -> None:
    target = response["HX-Retarget"]
    assert target.startswith("#")
    tag = region(page_html, target[1:])
    assert 'role="alert"' in tag and 'aria-live="assertive"' in tag
    assert control in row_of(page_html, target[1:], row_start)
    assert response["HX-Reswap"] == "innerHTML"
    assert response.content.decode().startswith('<p class="error">')


def test_a_vote_past_the_budget_is_refused_in_the_papers_row(
    member_client, club, poll, member_ship, dpo, lora, flash
):
    for paper in (dpo, lora):
        set_vote(poll=poll, membership=member_ship, suggestion=paper, approve=True)
    page = member_client.get(club.get_absolute_url()).content.decode()

    url = reverse("papers:vote", args=[club.slug, poll.pk, flash.pk])
    response = member_client.post(url, {"approve": "1"}, **HTMX)

    assert response.status_code == 409
    assert response["HX-Retarget"] == f"#row-message-{flash.pk}"
    assert "You have used all 2 of your votes" in response.content.decode()
    assert_shown_beside(
        page, response, control=f'aria-label="Vote for {flash.paper.title}"', row_start="<li "
    )


@pytest.fixture
def ranked(club, organizer, dpo, lora, flash, member_ship):
    poll = open_poll(club=club, opened_by=organizer, method=Poll.Method.IRV)
    set_ranking(poll=poll, membership=member_ship, order=[lora.pk, dpo.pk])
    return poll


def test_rank_on_a_closed_poll_is_refused_in_the_papers_row(
    member_client, club, organizer, ranked, flash
):
    page = member_client.get(club.get_absolute_url()).content.decode()
    close_poll(poll=ranked, closed_by=organizer)

    url = reverse("papers:ranking", args=[club.slug, ranked.pk])
    response = member_client.post(url, {"add": str(flash.pk)}, **HTMX)

    assert response.status_code == 409
    assert response["HX-Retarget"] == f"#row-message-{flash.pk}"
    assert_shown_beside(
        page, response, control=f'aria-label="Rank {flash.paper.title} next"', row_start="<li "
    )


def test_a_ranking_lines_arrow_is_refused_in_that_line(
    member_client, club, organizer, ranked, dpo, lora
):
    page = member_client.get(club.get_absolute_url()).content.decode()
    close_poll(poll=ranked, closed_by=organizer)

    # What the "Move up" button of DPO's line posts.
    url = reverse("papers:ranking", args=[club.slug, ranked.pk])
    response = member_client.post(url, {"order": [dpo.pk, lora.pk], "line": str(dpo.pk)}, **HTMX)

    assert response.status_code == 409
    assert response["HX-Retarget"] == f"#ranking-message-{dpo.pk}"
    assert_shown_beside(
        page, response, control=f'aria-label="Move up: {dpo.paper.title}"', row_start="<li "
    )


@pytest.mark.parametrize("line", ["", "x", "٣", "9" * 40])
def test_a_drag_or_an_unreadable_line_is_refused_above_the_ballot(
    member_client, club, organizer, ranked, dpo, lora, line
):
    close_poll(poll=ranked, closed_by=organizer)

    url = reverse("papers:ranking", args=[club.slug, ranked.pk])
    response = member_client.post(url, {"order": [dpo.pk, lora.pk], "line": line}, **HTMX)

    assert (response.status_code, response["HX-Retarget"]) == (409, "#poll-message")


def test_a_late_rsvp_is_refused_under_its_buttons(member_client, club, dpo):
    meeting = schedule_meeting(
        club=club, suggestions=[dpo], starts_at=timezone.now() + dt.timedelta(days=3)
    )
    page = member_client.get(meeting.get_absolute_url()).content.decode()
    cancel_meeting(meeting=meeting)

    url = reverse("meetings:rsvp", args=[club.slug, meeting.number])
    response = member_client.post(url, {"answer": "going"}, **HTMX)

    assert response.status_code == 409
    assert response["HX-Retarget"] == "#rsvp-message"
    assert_shown_beside(
        page, response, control='name="answer" value="going"', row_start='<div id="rsvp"'
    )
