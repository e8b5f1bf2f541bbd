"""Find a paper of the club by title, author or arXiv ID, as you type."""

import pytest
from django.db import connection
from django.urls import reverse

from clubs.services import create_club
from papers.models import Paper, Suggestion
from papers.services import suggest_paper, withdraw_suggestion

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shelf(club, member):
    papers = [
        ("1706.03762", "Attention Is All You Need", "Ashish Vaswani, Noam Shazeer"),
        ("2005.14165", "Language Models are Few-Shot Learners", "Tom B. Brown"),
        ("2106.09685", "LoRA: Low-Rank Adaptation of Large Language Models", "Edward J. Hu"),
    ]
    for arxiv_id, title, authors in papers:
        suggest_paper(
            club=club, suggested_by=member, link=arxiv_id, title=title, authors=authors, pitch="p"
        )
        Paper.objects.filter(arxiv_id=arxiv_id).update(authors=authors)


def titles(response) -> list[str]:
    return [s.paper.title for s in response.context["results"]]


def search(client, club, q, **extra):
    return client.get(reverse("papers:search", args=[club.slug]), {"q": q}, **extra)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("attention", ["Attention Is All You Need"]),
        ("atten", ["Attention Is All You Need"]),  # as you type: a prefix
        (
            "language models",
            [
                "Language Models are Few-Shot Learners",
                "LoRA: Low-Rank Adaptation of Large Language Models",
            ],
        ),
        ("vaswani", ["Attention Is All You Need"]),
        ("2106.09685", ["LoRA: Low-Rank Adaptation of Large Language Models"]),
        ("2106.09", ["LoRA: Low-Rank Adaptation of Large Language Models"]),
        ("quantum gravity", []),
        ("'); DROP TABLE papers_paper; --", []),
        ("a & b | !c :* <->", []),
    ],
)
def test_search_finds_by_title_author_and_arxiv_id(client, club, shelf, query, expected):
    assert titles(search(client, club, query)) == expected


def test_search_is_scoped_to_the_club_and_skips_withdrawn(client, club, shelf, member):
    other = create_club(creator=member, name="Other", slug="other")
    suggest_paper(
        club=other, suggested_by=member, link="2305.18290", title="Attention DPO", pitch="p"
    )
    withdraw_suggestion(suggestion=Suggestion.objects.get(paper__arxiv_id="2005.14165"))

    assert titles(search(client, club, "attention")) == ["Attention Is All You Need"]
    assert titles(search(client, club, "few-shot")) == []


def test_htmx_search_returns_only_the_results(client, club, shelf):
    body = search(client, club, "lora", **HTMX).content.decode()

    assert body.lstrip().startswith('<div id="search-results"')
    assert "<html" not in body
    assert "LoRA: Low-Rank Adaptation" in body


def test_search_page_works_without_javascript(client, club, shelf):
    response = search(client, club, "nothing-like-this")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body
    assert "No paper of this club matches “nothing-like-this”." in body


def test_private_club_search_is_hidden_from_outsiders(outsider_client, private_club):
    assert search(outsider_client, private_club, "x").status_code == 404


def test_search_queries_do_not_grow_with_results(client, club, shelf, member, same_queries):
    def grow():
        for i in range(10):
            suggest_paper(
                club=club,
                suggested_by=member,
                link=f"2403.0000{i}",
                title=f"Attention {i}",
                pitch="p",
            )

    same_queries(lambda: search(client, club, "attention"), grow)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index is PostgreSQL's")
def test_postgresql_search_uses_the_full_text_index(club):
    query = Paper.objects.matching("attention vasw").values("pk").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "papers_paper_search" in plan


# Queries without a single word: punctuation, a zero-width space, bytes that are not UTF-8,
# a NUL. Each is a search for nothing, never an error.
WORDLESS = ["-", "!!!", "\u200b", "%FF%FE", "%00", "'\"", "***"]


@pytest.mark.parametrize("query", WORDLESS)
def test_a_search_without_words_finds_nothing_and_says_so(client, club, query):
    response = client.get(f"{reverse('papers:search', args=[club.slug])}?q={query}")

    assert response.status_code == 200


@pytest.mark.parametrize("query", WORDLESS)
def test_the_home_pages_club_search_takes_any_query(client, club, query):
    response = client.get(f"{reverse('home')}?q={query}")

    assert response.status_code == 200
