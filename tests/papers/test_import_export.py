"""Reading lists into a club (preview, then import) and out of it (Markdown, BibTeX)."""

# ruff: noqa: E501 (the lists are written as clubs write them, one long line per paper)

import datetime as dt
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from clubs.services import create_club
from papers.models import Paper, PaperLink, Suggestion, Track, TrackEntry
from papers.reading_lists.plan import plan_import
from papers.reading_lists.services import import_reading_list
from papers.reading_lists.writer import parse_reading_list
from papers.services import add_to_track, create_track, set_paper_links
from sessions.services import post_notes, questions_for, schedule_meeting

pytestmark = pytest.mark.django_db

# One item per line, as READMEs have them, however long.
README = """# LLM Paper Club

Papers we read, with slides and recordings.

1. [Attention Is All You Need](https://arxiv.org/abs/1706.03762v7) — the Transformer. [slides](https://example.com/attn.pdf) | [recording](https://youtu.be/attn) | [discord](https://discord.com/channels/1/2)
2. [Language Models are Few-Shot Learners](https://arxiv.org/pdf/2005.14165v4.pdf) — in-context learning at scale.
3. [LoRA](https://arxiv.org/abs/2106.09685) [slides](https://example.com/lora.pdf)
"""

THEMED = """## Intro to Modern LLMs
- [Attention Is All You Need](https://arxiv.org/abs/1706.03762)
- [Language Models are Few-Shot Learners](https://arxiv.org/abs/2005.14165)

## RLHF
- [Direct Preference Optimization](https://arxiv.org/abs/2305.18290): RLHF without RL.
- [Training language models to follow instructions](https://arxiv.org/abs/2203.02155)
"""

TAKEAWAYS = """Attention Is All You Need: attention alone is enough for sequence transduction.
Scaling Laws for Neural Language Models: loss falls as a power law in compute.
Chinchilla: train smaller models on more tokens.
"""


def counts() -> tuple[int, ...]:
    return (
        Paper.objects.count(),
        Suggestion.objects.count(),
        PaperLink.objects.count(),
        Track.objects.count(),
        TrackEntry.objects.count(),
    )


def titles(club) -> list[str]:
    return list(
        club.suggestions.order_by("created_at", "id").values_list("paper__title", flat=True)
    )


def test_numbered_readme_becomes_suggestions_with_takeaways_and_links(club, organizer):
    import_reading_list(club=club, text=README, imported_by=organizer)

    attention = Suggestion.objects.get(paper__arxiv_id="1706.03762")
    assert titles(club) == [
        "Attention Is All You Need",
        "Language Models are Few-Shot Learners",
        "LoRA",
    ]
    assert attention.takeaway == "the Transformer."
    assert attention.pitch == "the Transformer."
    assert attention.suggested_by == organizer
    assert [(link.label, link.url) for link in attention.links.all()] == [
        ("Slides", "https://example.com/attn.pdf"),
        ("Recording", "https://youtu.be/attn"),
        ("Discord", "https://discord.com/channels/1/2"),
    ]
    assert Suggestion.objects.get(paper__arxiv_id="2106.09685").pitch == (
        "From the club's imported reading list."
    )


def test_preview_writes_nothing_and_importing_twice_adds_nothing(club, organizer):
    plan = plan_import(club=club, text=README)
    assert (len(plan.new), counts()) == (3, (0, 0, 0, 0, 0))

    import_reading_list(club=club, text=README, imported_by=organizer)
    after_first = counts()
    again = import_reading_list(club=club, text=README, imported_by=organizer)

    assert counts() == after_first
    assert (len(again.new), len(again.duplicates), again.changes_anything) == (0, 3, False)


def test_sections_become_tracks_in_order(club, organizer):
    import_reading_list(club=club, text=THEMED, imported_by=organizer)

    tracks = {
        t.title: [e.suggestion.paper.title for e in t.entries.order_by("position")]
        for t in Track.objects.all()
    }
    assert tracks == {
        "Intro to Modern LLMs": [
            "Attention Is All You Need",
            "Language Models are Few-Shot Learners",
        ],
        "RLHF": [
            "Direct Preference Optimization",
            "Training language models to follow instructions",
        ],
    }


def test_paper_already_on_the_list_joins_the_new_track_once(club, organizer, member):
    from papers.services import suggest_paper

    suggest_paper(club=club, suggested_by=member, link="2305.18290", title="DPO", pitch="Mine")

    plan = plan_import(club=club, text=THEMED)
    import_reading_list(club=club, text=THEMED, imported_by=organizer)
    import_reading_list(club=club, text=THEMED, imported_by=organizer)

    dpo = Suggestion.objects.get(paper__arxiv_id="2305.18290")
    assert [p.status for p in plan.papers if p.entry.arxiv_id == "2305.18290"] == [
        "already on the list (open); added to “RLHF”"
    ]
    assert (dpo.pitch, dpo.track_entries.count()) == ("Mine", 1)


def test_title_and_takeaway_lines_import_without_links_and_only_once(club, organizer):
    import_reading_list(club=club, text=TAKEAWAYS, imported_by=organizer)
    import_reading_list(club=club, text=TAKEAWAYS, imported_by=organizer)

    scaling = Suggestion.objects.get(paper__title="Scaling Laws for Neural Language Models")
    assert Suggestion.objects.count() == 3
    assert scaling.takeaway == "loss falls as a power law in compute."
    assert (scaling.paper.url, scaling.paper.arxiv_id) == ("", None)


def test_title_line_matches_the_catalogs_paper_with_a_link(club, organizer, member):
    other = create_club(creator=member, name="Other", slug="other")
    import_reading_list(club=other, text=README, imported_by=member)

    import_reading_list(club=club, text=TAKEAWAYS, imported_by=organizer)

    attention = Suggestion.objects.get(club=club, paper__title="Attention Is All You Need")
    assert attention.paper.arxiv_id == "1706.03762"


def test_bare_arxiv_ids_get_their_titles_from_arxiv(club, organizer, arxiv_api):
    import_reading_list(
        club=club,
        text="- 1706.03762\n- https://arxiv.org/abs/2005.14165v4\n",
        imported_by=organizer,
    )

    assert titles(club) == ["Attention Is All You Need", "Language Models are Few-Shot Learners"]
    assert Paper.objects.get(arxiv_id="2005.14165").year == 2020


def test_arxiv_down_makes_untitled_lines_problems_and_keeps_the_rest(club, organizer):
    text = "- 1706.03762\n- [LoRA](https://arxiv.org/abs/2106.09685)\n"

    plan = import_reading_list(club=club, text=text, imported_by=organizer)

    assert titles(club) == ["LoRA"]
    assert [(p.line, p.reason[:40]) for p in plan.problems] == [
        (1, "This line has an arXiv ID but no title, ")
    ]


# The page


def import_url(club) -> str:
    return reverse("papers:import", args=[club.slug])


def test_preview_page_shows_what_would_happen_then_imports(organizer_client, club):
    preview = organizer_client.post(import_url(club), {"text": THEMED})

    body = preview.content.decode()
    assert preview.status_code == 200
    assert "<strong>4 new papers</strong>" in body
    assert "2 new tracks (Intro to Modern LLMs, RLHF)" in body
    assert "Import 4 papers" in body
    assert counts() == (0, 0, 0, 0, 0)

    done = organizer_client.post(import_url(club), {"text": THEMED, "confirm": "1"})

    assert done.status_code == 302
    assert Suggestion.objects.count() == 4


def test_upload_is_imported_like_pasted_text(organizer_client, club):
    upload = SimpleUploadedFile("list.md", README.encode("utf-8-sig"), "text/markdown")

    response = organizer_client.post(import_url(club), {"file": upload})

    assert "<strong>3 new papers</strong>" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "This looks like a binary file"),
        ("Caf\xe9 list".encode("latin-1"), "The file is not UTF-8 text."),
        (b"- [A](https://arxiv.org/abs/1706.03762)\n" * 20000, "The file is larger than 512 KB."),
        (b"# Our list\n\n## Coming soon\n\n---\n", "No papers were found"),
    ],
    ids=["binary", "latin-1", "huge", "no papers"],
)
def test_bad_files_get_a_clear_error_and_change_nothing(organizer_client, club, data, message):
    upload = SimpleUploadedFile("list.md", data, "text/markdown")

    response = organizer_client.post(import_url(club), {"file": upload, "confirm": "1"})

    assert response.status_code == 422
    assert message in response.content.decode()
    assert counts() == (0, 0, 0, 0, 0)


def test_empty_form_asks_for_a_list(organizer_client, club):
    response = organizer_client.post(import_url(club), {"text": "  "})

    assert response.status_code == 422
    assert "Paste a reading list or choose a file." in response.content.decode()


def test_members_cannot_import(member_client, club):
    response = member_client.post(import_url(club), {"text": README, "confirm": "1"})

    assert response.status_code == 403
    assert counts() == (0, 0, 0, 0, 0)


# The command


def test_command_dry_run_prints_the_preview_and_writes_nothing(club, tmp_path):
    path = tmp_path / "list.md"
    path.write_text(THEMED)
    out = StringIO()

    call_command("import_reading_list", club.slug, str(path), "--dry-run", stdout=out)

    assert "Would import 4 papers and 2 new tracks; 0 already on the list" in out.getvalue()
    assert "line    2  new" in out.getvalue()
    assert counts() == (0, 0, 0, 0, 0)


def test_command_imports(club, tmp_path, organizer):
    path = tmp_path / "list.md"
    path.write_text(README)

    call_command("import_reading_list", club.slug, str(path), stdout=StringIO())

    assert Suggestion.objects.filter(suggested_by=organizer).count() == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "list.md"], "No club has the slug “nope”."),
        (["asia", "missing.md"], "Cannot read"),
        (["asia", "list.md", "--by", "stranger@example.com"], "is not a member"),
    ],
)
def test_command_errors_are_clear(club, tmp_path, monkeypatch, args, message):
    (tmp_path / "list.md").write_text(README)
    monkeypatch.chdir(tmp_path)

    with pytest.raises(CommandError, match=message):
        call_command("import_reading_list", *args, stdout=StringIO())
    assert counts() == (0, 0, 0, 0, 0)


# Export


@pytest.fixture
def shelf(club, organizer):
    """A club with a read paper (notes posted), a backlog and a track."""
    import_reading_list(club=club, text=README, imported_by=organizer)
    attention = Suggestion.objects.get(paper__arxiv_id="1706.03762")
    meeting = schedule_meeting(
        club=club, suggestions=[attention], starts_at=timezone.now() - dt.timedelta(days=7)
    )
    post_notes(
        meeting=meeting,
        author=organizer,
        bodies=["We read it." for _ in questions_for(meeting)],
        takeaways={attention.pk: "Attention is enough."},
    )
    track = create_track(club=club, title="Fine-tuning")
    add_to_track(track=track, suggestion=Suggestion.objects.get(paper__arxiv_id="2106.09685"))
    return meeting


def test_markdown_export_is_a_numbered_readme(client, club, shelf):
    response = client.get(reverse("papers:export_markdown", args=[club.slug]))

    text = response.content.decode()
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert 'filename="asia-reading-list.md"' in response["Content-Disposition"]
    assert text.startswith("# Asia Paper Club reading list\n")
    assert (
        "1. [Attention Is All You Need](https://arxiv.org/abs/1706.03762) — Attention is "
        "enough. · [Slides](https://example.com/attn.pdf)"
    ) in text
    assert f"[Notes](http://127.0.0.1:8000{shelf.get_absolute_url()})" in text
    assert "## Fine-tuning\n\n1. [LoRA](https://arxiv.org/abs/2106.09685)" in text


def test_bibtex_export(client, club, shelf):
    response = client.get(reverse("papers:export_bibtex", args=[club.slug]))

    text = response.content.decode()
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert "eprint = {1706.03762}" in text
    assert text.count("@") == 3


def test_export_then_import_gives_back_the_same_list(client, club, shelf, member):
    exported = client.get(reverse("papers:export_markdown", args=[club.slug])).content.decode()
    copy = create_club(creator=member, name="Copy", slug="copy")

    import_reading_list(club=copy, text=exported, imported_by=member)
    again = client.get(reverse("papers:export_markdown", args=[copy.slug])).content.decode()

    def entries(text):
        return [
            (e.title, e.arxiv_id, e.url, e.takeaway, e.materials, e.section)
            for e in parse_reading_list(text).entries
        ]

    assert entries(again) == entries(exported)
    assert len(entries(exported)) == 3


def test_hostile_titles_stay_text_in_the_export(client, club, organizer):
    import_reading_list(
        club=club,
        text=(
            "- [<script>alert(1)</script> & friends](https://example.com/x): "
            "<img src=x onerror=alert(1)>\n"
        ),
        imported_by=organizer,
    )
    suggestion = Suggestion.objects.get()
    set_paper_links(suggestion=suggestion, links=[("[evil](javascript:alert(1))", "https://e.com")])

    text = client.get(reverse("papers:export_markdown", args=[club.slug])).content.decode()

    assert "<script>" not in text and "<img" not in text
    assert "javascript:alert" not in text.replace("\\", "").replace("(javascript", "")
    assert parse_reading_list(text).entries[0].title == "<script>alert(1)</script> & friends"


def test_private_club_exports_are_hidden_from_outsiders(outsider_client, private_club):
    for name in ("papers:export_markdown", "papers:export_bibtex"):
        assert outsider_client.get(reverse(name, args=[private_club.slug])).status_code == 404


def test_export_queries_do_not_grow_with_the_list(client, club, organizer, shelf, same_queries):
    def grow():
        lines = "".join(
            f"- [Paper {i}](https://arxiv.org/abs/2401.{i:05d}) [slides](https://e.com/{i})\n"
            for i in range(10)
        )
        import_reading_list(club=club, text=f"## Theme\n{lines}", imported_by=organizer)

    same_queries(lambda: client.get(reverse("papers:export_markdown", args=[club.slug])), grow)
