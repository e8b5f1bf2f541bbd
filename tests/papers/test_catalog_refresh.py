"""One paper, one catalog row: arXiv fills what was typed by hand once it answers, an
arXiv-linked suggestion of a title-only paper makes the two one row, and the
merge_duplicate_papers command cleans up what an older database already has."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clubs.services import create_club, join_club
from papers.catalog import paper_for_title
from papers.models import Paper, Suggestion, Vote
from papers.polls import open_poll
from papers.reading_lists.services import import_reading_list
from papers.services import suggest_paper
from papers.tasks import REFRESH_ATTEMPTS, refresh_paper
from papers.titles import title_url_key
from papers.votes import set_vote
from tests.papers.conftest import recorded

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
INSTRUCT = "Training language models to follow instructions with human feedback"


def queued_refreshes() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path="papers.tasks.refresh_paper"))


@pytest.fixture
def title_search(arxiv_api):
    arxiv_api.replies[f'ti:"{INSTRUCT}"'] = recorded("search_instructgpt.xml")
    return arxiv_api


# ---------- arXiv fills a paper typed by hand, when it can ----------


def test_a_paper_typed_while_arxiv_is_down_is_refreshed_in_the_background(
    club, private_club, member, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        ours = suggest_paper(
            club=club,
            suggested_by=member,
            link="1706.03762",
            title="attention is all you need",
            authors="Vaswani",
            pitch="p",
        )
        suggest_paper(
            club=private_club,
            suggested_by=member,
            link="1706.03762",
            title="Buy now at buy-now.example",
            pitch="p",
        )
    assert len(queued_refreshes()) == 2
    assert ours.paper.from_arxiv is False


def test_refresh_fills_the_shared_row_and_clubs_keep_what_differs(
    club, private_club, member, arxiv_api, settings
):
    settings.ARXIV_API_URL = "http://127.0.0.1:9/api/query"  # down while suggesting
    ours = suggest_paper(
        club=club,
        suggested_by=member,
        link="1706.03762",
        title="attention is all you need",
        authors="Vaswani",
        pitch="p",
    )
    theirs = suggest_paper(
        club=private_club,
        suggested_by=member,
        link="1706.03762",
        title="Buy now at buy-now.example",
        pitch="p",
    )
    settings.ARXIV_API_URL = arxiv_api.url  # arXiv answers again

    assert refresh_paper.call(ours.paper_id) is True

    paper = Paper.objects.get()
    assert (paper.title, paper.year, paper.from_arxiv) == ("Attention Is All You Need", 2017, True)
    assert paper.authors.startswith("Ashish Vaswani, Noam Shazeer")
    ours.refresh_from_db()
    theirs.refresh_from_db()
    # Ours only repeated arXiv's title: it follows arXiv now. Its typed authors stay ours.
    assert (ours.display_title, ours.display_authors) == ("Attention Is All You Need", "Vaswani")
    assert theirs.display_title == "Buy now at buy-now.example"


def test_refresh_asks_again_later_while_arxiv_is_down(club, member):
    paper = suggest_paper(
        club=club, suggested_by=member, link="1706.03762", title="Attention", pitch="p"
    ).paper
    started = timezone.now()

    assert refresh_paper.call(paper.pk) is False

    (retry,) = queued_refreshes()
    assert retry.args_kwargs["args"] == [paper.pk, 2]
    assert retry.run_after > started
    # The last attempt gives up quietly.
    retry.delete()
    assert refresh_paper.call(paper.pk, REFRESH_ATTEMPTS) is False
    assert queued_refreshes() == []


def test_refresh_leaves_a_paper_arxiv_does_not_have(club, member, arxiv_api):
    paper = suggest_paper(
        club=club, suggested_by=member, link="1234.56789", title="Made up", pitch="p"
    ).paper

    assert refresh_paper.call(paper.pk) is False
    assert queued_refreshes() == []
    paper.refresh_from_db()
    assert (paper.title, paper.from_arxiv) == ("Made up", False)


def test_a_title_only_paper_finds_its_arxiv_id(club, member, title_search):
    paper = paper_for_title(f"InstructGPT: {INSTRUCT}")
    Suggestion.objects.create(
        club=club, paper=paper, suggested_by=member, pitch="p", title=paper.title
    )

    assert refresh_paper.call(paper.pk) is True

    paper.refresh_from_db()
    assert (paper.arxiv_id, paper.url_key, paper.title) == ("2203.02155", None, INSTRUCT)
    # The club called it by its nickname: that copy is the club's.
    assert Suggestion.objects.get().display_title == f"InstructGPT: {INSTRUCT}"


def test_a_title_only_paper_stays_so_when_arxiv_has_no_match(club, member, title_search):
    paper = paper_for_title("A paper arXiv does not have at all")

    assert refresh_paper.call(paper.pk) is False
    paper.refresh_from_db()
    assert (paper.arxiv_id, paper.title_only) == (None, True)


# ---------- an arXiv-linked suggestion of a title-only paper: one row ----------


def test_an_arxiv_link_for_a_title_only_paper_makes_one_row(
    club, private_club, organizer, member, member_client, title_search
):
    title_search.replies["2203.02155"] = recorded("2203.02155.xml")
    paper = paper_for_title(INSTRUCT.upper())
    listed = Suggestion.objects.create(
        club=private_club, paper=paper, suggested_by=organizer, pitch="p", title=INSTRUCT.upper()
    )
    poll = open_poll(club=private_club, opened_by=organizer)
    set_vote(
        poll=poll,
        membership=private_club.memberships.get(user=member),
        suggestion=listed,
        approve=True,
    )

    member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "https://arxiv.org/abs/2203.02155v1", "pitch": "RLHF for instructions."},
        **HTMX,
    )

    assert Paper.objects.count() == 1
    paper = Paper.objects.get()
    assert (paper.arxiv_id, paper.from_arxiv) == ("2203.02155", True)
    assert set(paper.suggestions.values_list("club__slug", flat=True)) == {"asia", "secret"}
    assert list(Vote.objects.values_list("suggestion", flat=True)) == [listed.pk]
    listed.refresh_from_db()
    assert listed.display_title == INSTRUCT  # only case differed: it follows arXiv now


def test_the_same_club_suggesting_its_title_only_paper_by_link_is_told_it_has_it(
    club, member, member_client, title_search
):
    title_search.replies["2203.02155"] = recorded("2203.02155.xml")
    paper = paper_for_title(INSTRUCT)
    Suggestion.objects.create(
        club=club, paper=paper, suggested_by=member, pitch="p", title=INSTRUCT
    )

    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "2203.02155", "pitch": "Again."},
        **HTMX,
    )

    assert response.status_code == 422
    assert "Already suggested by Max Member" in response.content.decode()
    assert (Paper.objects.count(), Suggestion.objects.count()) == (1, 1)


# ---------- a made-up title cannot take over the shared row ----------


def test_a_made_up_title_never_reaches_another_club(
    club, private_club, member, member_client, arxiv_api
):
    member_client.post(
        reverse("papers:suggest", args=[private_club.slug]),
        {"link": "1706.03762", "title": "Cheap pills at buy-now.example", "pitch": "p"},
        **HTMX,
    )
    member_client.post(
        reverse("papers:suggest", args=[club.slug]), {"link": "1706.03762", "pitch": "p"}, **HTMX
    )

    shared = Paper.objects.get()
    assert shared.title == "Attention Is All You Need"
    assert Suggestion.objects.get(club=club).display_title == "Attention Is All You Need"
    assert (
        Suggestion.objects.get(club=private_club).display_title == "Cheap pills at buy-now.example"
    )
    page = member_client.get(club.get_absolute_url()).content.decode()
    assert "buy-now.example" not in page


def test_a_club_suggesting_a_paper_another_club_typed_types_its_own_title(
    club, private_club, member
):
    suggest_paper(
        club=private_club,
        suggested_by=member,
        link="https://example.org/p",
        title="Hidden",
        pitch="p",
    )

    with pytest.raises(Exception, match="Give the paper's title"):
        suggest_paper(club=club, suggested_by=member, link="https://example.org/p", pitch="p")


def test_link_check_shows_nothing_another_club_typed(club, private_club, member, member_client):
    suggest_paper(
        club=private_club,
        suggested_by=member,
        link="https://example.org/p",
        title="Hidden title",
        authors="Hidden Author",
        pitch="p",
    )
    outsider_club = create_club(creator=member, name="Third", slug="third")

    body = member_client.post(
        reverse("papers:suggest_check", args=[outsider_club.slug]),
        {"link": "https://example.org/p"},
        **HTMX,
    ).content.decode()

    assert "Hidden" not in body
    assert "A web link." in body


# ---------- an organizer corrects the club's copy ----------


def test_organizer_corrects_the_clubs_copy_and_can_go_back_to_arxivs(
    club, organizer_client, arxiv_api
):
    organizer_client.post(
        reverse("papers:suggest", args=[club.slug]), {"link": "1706.03762", "pitch": "p"}
    )
    suggestion = Suggestion.objects.get()
    url = reverse("papers:suggestion_edit", args=[club.slug, suggestion.pk])

    organizer_client.post(
        url, {"pitch": "p", "title": "The Transformer", "authors": "", "year": ""}
    )
    suggestion.refresh_from_db()
    assert suggestion.display_title == "The Transformer"
    assert Paper.objects.get().title == "Attention Is All You Need"

    organizer_client.post(url, {"pitch": "p", "title": "", "authors": "", "year": ""})
    suggestion.refresh_from_db()
    assert (suggestion.title, suggestion.display_title) == ("", "Attention Is All You Need")


def test_a_member_cannot_change_the_clubs_copy(club, member, member_client):
    suggestion = suggest_paper(
        club=club, suggested_by=member, link="https://example.org/p", title="Mine", pitch="p"
    )

    member_client.post(
        reverse("papers:suggestion_edit", args=[club.slug, suggestion.pk]),
        {"pitch": "new pitch", "title": "Changed"},
    )

    suggestion.refresh_from_db()
    assert (suggestion.pitch, suggestion.title) == ("new pitch", "Mine")


def test_the_club_copy_of_a_paper_arxiv_has_not_confirmed_needs_a_title(
    club, member, organizer_client
):
    suggestion = suggest_paper(
        club=club, suggested_by=member, link="https://example.org/p", title="Mine", pitch="p"
    )

    response = organizer_client.post(
        reverse("papers:suggestion_edit", args=[club.slug, suggestion.pk]),
        {"pitch": "p", "title": "", "authors": "", "year": ""},
    )

    assert response.status_code == 422
    suggestion.refresh_from_db()
    assert suggestion.title == "Mine"


# ---------- cleaning up an older catalog ----------


def legacy_title_row(title: str) -> Paper:
    """A title-only row as older imports wrote them (their own key spelling)."""
    return Paper.objects.create(title=title, url_key="title:" + " ".join(title.lower().split()))


def test_merge_command_merges_title_only_rows_into_the_arxiv_row(club, private_club, member):
    real = Paper.objects.create(
        arxiv_id="1706.03762",
        title="Attention Is All You Need",
        url="https://arxiv.org/abs/1706.03762",
        fetched_at=timezone.now(),
    )
    first = legacy_title_row("Attention is all you need")
    second = legacy_title_row("Attention Is All You Need.")
    lonely = legacy_title_row("A paper nobody else has")
    for paper, where in ((first, club), (second, private_club), (real, private_club)):
        Suggestion.objects.create(
            club=where, paper=paper, suggested_by=member, pitch="p", title=paper.title
        )

    out = StringIO()
    call_command("merge_duplicate_papers", "--dry-run", stdout=out)
    assert "the catalog would go from 4 to 2 papers" in out.getvalue()
    assert Paper.objects.count() == 4

    out = StringIO()
    call_command("merge_duplicate_papers", stdout=out)

    assert "2 duplicates merged; the catalog went from 4 to 2 papers." in out.getvalue()
    assert set(Paper.objects.values_list("pk", flat=True)) == {real.pk, lonely.pk}
    # The private club had it twice: one suggestion now.
    assert Suggestion.objects.filter(club=private_club).count() == 1
    assert Suggestion.objects.get(club=club).paper == real
    lonely.refresh_from_db()
    assert lonely.url_key == title_url_key(lonely.title)

    out = StringIO()
    call_command("merge_duplicate_papers", stdout=out)
    assert "0 duplicates merged" in out.getvalue()


def test_merge_command_keeps_two_arxiv_papers_with_one_title_apart():
    for arxiv_id in ("1706.03762", "2005.14165"):
        Paper.objects.create(
            arxiv_id=arxiv_id, title="Same title", url=f"https://arxiv.org/abs/{arxiv_id}"
        )
    Paper.objects.create(
        title="Same title", url="https://example.org/same", url_key="https://example.org/same"
    )

    call_command("merge_duplicate_papers", stdout=StringIO())

    assert Paper.objects.count() == 3


# ---------- counting ----------

LIST_BY_LINKS = """# Club A
- [Attention Is All You Need](https://arxiv.org/abs/1706.03762)
- [Language Models are Few-Shot Learners](https://arxiv.org/abs/2005.14165)
"""
LIST_BY_TITLES = """Attention is all you need: attention alone.
Language models are few-shot learners: in-context learning.
Training language models to follow instructions with human feedback: RLHF.
"""
LIST_BY_OTHER_SPELLINGS = """- ATTENTION IS ALL YOU NEED
- Language Models Are Few Shot Learners
- Training Language Models to Follow Instructions with Human Feedback
"""


def test_a_catalog_of_several_lists_has_one_row_per_paper(
    organizer, member, title_search, django_capture_on_commit_callbacks
):
    title_search.replies['ti:"Attention is all you need"'] = recorded("1706.03762.xml")
    title_search.replies['ti:"Language models are few shot learners"'] = recorded("2005.14165.xml")
    clubs = [create_club(creator=organizer, name=f"Club {n}", slug=f"club-{n}") for n in "abc"]
    for club in clubs:
        join_club(club=club, user=member)
    lists = (LIST_BY_LINKS, LIST_BY_TITLES, LIST_BY_OTHER_SPELLINGS)
    with django_capture_on_commit_callbacks(execute=True):
        for club, text in zip(clubs, lists, strict=True):
            import_reading_list(club=club, text=text, imported_by=organizer)
    # What the worker does next: arXiv confirms each paper it can.
    for task in queued_refreshes():
        refresh_paper.call(*task.args_kwargs["args"])
    call_command("merge_duplicate_papers", stdout=StringIO())

    assert Paper.objects.count() == 3
    assert Suggestion.objects.count() == 8
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == [
        "1706.03762",
        "2005.14165",
        "2203.02155",
    ]


def test_refresh_catalog_queues_the_papers_arxiv_could_confirm(club, member):
    suggest_paper(club=club, suggested_by=member, link="1706.03762", title="A", pitch="p")
    suggest_paper(
        club=club, suggested_by=member, link="https://example.org/x", title="B", pitch="p"
    )
    paper_for_title("Only a title")
    DBTaskResult.objects.all().delete()

    out = StringIO()
    call_command("refresh_catalog", "--limit", "1", stdout=out)

    assert out.getvalue().strip() == "Queued 1 of 2 papers for an arXiv lookup."
    assert len(queued_refreshes()) == 1
