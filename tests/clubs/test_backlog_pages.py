"""The ballot's long backlog: the first page renders, the rest load as they scroll into view."""

import pytest

from clubs.page import BACKLOG_PAGE
from papers.services import suggest_paper

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def long_list(club, member):
    for i in range(BACKLOG_PAGE + 5):
        suggest_paper(
            club=club,
            suggested_by=member,
            link=f"https://example.org/p{i}",
            title=f"P{i}",
            pitch="p",
        )


def test_first_page_renders_with_a_sentinel_that_loads_more(client, club, long_list):
    body = client.get(club.get_absolute_url()).content.decode()

    assert body.count('<li class="suggestion') == BACKLOG_PAGE
    assert 'id="more-suggestions"' in body
    assert f'hx-get="{club.get_absolute_url()}?page=2" hx-trigger="revealed"' in body


def test_next_page_comes_as_list_items_only(client, club, long_list):
    response = client.get(
        club.get_absolute_url(), {"page": "2"}, HTTP_HX_TARGET="more-suggestions", **HTMX
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<li class="suggestion')
    assert body.count('<li class="suggestion') == 5
    assert "more-suggestions" not in body and "<ol" not in body


def test_show_more_without_javascript_shows_both_pages(client, club, long_list):
    body = client.get(club.get_absolute_url(), {"page": "2"}).content.decode()

    assert body.count('<li class="suggestion') == BACKLOG_PAGE + 5
    assert 'id="more-suggestions"' not in body


@pytest.mark.parametrize("page", ["x", "0", "-1", "99999999999", ""])
def test_odd_page_numbers_still_show_the_page(client, club, long_list, page):
    response = client.get(club.get_absolute_url(), {"page": page})

    assert response.status_code == 200
