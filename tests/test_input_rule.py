"""The input rule (paperclub/text.py, paperclub/fields.py) and the safe-redirect helper."""

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from paperclub.errors import RuleViolation
from paperclub.fields import MultiLineField, OneLineField
from paperclub.http import safe_redirect
from paperclub.text import checked_text, multi_line, one_line
from tests.hostile import CORPUS


@pytest.mark.parametrize("value", CORPUS, ids=lambda v: v.name)
def test_one_line_text_has_no_breaks_or_controls(value):
    cleaned = one_line(value.text)

    assert not any(c in cleaned for c in "\r\n\t\x00\x0b\x0c\x85\u2028\u2029")
    assert all(ord(c) >= 32 and not 0x7F <= ord(c) <= 0x9F for c in cleaned)


@pytest.mark.parametrize("value", CORPUS, ids=lambda v: v.name)
def test_multi_line_text_keeps_only_lf_and_tab(value):
    cleaned = multi_line(value.text)

    assert "\r" not in cleaned and "\x00" not in cleaned
    assert all(c in "\n\t" or (ord(c) >= 32 and not 0x7F <= ord(c) <= 0x9F) for c in cleaned)


def test_line_ends_of_every_kind_become_lf_or_a_space():
    assert multi_line("a\r\nb\rc\nd\u2028e") == "a\nb\nc\nd\ne"
    assert one_line(" a\r\nb\rc\n\nd\te ") == "a b c d e"


def test_checked_text_refuses_what_is_too_long_after_cleaning():
    assert checked_text("  name\r\n", max_length=4, label="The name") == "name"
    with pytest.raises(RuleViolation, match="The name must be 4 characters or fewer"):
        checked_text("names", max_length=4, label="The name")


@pytest.mark.parametrize("field_class", [OneLineField, MultiLineField])
def test_form_fields_refuse_nul_with_a_message(field_class):
    with pytest.raises(ValidationError, match="NUL character"):
        field_class(max_length=50).clean("a\x00b")


def test_form_fields_report_the_limit():
    with pytest.raises(ValidationError, match="at most 5 characters"):
        OneLineField(max_length=5).clean("x" * 6)


def test_form_fields_clean_by_the_rule():
    assert OneLineField(max_length=50).clean(" a\r\nb ") == "a b"
    assert MultiLineField(max_length=50).clean("a\r\nb\rc\x07") == "a\nb\nc"


@pytest.mark.parametrize(
    "target",
    [
        "abc",
        "",
        None,
        "//evil.example/",
        "/\\evil.example/",
        "https://evil.example/",
        "javascript:alert(1)",
        "/path\x00",
        "/path\r\nSet-Cookie: x=1",
        "\ufffd",
        " /leading-space",
        "/a\\b",
    ],
)
def test_safe_redirect_refuses_anything_but_a_local_path(target):
    request = RequestFactory().post("/")

    assert safe_redirect(request, target, fallback="/c/asia/")["Location"] == "/c/asia/"


@pytest.mark.parametrize("target", ["/c/asia/tracks/1/#entry-2", "/c/asia/?page=2"])
def test_safe_redirect_follows_a_local_path(target):
    request = RequestFactory().post("/")

    assert safe_redirect(request, target, fallback="/")["Location"] == target


# The instances the issue found, each through the form a person uses.

CLUB = {
    "name": "Rule club",
    "time_zone": "UTC",
    "meeting_weekday": "1",
    "meeting_time": "18:00",
    "meeting_duration": "60",
    "discussion_questions": "Big Idea",
    "visibility": "public",
    "joining": "open",
}


@pytest.mark.django_db
def test_a_nul_in_the_discussion_questions_is_refused_with_a_message(member_client):
    from clubs.models import Club

    response = member_client.post(
        "/clubs/new/", {**CLUB, "discussion_questions": "Big\x00 Idea"}, follow=False
    )

    assert response.status_code == 422
    assert "NUL character" in response.content.decode()
    assert Club.objects.count() == 0


@pytest.mark.django_db
def test_rules_of_100_kb_are_refused_with_a_message(member_client):
    from clubs.models import Club

    response = member_client.post("/clubs/new/", {**CLUB, "rules": "x" * 100_000})

    assert response.status_code == 422
    assert "at most 20000 characters" in response.content.decode()
    assert Club.objects.count() == 0


@pytest.mark.django_db
def test_the_database_refuses_rules_over_the_limit(club):
    from django.db import IntegrityError, transaction

    from clubs.models import Club

    with pytest.raises(IntegrityError), transaction.atomic():
        Club.objects.filter(pk=club.pk).update(rules="x" * 20_001)


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["abc", "a\x00b", "\ufffd", "//evil.example/"])
def test_read_mark_with_a_bad_next_returns_to_the_club(member_client, club, member, target):
    from django.urls import reverse

    from papers.services import suggest_paper

    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")

    response = member_client.post(
        reverse("papers:read_mark", args=[club.slug, paper.pk]), {"read": "1", "next": target}
    )

    assert (response.status_code, response["Location"]) == (302, club.get_absolute_url())


@pytest.mark.django_db
def test_services_clean_text_the_importer_and_commands_send(organizer):
    from clubs.services import create_club

    club = create_club(
        creator=organizer,
        name="Line\r\nbreak",
        slug="lines",
        rules="one\r\ntwo\x00",
        discussion_questions=["Big\nIdea", "  "],
    )

    assert (club.name, club.rules, club.discussion_questions) == (
        "Line break",
        "one\ntwo",
        ["Big Idea"],
    )
