"""papers.catalog: title keys, matching against the catalog, and merging two rows of one paper."""

import pytest
from django.utils import timezone

from papers.catalog import (
    CatalogConflict,
    find_by_title,
    merge_papers,
    title_key,
    title_keys,
    title_url_key,
)
from papers.models import (
    Paper,
    PaperLink,
    Poll,
    Ranking,
    ReadMark,
    Suggestion,
    Tally,
    TrackEntry,
    Vote,
)
from papers.polls import close_poll, open_poll, set_ranking
from papers.services import add_to_track, create_track, set_read_mark
from papers.votes import set_vote

INSTRUCT = "Training language models to follow instructions with human feedback"
BERT = "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"


def arxiv_paper(arxiv_id: str, title: str) -> Paper:
    return Paper.objects.create(
        arxiv_id=arxiv_id,
        title=title,
        authors="A. Author",
        year=2022,
        url=f"https://arxiv.org/abs/{arxiv_id}",
        fetched_at=timezone.now(),
    )


def title_paper(title: str) -> Paper:
    return Paper.objects.create(title=title, url_key=title_url_key(title))


@pytest.mark.parametrize(
    ("typed", "real"),
    [
        ("Attention is all you need", "Attention Is All You Need"),
        ("ATTENTION IS ALL YOU NEED.", "Attention Is All You Need"),
        ("Attention-Is-All-You-Need", "Attention Is All You Need"),
        ("  Attention   is all\tyou need ", "Attention Is All You Need"),
        ("“Attention Is All You Need”", "Attention Is All You Need"),
        ("Pretraining of deep models", "Pre-training of Deep Models"),
        ("Kernel methods by Schölkopf", "Kernel Methods by Scholkopf"),
        ("ﬁne-tuning at scale", "Fine-Tuning at Scale"),  # a ligature
        ("\uff27\uff30\uff34\u3000models", "GPT models"),  # full-width letters and space
    ],
)
def test_title_key_ignores_case_punctuation_hyphens_and_unicode_forms(typed, real):
    assert title_key(typed) == title_key(real)


def test_title_key_tells_different_titles_apart():
    assert title_key("Attention Is All You Need") != title_key("Attention Is Not All You Need")
    assert title_key("!!!") == ""


def test_title_keys_has_the_title_without_a_nickname_prefix():
    assert title_keys(f"InstructGPT: {INSTRUCT}") == {
        title_key(f"InstructGPT: {INSTRUCT}"),
        title_key(INSTRUCT),
    }
    # A colon inside a real title after the nickname: the rest is kept whole.
    assert title_key(INSTRUCT + ": 40 labelers") in title_keys(
        f"InstructGPT: {INSTRUCT}: 40 labelers"
    )


@pytest.mark.parametrize(
    "title",
    [
        "Attention Is All You Need",  # no colon
        "A very long prefix that is a sentence: and a rest",  # prefix longer than 3 words
        "LoRA: Low rank",  # a rest shorter than three words
    ],
)
def test_title_keys_has_one_key_without_a_short_nickname(title):
    assert title_keys(title) == {title_key(title)}


@pytest.mark.django_db
def test_find_by_title_matches_a_nickname_prefix_against_the_arxiv_title():
    paper = arxiv_paper("2203.02155", INSTRUCT)

    assert find_by_title(f"InstructGPT: {INSTRUCT}") == paper
    assert find_by_title(INSTRUCT.upper()) == paper


@pytest.mark.django_db
def test_find_by_title_matches_a_title_typed_without_the_nickname_arxiv_has():
    bert = arxiv_paper("1810.04805", BERT)

    assert (
        find_by_title("Pre-training of deep bidirectional transformers for language understanding")
        == bert
    )
    assert find_by_title(BERT) == bert


@pytest.mark.django_db
def test_find_by_title_keeps_two_nicknames_of_one_subtitle_apart():
    arxiv_paper("1810.04805", BERT)

    rest = BERT.split(": ", 1)[1]
    assert find_by_title(f"RoBERTa: {rest}") is None


@pytest.mark.django_db
def test_find_by_title_prefers_the_arxiv_row(django_assert_num_queries):
    typed = title_paper("attention is all you need")
    real = arxiv_paper("1706.03762", "Attention Is All You Need")

    with django_assert_num_queries(1):
        assert find_by_title("Attention is all you need!") == real
    real.delete()
    assert find_by_title("Attention is all you need!") == typed


@pytest.mark.django_db
def test_find_by_title_finds_nothing_for_an_unknown_or_empty_title():
    arxiv_paper("1706.03762", "Attention Is All You Need")

    assert find_by_title("Attention is not all you need") is None
    assert find_by_title("  ...  ") is None


@pytest.mark.django_db
def test_paper_keys_follow_its_title():
    paper = title_paper(f"InstructGPT: {INSTRUCT}")
    assert paper.title_key == title_key(f"InstructGPT: {INSTRUCT}")
    assert paper.short_title_key == title_key(INSTRUCT)

    paper.title = "Attention Is All You Need"
    paper.save(update_fields=["title"])
    paper.refresh_from_db()

    assert paper.title_key == "attentionisallyouneed"
    assert paper.short_title_key == ""


# ---------- merge_papers ----------


def suggest(club, paper, user, **fields) -> Suggestion:
    return Suggestion.objects.create(
        club=club, paper=paper, suggested_by=user, pitch="Read it.", **fields
    )


@pytest.mark.django_db
def test_merge_papers_moves_every_suggestion_and_deletes_the_duplicate(
    club, private_club, organizer, member
):
    real = arxiv_paper("1706.03762", "Attention Is All You Need")
    typed = title_paper("attention is all you need")
    ours = suggest(club, typed, member, title="attention is all you need")
    theirs = suggest(private_club, real, organizer)

    survivor = merge_papers(survivor=real, duplicate=typed)

    assert survivor == real
    assert not Paper.objects.filter(pk=typed.pk).exists()
    assert set(real.suggestions.values_list("pk", flat=True)) == {ours.pk, theirs.pk}
    ours.refresh_from_db()
    # It only repeated arXiv's title: the club now follows arXiv.
    assert ours.title == ""
    assert ours.display_title == "Attention Is All You Need"


@pytest.mark.django_db
def test_merge_papers_keeps_a_club_copy_that_differs(club, member):
    real = arxiv_paper("1706.03762", "Attention Is All You Need")
    typed = title_paper("The Transformer paper")
    ours = suggest(club, typed, member, title="The Transformer paper")

    merge_papers(survivor=real, duplicate=typed)

    ours.refresh_from_db()
    assert ours.paper == real
    assert ours.display_title == "The Transformer paper"


@pytest.mark.django_db
def test_merge_papers_into_a_title_only_row_takes_the_arxiv_identity(club, member):
    typed = title_paper("Attention is all you need")
    real = arxiv_paper("1706.03762", "Attention Is All You Need")
    suggest(club, real, member)

    survivor = merge_papers(survivor=typed, duplicate=real)

    survivor.refresh_from_db()
    assert survivor.arxiv_id == "1706.03762"
    assert survivor.url_key is None
    assert survivor.title == "Attention Is All You Need"
    assert survivor.from_arxiv
    assert Paper.objects.count() == 1


@pytest.mark.django_db
def test_merge_papers_refuses_two_arxiv_papers():
    first = arxiv_paper("1706.03762", "Attention Is All You Need")
    second = arxiv_paper("2005.14165", "Attention Is All You Need")

    with pytest.raises(CatalogConflict):
        merge_papers(survivor=first, duplicate=second)
    with pytest.raises(CatalogConflict):
        merge_papers(survivor=first, duplicate=first)
    assert Paper.objects.count() == 2


@pytest.fixture
def two_rows_one_club(club, organizer, member):
    """One club has the paper twice: by arXiv ID (open) and by title (read, in a track)."""
    real = arxiv_paper("1706.03762", "Attention Is All You Need")
    typed = title_paper("Attention is all you need")
    by_id = suggest(club, real, member)
    by_title = suggest(
        club, typed, organizer, title="Attention is all you need", takeaway="Attention."
    )
    return real, typed, by_id, by_title


@pytest.mark.django_db
def test_merge_papers_merges_one_clubs_two_suggestions_without_losing_a_vote(
    club, organizer, member, two_rows_one_club
):
    real, typed, by_id, by_title = two_rows_one_club
    organizer_ship = club.memberships.get(user=organizer)
    member_ship = club.memberships.get(user=member)
    poll = open_poll(club=club, opened_by=organizer, budget=3)
    # The member votes for both rows, the organizer for the title row only.
    set_vote(poll=poll, membership=member_ship, suggestion=by_id, approve=True)
    set_vote(poll=poll, membership=member_ship, suggestion=by_title, approve=True)
    set_vote(poll=poll, membership=organizer_ship, suggestion=by_title, approve=True)
    track = create_track(club=club, title="Basics")
    add_to_track(track=track, suggestion=by_title)
    add_to_track(track=track, suggestion=by_id)
    set_read_mark(membership=member_ship, suggestion=by_id, read=True)
    set_read_mark(membership=member_ship, suggestion=by_title, read=True)
    PaperLink.objects.create(suggestion=by_title, label="Slides", url="https://example.org/s")

    merge_papers(survivor=real, duplicate=typed)

    merged = Suggestion.objects.get(club=club)
    assert merged.pk == by_id.pk
    assert merged.takeaway == "Attention."
    assert set(Vote.objects.filter(poll=poll).values_list("membership", "suggestion")) == {
        (member_ship.pk, merged.pk),
        (organizer_ship.pk, merged.pk),
    }
    assert list(TrackEntry.objects.filter(track=track).values_list("suggestion", "position")) == [
        (merged.pk, 0)
    ]
    assert list(ReadMark.objects.values_list("suggestion", flat=True)) == [merged.pk]
    assert list(merged.links.values_list("url", flat=True)) == ["https://example.org/s"]
    assert Paper.objects.count() == 1


@pytest.mark.django_db
def test_merge_papers_keeps_the_furthest_state_and_the_closed_polls_record(
    club, organizer, member, two_rows_one_club
):
    real, typed, by_id, by_title = two_rows_one_club
    member_ship = club.memberships.get(user=member)
    organizer_ship = club.memberships.get(user=organizer)
    poll = open_poll(club=club, opened_by=organizer, budget=3)
    set_vote(poll=poll, membership=member_ship, suggestion=by_id, approve=True)
    set_vote(poll=poll, membership=member_ship, suggestion=by_title, approve=True)
    set_vote(poll=poll, membership=organizer_ship, suggestion=by_title, approve=True)
    close_poll(poll=poll, closed_by=organizer)  # the title row wins (2 votes) and is chosen
    assert Tally.objects.filter(poll=poll).count() == 2

    merge_papers(survivor=real, duplicate=typed)

    merged = Suggestion.objects.get(club=club)
    assert merged.state == Suggestion.State.CHOSEN
    assert Poll.objects.get(pk=poll.pk).winner == merged
    tally = Tally.objects.get(poll=poll)
    assert (tally.suggestion, tally.votes, tally.rank) == (merged, 2, 1)
    assert list(merged.meetings.values_list("poll", flat=True)) == [poll.pk]


@pytest.mark.django_db
def test_merge_papers_keeps_a_rankers_better_place(club, organizer, member, two_rows_one_club):
    real, typed, by_id, by_title = two_rows_one_club
    member_ship = club.memberships.get(user=member)
    other = suggest(
        club, arxiv_paper("2005.14165", "Language Models are Few-Shot Learners"), member
    )
    poll = open_poll(club=club, opened_by=organizer, method=Poll.Method.IRV)
    set_ranking(poll=poll, membership=member_ship, order=[by_title.pk, other.pk, by_id.pk])

    merge_papers(survivor=real, duplicate=typed)

    ballot = Ranking.objects.filter(poll=poll, membership=member_ship).order_by("position")
    assert list(ballot.values_list("suggestion", "position")) == [(by_id.pk, 1), (other.pk, 2)]
