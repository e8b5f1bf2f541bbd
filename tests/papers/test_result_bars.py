"""Poll results drawn as bars with their counts written on them."""

import re

import pytest
from django.urls import reverse

from clubs.services import join_club
from papers.polls import close_poll, open_poll, set_ranking
from papers.services import suggest_paper
from papers.templatetags.results import bar_percent
from papers.votes import set_vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def voters(club, django_user_model):
    people = []
    for i in range(3):
        user = django_user_model.objects.create_user(email=f"v{i}@example.com", password="x")
        people.append(join_club(club=club, user=user))
    return people  # the club now has 5 members


@pytest.fixture
def papers(club, member):
    return [
        suggest_paper(club=club, suggested_by=member, link=f"2401.0000{i}", title=title, pitch="p")
        for i, title in enumerate(["Alpha", "Beta", "Gamma"], start=1)
    ]


def bars(html: str) -> list[tuple[str, str, str]]:
    """(label, width, text) of every bar in the page."""
    rows = re.findall(
        r'<li class="bar-row[^"]*">\s*<span class="bar-label">(.*?)</span>.*?'
        r'<rect x="0" y="0" width="(\d+)%".*?<span class="bar-text">(.*?)</span>',
        html,
        flags=re.S,
    )
    return [(re.sub(r"<[^>]+>", "", label).strip(), width, text) for label, width, text in rows]


def vote(poll, membership, suggestion):
    set_vote(poll=poll, membership=membership, suggestion=suggestion, approve=True)


def test_closed_poll_result_is_a_bar_per_paper_with_its_count(
    client, club, organizer, voters, papers
):
    alpha, beta, _ = papers
    poll = open_poll(club=club, opened_by=organizer, budget=2)
    for membership in voters:
        vote(poll, membership, alpha)
    vote(poll, voters[0], beta)
    close_poll(poll=poll, closed_by=organizer)

    html = client.get(reverse("papers:poll", args=[club.slug, poll.pk])).content.decode()

    assert bars(html) == [
        ("Alpha (winner)", "100", "3 votes"),
        ("Beta", "33", "1 vote"),
        ("Gamma", "0", "0 votes"),
    ]
    assert 'aria-label="Votes per paper"' in html
    assert " style=" not in html  # the CSP forbids inline styles


def test_live_counts_are_bars_when_the_poll_shows_them(client, club, organizer, voters, papers):
    alpha, beta, _ = papers
    poll = open_poll(club=club, opened_by=organizer, show_live_results=True)
    vote(poll, voters[0], alpha)
    vote(poll, voters[1], alpha)
    vote(poll, voters[2], beta)

    page = client.get(reverse("papers:poll", args=[club.slug, poll.pk])).content.decode()
    ballot = client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert bars(page) == [
        ("Alpha", "100", "2 votes"),
        ("Beta", "50", "1 vote"),
        ("Gamma", "0", "0 votes"),
    ]
    # On the ballot each bar is the share of the club's 5 members.
    live = re.findall(
        r'<rect x="0" y="0" width="(\d+)%".*?<span class="bar-text">(.*?)</span>', ballot, re.S
    )
    assert sorted(live) == sorted(
        [
            ("40", "<strong>2</strong> votes"),
            ("20", "<strong>1</strong> vote"),
            ("0", "<strong>0</strong> votes"),
        ]
    )
    assert " style=" not in page and " style=" not in ballot


def test_hidden_counts_draw_no_bars(client, club, organizer, voters, papers):
    poll = open_poll(club=club, opened_by=organizer)
    vote(poll, voters[0], papers[0])

    page = client.get(reverse("papers:poll", args=[club.slug, poll.pk])).content.decode()
    ballot = client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert bars(page) == []
    assert "bar-track" not in ballot


def test_ranked_result_shows_first_choices_and_the_final_round(
    client, club, organizer, voters, papers
):
    alpha, beta, gamma = papers
    poll = open_poll(club=club, opened_by=organizer, method="irv")
    set_ranking(poll=poll, membership=voters[0], order=[alpha.pk, beta.pk])
    set_ranking(poll=poll, membership=voters[1], order=[beta.pk, alpha.pk])
    set_ranking(poll=poll, membership=voters[2], order=[gamma.pk, alpha.pk])
    close_poll(poll=poll, closed_by=organizer)

    html = client.get(reverse("papers:poll", args=[club.slug, poll.pk])).content.decode()

    found = bars(html)
    assert "1 first choice" in {text for _, _, text in found}
    final = html.split('id="final-round"', 1)[1].split("</ol>", 1)[0]
    assert [text for _, _, text in bars(final)] and all(
        text.endswith(("ballot", "ballots")) for _, _, text in bars(final)
    )
    assert "(winner)" in html.split('id="counts-heading"', 1)[1]


def test_bar_widths_stay_in_range_and_grow_with_the_count():
    for top in range(0, 60):
        widths = [bar_percent(count, top) for count in range(top + 1)]
        assert all(0 <= w <= 100 for w in widths)
        assert widths == sorted(widths)
        if top:
            assert widths[-1] == 100
            assert all(w > 0 for w in widths[1:])  # one vote never looks like none
    assert bar_percent(None, 3) == bar_percent("x", 3) == 0
