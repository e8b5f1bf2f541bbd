"""The suggest form fills a paper's details from arXiv, through the catalog."""

import pytest
from django.urls import reverse

from clubs.services import create_club
from papers.models import Paper, Suggestion
from papers.services import suggest_paper
from tests.papers.conftest import Reply

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def check(client, club, link: str, **fields):
    return client.post(
        reverse("papers:suggest_check", args=[club.slug]), {"link": link, **fields}, **HTMX
    )


def test_pasting_a_hugging_face_link_fills_title_authors_and_year(member_client, club, arxiv_api):
    response = check(member_client, club, "https://huggingface.co/papers/1706.03762")

    body = response.content.decode()
    assert response.status_code == 200
    assert "“Attention Is All You Need” by Ashish Vaswani" in body
    assert (
        'id="id_title" maxlength="300" value="Attention Is All You Need" hx-swap-oob="true"' in body
    )
    assert 'id="id_year" min="1900" max="2100" value="2017" hx-swap-oob="true"' in body
    assert "<summary>Abstract</summary>" in body
    paper = Paper.objects.get()
    assert (paper.arxiv_id, paper.year, paper.fetched_at is not None) == ("1706.03762", 2017, True)
    assert paper.abstract.startswith("The dominant sequence transduction models")


def test_a_paper_is_fetched_once_whichever_club_suggests_it(member_client, club, member, arxiv_api):
    other = create_club(creator=member, name="Fridays", slug="fridays")

    check(member_client, club, "1706.03762")
    check(member_client, club, "arxiv.org/abs/1706.03762v7")
    check(member_client, other, "https://arxiv.org/pdf/1706.03762")

    assert len(arxiv_api.requests) == 1
    assert Paper.objects.count() == 1


def test_typed_title_is_not_overwritten(member_client, club, arxiv_api):
    response = check(member_client, club, "1706.03762", title="My own title")

    body = response.content.decode()
    assert 'id="id_title" maxlength="300"' not in body
    assert 'id="id_authors" maxlength="1000" value="Ashish Vaswani' in body  # still empty


def test_only_the_empty_fields_are_filled(member_client, club, arxiv_api):
    response = check(member_client, club, "1706.03762", authors="Vaswani et al.", year="2017")

    body = response.content.decode()
    assert 'id="id_title" maxlength="300" value="Attention Is All You Need"' in body
    assert ('id="id_authors"' in body, 'id="id_year"' in body) == (False, False)


def test_unknown_arxiv_id_says_so(member_client, club, arxiv_api):
    response = check(member_client, club, "1234.56789")

    assert "arXiv has no paper with the ID 1234.56789." in response.content.decode()
    assert Paper.objects.count() == 0


def test_arxiv_down_lets_the_member_type_the_details(member_client, club):
    response = check(member_client, club, "2305.18290")

    body = response.content.decode()
    assert "arXiv paper 2305.18290." in body
    assert "arXiv could not be reached just now; type the details yourself." in body


def test_suggest_without_title_takes_the_details_from_arxiv(member_client, club, arxiv_api):
    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "https://arxiv.org/abs/2005.14165v4", "pitch": "Few-shot."},
        **HTMX,
    )

    assert response.status_code == 200
    paper = Suggestion.objects.get().paper
    assert paper.title == "Language Models are Few-Shot Learners"
    assert paper.authors.startswith("Tom B. Brown, Benjamin Mann")
    assert paper.year == 2020


@pytest.mark.parametrize("slow", [False, True], ids=["refused", "timeout"])
def test_suggest_when_arxiv_fails_keeps_the_input_and_writes_nothing(
    member_client, club, settings, arxiv_api, slow
):
    if slow:
        settings.ARXIV_TIMEOUT = 0.3
        arxiv_api.replies["2005.14165"] = Reply(delay=5)
    else:
        settings.ARXIV_API_URL = "http://127.0.0.1:9/api/query"

    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "2005.14165", "pitch": "Few-shot learning at scale."},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert "arXiv could not be reached just now; type the details yourself." in body
    assert 'value="2005.14165"' in body
    assert "Few-shot learning at scale." in body
    assert (Paper.objects.count(), Suggestion.objects.count()) == (0, 0)


def test_suggest_with_title_typed_keeps_it_for_the_club_and_arxivs_for_the_catalog(
    member_client, club, arxiv_api
):
    member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "2005.14165", "title": "GPT-3", "pitch": "Few-shot."},
        **HTMX,
    )

    suggestion = Suggestion.objects.get()
    assert len(arxiv_api.requests) == 1
    assert suggestion.paper.title == "Language Models are Few-Shot Learners"
    assert suggestion.paper.from_arxiv
    assert suggestion.display_title == "GPT-3"


def test_suggest_with_arxivs_title_typed_follows_arxiv(member_client, club, arxiv_api):
    member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "2005.14165", "title": "language models are few-shot learners", "pitch": "p"},
        **HTMX,
    )

    suggestion = Suggestion.objects.get()
    assert suggestion.title == ""
    assert suggestion.display_title == "Language Models are Few-Shot Learners"


def test_arxiv_down_on_the_check_says_the_title_is_needed(member_client, club):
    body = check(member_client, club, "2305.18290").content.decode()

    assert '<label for="id_title" id="id_title-label" hx-swap-oob="true">Title</label>' in body
    assert "arXiv could not be reached, so type the title yourself." in body
    assert "(optional)" not in body


def test_a_web_link_says_the_title_is_needed(member_client, club):
    body = check(member_client, club, "https://example.org/paper.pdf").content.decode()

    assert '<label for="id_title" id="id_title-label" hx-swap-oob="true">Title</label>' in body
    assert "Type the title: only arXiv papers are filled in." in body


def test_a_found_paper_keeps_the_title_optional(member_client, club, arxiv_api):
    body = check(member_client, club, "1706.03762").content.decode()

    assert 'hx-swap-oob="true">Title <span class="muted">(optional)</span></label>' in body


def test_arxiv_down_on_submit_no_longer_labels_the_title_optional(member_client, club):
    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "2005.14165", "pitch": "Few-shot learning at scale."},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert '<label for="id_title" id="id_title-label">Title</label>' in body
    assert "arXiv could not be reached, so type the title yourself." in body
    assert (
        '<label for="id_authors" id="id_authors-label">Authors <span class="muted">(optional)'
        in body
    )


def test_arxiv_down_for_a_paper_another_club_typed_asks_for_the_title_at_its_field(
    member_client, club, organizer
):
    other = create_club(creator=organizer, name="Elsewhere", slug="elsewhere")
    suggest_paper(
        club=other,
        suggested_by=organizer,
        link="2005.14165",
        title="A title typed by hand",
        pitch="Typed while arXiv was down.",
    )

    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "2005.14165", "pitch": "Few-shot learning at scale."},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert '<label for="id_title" id="id_title-label">Title</label>' in body
    assert "arXiv could not be reached, so type the title yourself." in body
    assert "A title typed by hand" not in body
    assert Suggestion.objects.filter(club=club).count() == 0
