"""A budget of one vote reads "1 vote", in every text built in Python."""

import pytest
from django.core import mail

from integrations.messages import poll_text
from papers.polls import open_poll
from sessions.tasks import send_poll_opened

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("budget", "words"), [(1, "1 vote"), (3, "3 votes")])
def test_the_poll_email_and_the_discord_poll_count_votes_in_words(club, organizer, budget, words):
    poll = open_poll(club=club, opened_by=organizer, budget=budget)

    send_poll_opened.call(poll.pk)

    assert f"you have {words}." in mail.outbox[0].body
    assert f"{words} each." in poll_text(poll, [])
