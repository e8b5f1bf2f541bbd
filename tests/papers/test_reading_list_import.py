"""Importing the shapes clubs publish: tracks, summaries, questions, ticks, arXiv matches."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from papers.models import Paper, PaperLink, Suggestion, Track, TrackEntry
from papers.reading_lists.plan import plan_import
from papers.reading_lists.services import import_reading_list
from tests.papers.conftest import recorded

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "reading_lists"
INSTRUCT = "Training language models to follow instructions with human feedback"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def import_url(club):
    return reverse("papers:import", args=[club.slug])


def test_a_paper_in_two_sections_joins_both_tracks_and_a_long_description_is_the_summary(
    club, organizer
):
    import_reading_list(club=club, text=fixture("themed_sections.md"), imported_by=organizer)

    tracks = list(Track.objects.filter(club=club).order_by("position"))
    assert [t.title for t in tracks] == ["Architectures", "Efficiency", "Alignment"]
    attention = Suggestion.objects.get(club=club, paper__arxiv_id="1706.03762")
    assert sorted(te.track.title for te in attention.track_entries.all()) == [
        "Alignment",
        "Architectures",
    ]
    instruct = TrackEntry.objects.get(suggestion__paper__arxiv_id="2203.02155")
    assert instruct.summary.startswith("The InstructGPT paper. Labelers wrote demonstrations")
    assert Suggestion.objects.filter(club=club).count() == 6


def test_relative_links_resolve_against_the_github_repository_the_list_names(club, organizer):
    import_reading_list(club=club, text=fixture("themed_sections.md"), imported_by=organizer)

    lora = Suggestion.objects.get(club=club, paper__title__startswith="LoRA")
    assert list(PaperLink.objects.filter(suggestion=lora).values_list("label", "url")) == [
        ("Notes", "https://github.com/example-club/reading-list/blob/main/Efficiency/LoRA.md")
    ]


def test_relative_links_without_a_base_url_are_kept_as_a_note(club, organizer):
    text = "## Retrieval\n\n- [REALM: Retrieval-Augmented Pre-Training](papers/realm.md)\n"

    import_reading_list(club=club, text=text, imported_by=organizer)

    entry = TrackEntry.objects.get(track__club=club)
    assert entry.further_reading == "Links in the list: papers/realm.md"


def test_reimporting_a_themed_list_adds_nothing(club, organizer):
    text = fixture("themed_sections.md")
    import_reading_list(club=club, text=text, imported_by=organizer)
    counts = (Paper.objects.count(), Suggestion.objects.count(), TrackEntry.objects.count())

    again = plan_import(club=club, text=text)

    assert not again.changes_anything
    import_reading_list(club=club, text=text, imported_by=organizer)
    assert (Paper.objects.count(), Suggestion.objects.count(), TrackEntry.objects.count()) == counts


def test_discussion_questions_are_applied_only_when_ticked(club, organizer):
    before = list(club.discussion_questions)
    import_reading_list(club=club, text=fixture("rules_page.md"), imported_by=organizer)
    club.refresh_from_db()
    assert club.discussion_questions == before

    import_reading_list(
        club=club, text=fixture("rules_page.md"), imported_by=organizer, apply_questions=True
    )
    club.refresh_from_db()
    assert club.discussion_questions[0] == "Big Idea: What is the one idea the paper stands on?"
    assert len(club.discussion_questions) == 4
    assert not Suggestion.objects.filter(club=club, paper__title__icontains="Big Idea").exists()


def test_web_copy_keeps_year_and_authors_as_the_clubs_copy(club, organizer):
    import_reading_list(club=club, text=fixture("web_page_copy.txt"), imported_by=organizer)

    rows = Suggestion.objects.filter(club=club).order_by("track_entries__position")
    assert [(s.year, s.authors) for s in rows] == [
        (2017, "Vaswani et al. (Google Brain)"),
        (2018, "Radford et al. (OpenAI)"),
        (2020, "Ho, Jain, Abbeel (UC Berkeley)"),
        (2022, "Ouyang et al. (OpenAI)"),
    ]
    track = Track.objects.get(club=club)
    assert track.title == "Foundational Papers in Generative AI"
    ddpm = rows[2]
    assert ddpm.pitch == "From the club's imported reading list."
    assert ddpm.track_entries.get().summary.startswith("Diffusion models trained as denoisers")


def test_a_skipped_line_can_be_ticked_in(club, organizer):
    text = fixture("blog_post.md")
    plan = plan_import(club=club, text=text)
    assert 9 in {p.line for p in plan.skipped if p.entry}

    ticked = import_reading_list(
        club=club, text=text, imported_by=organizer, include=frozenset({20})
    )

    assert 20 in {p.entry.line for p in ticked.papers if p.ticked_in}
    assert Suggestion.objects.filter(club=club).count() == len(plan.papers) + 1


def test_title_only_entries_are_offered_arxivs_match_and_can_refuse_it(club, organizer, arxiv_api):
    arxiv_api.replies[f'ti:"{INSTRUCT}"'] = recorded("search_instructgpt.xml")
    text = f"- InstructGPT: {INSTRUCT}: 40 labelers are all you need\n- A paper nobody wrote\n"

    plan = plan_import(club=club, text=text)
    (matched,) = plan.matched_on_arxiv
    assert (matched.entry.line, matched.found.arxiv_id, matched.entry.arxiv_id) == (
        1,
        "2203.02155",
        "2203.02155",
    )
    refused = plan_import(club=club, text=text, reject_matches=frozenset({1}))
    assert refused.papers[0].entry.arxiv_id is None
    assert refused.papers[0].found is not None  # still offered, so it can be ticked again

    import_reading_list(club=club, text=text, imported_by=organizer)
    paper = Paper.objects.get(arxiv_id="2203.02155")
    assert (paper.title, paper.year) == (INSTRUCT, 2022)
    suggestion = Suggestion.objects.get(paper=paper)
    assert suggestion.takeaway == "40 labelers are all you need"


def test_offline_title_entries_stay_title_only_and_nothing_waits(club, organizer):
    # The test settings point arXiv at a closed port.
    plan = plan_import(club=club, text=fixture("web_page_copy.txt"))

    assert [p.entry.arxiv_id for p in plan.papers] == [None, None, None, None]
    assert plan.matched_on_arxiv == []


def test_a_title_matches_the_catalog_by_its_normalized_title(club, organizer, dpo):
    text = "- direct preference optimization\n"

    plan = plan_import(club=club, text=text)

    assert [p.status for p in plan.papers] == ["already on the list (open)"]


def test_preview_page_lists_skipped_lines_with_checkboxes_and_imports_the_ticked_one(
    organizer_client, club
):
    text = fixture("blog_post.md")
    preview = organizer_client.post(import_url(club), {"text": text})

    page = preview.content.decode()
    assert "Skipped, not a paper: a call to action." in page
    assert 'name="include" value="20"' in page
    assert "Where the text goes" in page
    assert Suggestion.objects.filter(club=club).count() == 0

    done = organizer_client.post(import_url(club), {"text": text, "confirm": "1", "include": "20"})

    assert done.status_code == 302
    assert Suggestion.objects.filter(club=club).count() == 7


@pytest.mark.parametrize("forged", ["²", "٣", "1e3", "-1", "99999999"])
def test_a_forged_line_number_is_ignored(organizer_client, club, forged):
    text = fixture("blog_post.md")

    done = organizer_client.post(
        import_url(club), {"text": text, "confirm": "1", "include": ["20", forged]}
    )

    assert done.status_code == 302
    assert Suggestion.objects.filter(club=club).count() == 7


def test_preview_prefills_the_base_url_the_list_names(organizer_client, club):
    preview = organizer_client.post(import_url(club), {"text": fixture("themed_sections.md")})

    page = preview.content.decode()
    assert 'value="https://github.com/example-club/reading-list/blob/main/"' in page


def test_preview_offers_the_discussion_questions(organizer_client, club):
    text = fixture("rules_page.md")
    preview = organizer_client.post(import_url(club), {"text": text})
    assert "Use these as the club’s discussion questions" in preview.content.decode()  # noqa: RUF001

    organizer_client.post(import_url(club), {"text": text, "confirm": "1", "questions": "1"})

    club.refresh_from_db()
    assert club.discussion_questions[1] == "Relevance: Why does it matter to the work we do?"


def test_member_cannot_import(member_client, club):
    response = member_client.post(
        import_url(club), {"text": fixture("rules_page.md"), "confirm": "1", "questions": "1"}
    )

    assert response.status_code == 403
    assert Suggestion.objects.filter(club=club).count() == 0


def test_command_shows_where_text_goes_and_what_was_skipped(club, tmp_path):
    path = tmp_path / "list.txt"
    path.write_text(fixture("web_page_copy.txt"), encoding="utf-8")
    out = StringIO()

    call_command("import_reading_list", club.slug, str(path), "--dry-run", stdout=out)

    text = out.getvalue()
    assert "year: 2017" in text
    assert "authors: Vaswani et al. (Google Brain)" in text
    assert "Skipped, not a paper: a footer or signature." in text
    assert "Would import 4 papers and 1 new track" in text
    assert Suggestion.objects.count() == 0


def test_the_catalog_confirms_where_a_title_ends(club, organizer, dpo):
    # Read alone, the Title Case words after the hyphen would be part of the title; the
    # catalog knows the paper by the shorter title, so the line is cut there.
    text = "- Direct Preference Optimization - Skip The Reward Model: works with pairs\n"

    plan = plan_import(club=club, text=text)

    assert [(p.title, p.entry.takeaway, p.status) for p in plan.papers] == [
        (
            "Direct Preference Optimization",
            "Skip The Reward Model: works with pairs",
            "already on the list (open)",
        )
    ]
