"""A POST whose body cannot be read (a charset other than UTF-8) gets a 400 from every
route, signed in or not, and changes nothing: Django's own 400 handler runs the CSRF
check, which reads the body again, and ended such requests as 500s."""

import pytest
from django.test import Client
from django.urls import reverse

from clubs.models import Membership
from papers.models import Suggestion, Vote
from tests.test_authorization_matrix import POST_CELLS, url_for, world  # noqa: F401

pytestmark = pytest.mark.django_db


UNREADABLE = {
    # A form in a charset other than UTF-8, as a script or an odd client sends it.
    "utf-16-form": ("application/x-www-form-urlencoded; charset=utf-16", b"approve=1"),
    "latin-1-form": ("application/x-www-form-urlencoded; charset=latin-1", "pitch=é".encode()),
}


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "organizer"])
@pytest.mark.parametrize("body", UNREADABLE, ids=list(UNREADABLE))
@pytest.mark.parametrize("name", POST_CELLS)
def test_a_post_that_cannot_be_read_is_a_400_not_a_500(world, name, body, signed_in):  # noqa: F811
    people, clubs = world
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if signed_in:
        client.force_login(people["organizer"])
    client.get(reverse("home"))  # the CSRF cookie, as a browser holds it
    content_type, data = UNREADABLE[body]
    counts = [model.objects.count() for model in (Membership, Vote, Suggestion)]

    response = client.post(
        url_for(name, clubs["public"]),
        data=data,
        content_type=content_type,
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )

    assert response.status_code < 500
    assert [model.objects.count() for model in (Membership, Vote, Suggestion)] == counts
