"""Importing a list into a club that already has some of its papers: the preview's
placement is what the import writes, and a second import writes nothing."""

import pytest
from django.urls import reverse
from django.utils import timezone

from papers.models import Paper, PaperLink, Suggestion
from papers.reading_lists.plan import MAX_LINKS, plan_import
from papers.reading_lists.services import import_reading_list
from papers.services import set_paper_links, suggest_paper

pytestmark = pytest.mark.django_db

INSTRUCT = "Training language models to follow instructions with human feedback"
SLIDES = "https://example.org/{}-slides.pdf"
LIST = "\n".join(
    [
        "# Paper Club",
        "",
        "## Season 1: Foundations",
        "",
        "1. [Attention Is All You Need](https://arxiv.org/abs/1706.03762)"
        f" (Vaswani et al., 2017) · [slides]({SLIDES.format('attention')})",
        "2. [Language Models are Few-Shot Learners](https://arxiv.org/abs/2005.14165)"
        f" (Brown et al., 2020) · [slides]({SLIDES.format('gpt3')})",
        "3. [Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)"
        f" (He et al., 2015) · [slides]({SLIDES.format('resnet')})",
        "",
    ]
)


@pytest.fixture
def held(club, organizer):
    """The club has the first two papers: one chosen, one open, no authors or links."""
    attention = suggest_paper(
        club=club,
        suggested_by=organizer,
        link="https://arxiv.org/abs/1706.03762",
        title="Attention Is All You Need",
        pitch="Transformers.",
    )
    gpt3 = suggest_paper(
        club=club,
        suggested_by=organizer,
        link="https://arxiv.org/abs/2005.14165",
        title="Language Models are Few-Shot Learners",
        pitch="GPT-3.",
    )
    Suggestion.objects.filter(pk=attention.pk).update(state=Suggestion.State.CHOSEN)
    return attention, gpt3


def links(suggestion) -> list[tuple[str, str]]:
    return list(PaperLink.objects.filter(suggestion=suggestion).values_list("label", "url"))


def test_preview_of_a_held_paper_says_what_is_added(club, held):
    plan = plan_import(club=club, text=LIST)

    attention = plan.papers[0]
    assert attention.status == "already on the list (chosen); added to “Season 1: Foundations”"
    assert dict(attention.placement) == {
        "title (the club's)": "Attention Is All You Need",
        "arXiv": "1706.03762",
        "year": "2017",
        "authors": "Vaswani et al.",
        "links": "Slides",
        "tracks": "Season 1: Foundations",
    }


def test_import_adds_links_authors_and_year_to_held_papers_once(club, organizer, held):
    attention, gpt3 = held

    import_reading_list(club=club, text=LIST, imported_by=organizer)

    attention.refresh_from_db()
    gpt3.refresh_from_db()
    assert links(attention) == [("Slides", "https://example.org/attention-slides.pdf")]
    assert links(gpt3) == [("Slides", "https://example.org/gpt3-slides.pdf")]
    assert (attention.authors, attention.year) == ("Vaswani et al.", 2017)
    assert (gpt3.authors, gpt3.year, gpt3.pitch) == ("Brown et al.", 2020, "GPT-3.")
    assert attention.state == Suggestion.State.CHOSEN

    again = plan_import(club=club, text=LIST)
    assert not again.changes_anything
    assert dict(again.papers[0].placement) == {
        "title (the club's)": "Attention Is All You Need",
        "arXiv": "1706.03762",
        "year (the club's copy has it already)": "2017",
        "authors (the club's copy has it already)": "Vaswani et al.",
        "links (the paper has them already)": "Slides",
    }
    import_reading_list(club=club, text=LIST, imported_by=organizer)
    assert PaperLink.objects.filter(suggestion__club=club).count() == 3


def test_import_never_overwrites_the_clubs_copy(club, organizer, held):
    attention, _ = held
    Suggestion.objects.filter(pk=attention.pk).update(authors="A. Vaswani and others", year=2018)
    set_paper_links(
        suggestion=attention, links=[("Recording", "https://example.org/attention-video")]
    )

    plan = plan_import(club=club, text=LIST)
    placement = dict(plan.papers[0].placement)
    assert placement["authors (not kept: the club's copy has its own)"] == "Vaswani et al."
    assert placement["year (not kept: the club's copy has its own)"] == "2017"
    import_reading_list(club=club, text=LIST, imported_by=organizer)

    attention.refresh_from_db()
    assert (attention.authors, attention.year) == ("A. Vaswani and others", 2018)
    assert links(attention) == [
        ("Recording", "https://example.org/attention-video"),
        ("Slides", "https://example.org/attention-slides.pdf"),
    ]


def test_details_that_only_repeat_arxivs_are_not_written(club, organizer, held):
    attention, _ = held
    Paper.objects.filter(pk=attention.paper_id).update(
        title="Attention Is All You Need",
        authors="Vaswani et al.",
        year=2017,
        fetched_at=timezone.now(),
    )

    plan = plan_import(club=club, text=LIST)
    placement = dict(plan.papers[0].placement)
    assert placement["authors (not kept: arXiv's are shown)"] == "Vaswani et al."
    import_reading_list(club=club, text=LIST, imported_by=organizer)

    attention.refresh_from_db()
    assert (attention.authors, attention.year) == ("", None)
    assert attention.display_authors == "Vaswani et al."
    assert not plan_import(club=club, text=LIST).changes_anything


def test_links_over_the_per_paper_limit_are_shown_as_not_kept(club, organizer, held):
    attention, _ = held
    set_paper_links(
        suggestion=attention,
        links=[(f"Note {n}", f"https://example.org/note-{n}") for n in range(MAX_LINKS)],
    )

    plan = plan_import(club=club, text=LIST)
    placement = dict(plan.papers[0].placement)
    assert placement[f"links (not kept: {MAX_LINKS} per paper at most)"] == "Slides"
    assert "links" not in placement
    import_reading_list(club=club, text=LIST, imported_by=organizer)
    assert PaperLink.objects.filter(suggestion=attention).count() == MAX_LINKS


def test_import_view_keeps_what_the_preview_showed(organizer_client, club, held):
    _, gpt3 = held
    url = reverse("papers:import", args=[club.slug])

    preview = organizer_client.post(url, {"text": LIST}).content.decode()
    assert preview.count("<dt>links</dt><dd>Slides</dd>") == 3
    assert "<dt>authors</dt><dd>Vaswani et al.</dd>" in preview
    done = organizer_client.post(url, {"text": LIST, "confirm": "1"})

    assert done.status_code == 302
    export = organizer_client.get(reverse("papers:export_markdown", args=[club.slug]))
    text = export.content.decode()
    assert "https://example.org/attention-slides.pdf" in text
    assert "https://example.org/gpt3-slides.pdf" in text
    assert links(gpt3) == [("Slides", "https://example.org/gpt3-slides.pdf")]
    again = organizer_client.post(url, {"text": LIST}).content.decode()
    assert "<dt>links</dt>" not in again


def test_the_written_title_is_the_one_the_preview_shows(club, organizer):
    Paper.objects.create(
        arxiv_id="2203.02155",
        url="https://arxiv.org/abs/2203.02155",
        title=INSTRUCT,
        year=2022,
        fetched_at=timezone.now(),
    )
    text = f"## Alignment\n\n1. [{INSTRUCT} (InstructGPT)](https://arxiv.org/abs/2203.02155)\n"

    (planned,) = plan_import(club=club, text=text).papers
    import_reading_list(club=club, text=text, imported_by=organizer)

    assert planned.title == INSTRUCT
    assert Suggestion.objects.get(club=club).display_title == planned.title


def test_a_title_another_club_typed_is_neither_shown_nor_copied(club, organizer):
    Paper.objects.create(
        arxiv_id="2203.02155", url="https://arxiv.org/abs/2203.02155", title="rlhf paper"
    )
    text = f"1. [{INSTRUCT} (InstructGPT)](https://arxiv.org/abs/2203.02155)\n"

    (planned,) = plan_import(club=club, text=text).papers
    import_reading_list(club=club, text=text, imported_by=organizer)

    assert planned.title == f"{INSTRUCT} (InstructGPT)"
    assert Suggestion.objects.get(club=club).display_title == planned.title
