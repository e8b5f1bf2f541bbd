"""Bad input and edge cases found in review of the reading-list, track and ranking features."""

import pytest
from django.urls import reverse

from clubs.services import create_club
from papers.models import Poll, Ranking, ReadMark, Suggestion, Track
from papers.polls import close_poll, open_poll, set_ranking
from papers.reading_lists.plan import plan_import
from papers.reading_lists.services import import_reading_list
from papers.reading_lists.writer import MAX_BYTES
from papers.services import create_track, withdraw_suggestion
from sessions.services import schedule_meeting

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize("page", ["²", "9" * 5000, "١٢"])
def test_odd_digits_in_page_numbers_show_the_first_page(client, club, page):
    assert client.get(club.get_absolute_url(), {"page": page}).status_code == 200


@pytest.mark.parametrize(
    "data", [{"order": "99999999999999999999"}, {"add": "9223372036854775808"}, {"order": "0"}]
)
def test_huge_or_zero_ids_in_a_ranking_are_refused(member_client, club, organizer, dpo, data):
    poll = open_poll(club=club, opened_by=organizer, method=Poll.Method.IRV)

    response = member_client.post(
        reverse("papers:ranking", args=[club.slug, poll.pk]), data, **HTMX
    )

    assert response.status_code == 400
    assert Ranking.objects.count() == 0


def test_withdrawing_a_ranked_paper_moves_the_rest_up_and_rank_still_works(
    club, organizer, member_ship, dpo, lora, flash
):
    poll = open_poll(club=club, opened_by=organizer, method=Poll.Method.IRV)
    set_ranking(poll=poll, membership=member_ship, order=[dpo.pk, lora.pk])

    withdraw_suggestion(suggestion=dpo)
    set_ranking(poll=poll, membership=member_ship, order=[lora.pk, flash.pk])

    rows = Ranking.objects.filter(membership=member_ship).values_list("suggestion", "position")
    assert list(rows) == [(lora.pk, 1), (flash.pk, 2)]


def test_rank_after_a_ranked_paper_was_chosen_for_a_session(
    member_client, club, organizer, member_ship, dpo, lora
):
    poll = open_poll(club=club, opened_by=organizer, method=Poll.Method.IRV)
    set_ranking(poll=poll, membership=member_ship, order=[dpo.pk])
    schedule_meeting(club=club, suggestions=[dpo])

    response = member_client.post(
        reverse("papers:ranking", args=[club.slug, poll.pk]), {"add": lora.pk}, **HTMX
    )

    assert response.status_code == 200
    assert list(Ranking.objects.values_list("suggestion", flat=True)) == [lora.pk]


def test_two_lines_for_the_same_catalog_paper_import_once(club, organizer, member):
    other = create_club(creator=member, name="Other", slug="other")
    import_reading_list(
        club=other,
        text="- [Attention Is All You Need](https://arxiv.org/abs/1706.03762)\n",
        imported_by=member,
    )
    text = (
        "- Attention Is All You Need\n"
        "- [Attention Is All You Need](https://arxiv.org/abs/1706.03762)\n"
    )

    plan = import_reading_list(club=club, text=text, imported_by=organizer)

    assert len(plan.new) == 1
    assert [(p.line, p.reason) for p in plan.problems] == [(2, "Already listed on line 1.")]
    assert club.suggestions.count() == 1


def test_a_withdrawn_paper_in_a_section_is_reported_and_the_rest_imports(club, organizer, dpo):
    withdraw_suggestion(suggestion=dpo)
    text = (
        "## Alignment\n"
        "- [Direct Preference Optimization](https://arxiv.org/abs/2305.18290)\n"
        "- [LoRA](https://arxiv.org/abs/2106.09685)\n"
    )

    plan = import_reading_list(club=club, text=text, imported_by=organizer)

    assert [p.reason for p in plan.problems] == [
        "The club took this paper off its list earlier; suggest it again to bring it back."
    ]
    assert Suggestion.objects.get(pk=dpo.pk).state == "withdrawn"
    assert [e.suggestion.paper.title for e in Track.objects.get().entries.all()] == ["LoRA"]


@pytest.mark.parametrize("second", ["retrieval", "RETRIEVAL"])
def test_sections_differing_in_case_are_one_track(club, organizer, second):
    create_track(club=club, title="Retrieval")
    text = (
        "## Retrieval\n- [DPR](https://arxiv.org/abs/2004.04906)\n"
        f"## {second}\n- [RAG](https://arxiv.org/abs/2005.11401)\n"
    )

    assert plan_import(club=club, text=text).new_tracks == ()
    import_reading_list(club=club, text=text, imported_by=organizer)

    assert [(t.title, t.entries.count()) for t in Track.objects.all()] == [("Retrieval", 2)]


def test_non_ascii_sections_differing_in_case_are_one_new_track(club, organizer):
    text = "## Économie\n- [A](https://example.org/a)\n## économie\n- [B](https://example.org/b)\n"

    import_reading_list(club=club, text=text, imported_by=organizer)

    assert [(t.title, t.entries.count()) for t in Track.objects.all()] == [("Économie", 2)]


def test_a_list_just_under_the_limit_survives_the_round_trip_through_the_browser(
    organizer_client, club
):
    line = "- [Study {0}](https://example.org/p{0})\n"
    text = "".join(line.format(i) for i in range(1990))
    prose = "A line of notes between the papers, which the import skips.\n"
    text += prose * ((MAX_BYTES - 200 - len(text.encode())) // len(prose))
    crlf = text.replace("\n", "\r\n")  # as the browser sends the hidden field back
    assert len(text.encode()) < MAX_BYTES < len(crlf.encode())

    response = organizer_client.post(
        reverse("papers:import", args=[club.slug]), {"text": crlf, "confirm": "1"}
    )

    assert response.status_code == 302
    assert club.suggestions.count() == 1990


def test_export_keeps_scheduled_papers_apart_from_read_ones(client, club, organizer, dpo, lora):
    schedule_meeting(club=club, suggestions=[lora])

    text = client.get(reverse("papers:export_markdown", args=[club.slug])).content.decode()

    assert "**Read**" not in text
    assert text.index("**Up next**") < text.index("[LoRA]") < text.index("**Backlog**")


def test_read_marks_are_refused_on_withdrawn_papers(member_client, club, dpo):
    withdraw_suggestion(suggestion=dpo)

    response = member_client.post(
        reverse("papers:read_mark", args=[club.slug, dpo.pk]), {"read": "1"}
    )

    assert response.status_code == 404
    assert ReadMark.objects.count() == 0


def test_closing_a_ranked_poll_ignores_papers_withdrawn_after_ranking(
    club, organizer, member_ship, dpo, lora
):
    poll = open_poll(club=club, opened_by=organizer, method=Poll.Method.SCHULZE)
    set_ranking(poll=poll, membership=member_ship, order=[dpo.pk, lora.pk])
    withdraw_suggestion(suggestion=dpo)

    assert close_poll(poll=poll, closed_by=organizer).winner == lora
