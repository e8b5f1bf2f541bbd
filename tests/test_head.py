"""HEAD is served wherever GET is: calendar clients and link checkers ask with it.

The routes are the authorization matrix's, read from the URL resolver, so a new page is
checked without a new line here.
"""

import pytest
from django.test import Client

from tests.test_authorization_matrix import RULES, not_allowed, url_for, world  # noqa: F401

pytestmark = pytest.mark.django_db

GET_ROUTES = sorted(name for name, methods in RULES.items() if methods["GET"] is not not_allowed)
POST_ONLY = sorted(name for name, methods in RULES.items() if methods["GET"] is not_allowed)


@pytest.mark.parametrize("name", GET_ROUTES)
def test_head_answers_like_get_without_a_body(request, name):
    people, clubs = request.getfixturevalue("world")
    client = Client()
    client.force_login(people["organizer"])
    url = url_for(name, clubs["public"])

    got = client.get(url)
    head = client.head(url)

    assert (got.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    assert head["Content-Type"] == got["Content-Type"]


@pytest.mark.parametrize("name", POST_ONLY)
def test_head_of_a_post_only_route_is_refused_like_get(request, name):
    people, clubs = request.getfixturevalue("world")
    client = Client()
    client.force_login(people["organizer"])

    assert client.head(url_for(name, clubs["public"])).status_code == 405


def test_head_route_count():
    # Reported in the README's "Security and reliability" section.
    assert (len(GET_ROUTES), len(POST_ONLY)) == (39, 30)
