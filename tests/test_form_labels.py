"""Every form speaks to people: no label is a field name ("Slug", "Place url", "Webhook url").

The sweep renders each page with a form, as its organizer sees it, and reads every label.
"""

import datetime as dt
import re
from html import unescape

import pytest
from django.forms.utils import pretty_name
from django.urls import reverse
from django.utils import timezone

from papers.services import suggest_paper
from sessions.services import schedule_meeting

pytestmark = pytest.mark.django_db

# A label is a defect when it uses the words of the code: a field's type or key
# ("Place url", "Webhook url", "Slug", "Feed token"), or when it is empty.
JARGON = re.compile(r"\b(url|uri|slug|pk|token|uuid|json)\b", re.IGNORECASE)


def labels(html: str) -> dict[str, str]:
    found = {}
    for for_id, text in re.findall(r'<label[^>]*for="id_([^"]+)"[^>]*>(.*?)</label>', html, re.S):
        text = unescape(re.sub(r"<[^>]+>", "", text)).replace("(optional)", "").strip(" :\n")
        found[for_id] = text
    return found


@pytest.fixture
def pages(club, organizer, member):
    paper = suggest_paper(
        club=club, suggested_by=member, link="1706.03762", title="Attention", pitch="p"
    )
    meeting = schedule_meeting(
        club=club, suggestions=[paper], starts_at=timezone.now() + dt.timedelta(days=3)
    )
    slug = club.slug
    return {
        "club create": reverse("clubs:create"),
        "club settings": reverse("clubs:edit", args=[slug]),
        "emails": reverse("clubs:notifications", args=[slug]),
        "profile": reverse("profile"),
        "session new": reverse("meetings:new", args=[slug]),
        "session edit": reverse("meetings:edit", args=[slug, meeting.number]),
        "materials": reverse("meetings:materials", args=[slug, meeting.number]),
        "notes": reverse("meetings:notes", args=[slug, meeting.number]),
        "suggestion edit": reverse("papers:suggestion_edit", args=[slug, paper.pk]),
        "poll": reverse("papers:poll_open", args=[slug]),
        "import": reverse("papers:import", args=[slug]),
        "tracks": reverse("papers:tracks", args=[slug]),
        "club page": club.get_absolute_url(),
    }


def test_no_form_label_is_a_field_name(organizer_client, pages):
    bad = {}
    seen = 0
    for page, url in pages.items():
        response = organizer_client.get(url)
        assert response.status_code == 200, page
        for field, text in labels(response.content.decode()).items():
            seen += 1
            if not text or JARGON.search(text) or text == pretty_name(field) == "Slug":
                bad.setdefault(page, []).append(f"{field}: {text!r}")
    assert bad == {}
    assert seen > 40  # the sweep read the forms


def test_club_form_labels_say_what_the_field_is_for(organizer_client, club):
    found = labels(organizer_client.get(reverse("clubs:edit", args=[club.slug])).content.decode())

    assert (found["slug"], found["place_url"], found["webhook_url"]) == (
        "Web address",
        "Meeting link",
        "Discord or Slack webhook",
    )
