import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clubs.models import Membership
from clubs.services import create_club, join_club
from paperclub.errors import RuleViolation
from papers.models import Paper, Poll, Suggestion, Tally, Vote
from papers.polls import close_due_polls, close_poll, open_poll, override_winner
from papers.services import DuplicateSuggestion, suggest_paper, withdraw_suggestion
from papers.votes import set_vote
from sessions.models import Meeting
from sessions.services import post_notes, schedule_meeting

pytestmark = pytest.mark.django_db


# Suggestions


def test_every_spelling_of_an_arxiv_paper_is_one_catalog_row(club, member, organizer):
    other = create_club(creator=organizer, name="Other", slug="other")
    suggest_paper(club=club, suggested_by=member, link="2305.18290v1", title="DPO", pitch="a")
    suggest_paper(
        club=other,
        suggested_by=organizer,
        link="https://arxiv.org/pdf/2305.18290v3.pdf",
        title="Another title",
        pitch="b",
    )

    paper = Paper.objects.get()
    assert (paper.arxiv_id, paper.title, paper.url) == (
        "2305.18290",
        "DPO",
        "https://arxiv.org/abs/2305.18290",
    )


def test_papers_without_arxiv_id_are_deduplicated_by_url(club, member, organizer):
    other = create_club(creator=organizer, name="Other", slug="other")
    suggest_paper(
        club=club,
        suggested_by=member,
        link="https://jalammar.github.io/illustrated-transformer/",
        title="The Illustrated Transformer",
        pitch="Pictures.",
    )
    suggest_paper(
        club=other,
        suggested_by=organizer,
        link="http://www.jalammar.github.io/illustrated-transformer?utm_source=x",
        title="Same",
        pitch="Again.",
    )

    assert Paper.objects.count() == 1


def test_suggesting_a_paper_the_club_has_names_who_suggested_it(club, dpo, organizer):
    with pytest.raises(DuplicateSuggestion) as error:
        suggest_paper(club=club, suggested_by=organizer, link="2305.18290", pitch="Me too")

    assert error.value.suggestion == dpo
    assert error.value.message.startswith("Already suggested by Max Member on")
    assert Suggestion.objects.count() == 1


def test_suggesting_a_read_paper_names_the_session(club, dpo, organizer):
    meeting = schedule_meeting(
        club=club, suggestions=[dpo], starts_at=dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)
    )
    post_notes(meeting=meeting, author=organizer, bodies=["a", "", ""], takeaways={})

    with pytest.raises(
        DuplicateSuggestion, match=r"already read this on 4 Mar 2026 \(Asia/Singapore\), session #1"
    ):
        suggest_paper(club=club, suggested_by=organizer, link="2305.18290", pitch="Again")


def test_one_suggestion_per_paper_per_club_is_a_database_constraint(club, dpo, organizer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Suggestion.objects.create(club=club, paper=dpo.paper, suggested_by=organizer, pitch="x")


def test_withdrawn_paper_can_be_suggested_again(club, dpo, organizer):
    withdraw_suggestion(suggestion=dpo)

    again = suggest_paper(club=club, suggested_by=organizer, link="2305.18290", pitch="Now!")

    assert again.pk == dpo.pk
    assert (again.state, again.pitch, again.suggested_by) == ("open", "Now!", organizer)


@pytest.mark.parametrize(
    ("link", "title", "pitch", "message"),
    [
        ("", "T", "p", "Paste an arXiv ID"),
        ("not a link", "T", "p", "neither an arXiv ID"),
        ("https://example.com/new", "", "p", "title"),
        ("2305.18290", "T", "   ", "why the club should read"),
    ],
)
def test_bad_suggestions_are_refused_and_write_nothing(club, member, link, title, pitch, message):
    with pytest.raises(RuleViolation, match=message):
        suggest_paper(club=club, suggested_by=member, link=link, title=title, pitch=pitch)

    assert (Paper.objects.count(), Suggestion.objects.count()) == (0, 0)


# Polls


def test_only_one_open_poll_per_club(club, organizer, poll):
    with pytest.raises(RuleViolation, match="already has an open poll"):
        open_poll(club=club, opened_by=organizer)

    assert Poll.objects.count() == 1


def test_one_open_poll_per_club_is_a_database_constraint(club, organizer, poll):
    with pytest.raises(IntegrityError), transaction.atomic():
        Poll.objects.create(club=club, opened_by=organizer)


@pytest.mark.parametrize(("budget", "message"), [(0, "at least one"), (-1, "at least one")])
def test_poll_budget_must_be_positive(club, organizer, budget, message):
    with pytest.raises(RuleViolation, match=message):
        open_poll(club=club, opened_by=organizer, budget=budget)

    assert Poll.objects.count() == 0


def test_poll_closing_time_in_the_past_is_refused(club, organizer):
    with pytest.raises(RuleViolation, match="future"):
        open_poll(
            club=club, opened_by=organizer, closes_at=timezone.now() - dt.timedelta(minutes=1)
        )


def test_poll_opened_at_is_when_it_opens_not_when_code_loaded(club, organizer):
    before = timezone.now()
    poll = open_poll(club=club, opened_by=organizer)

    assert poll.opened_at >= before


# Votes


def test_vote_and_take_back(poll, member_ship, dpo):
    ballot = set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)
    assert (ballot.votes_used, ballot.votes_left) == (1, 1)

    ballot = set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=False)
    assert (ballot.votes_used, ballot.votes_left) == (0, 2)
    assert Vote.objects.count() == 0


def test_voting_twice_for_the_same_paper_keeps_one_vote(poll, member_ship, dpo):
    set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)
    set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)

    assert Vote.objects.count() == 1


def test_vote_past_the_budget_is_refused(poll, member_ship, dpo, lora, flash):
    set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)
    set_vote(poll=poll, membership=member_ship, suggestion=lora, approve=True)

    with pytest.raises(RuleViolation, match="used all 2 of your votes"):
        set_vote(poll=poll, membership=member_ship, suggestion=flash, approve=True)

    assert set(Vote.objects.values_list("suggestion", flat=True)) == {dpo.pk, lora.pk}


def test_vote_on_closed_poll_is_refused(poll, organizer, member_ship, dpo):
    close_poll(poll=poll, closed_by=organizer)

    with pytest.raises(RuleViolation, match="closed"):
        set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)


def test_vote_after_closing_time_is_refused_before_any_job_ran(poll, member_ship, dpo):
    Poll.objects.filter(pk=poll.pk).update(
        opened_at=timezone.now() - dt.timedelta(hours=1),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )

    with pytest.raises(RuleViolation, match="closed"):
        set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)

    assert Vote.objects.count() == 0


def test_vote_by_member_of_another_club_is_refused(poll, dpo, outsider, organizer):
    other = create_club(creator=outsider, name="Other", slug="other")
    membership = other.memberships.get(user=outsider)

    with pytest.raises(RuleViolation, match="Only members"):
        set_vote(poll=poll, membership=membership, suggestion=dpo, approve=True)


def test_vote_for_suggestion_of_another_club_is_refused(poll, member_ship, organizer):
    other = create_club(creator=organizer, name="Other", slug="other")
    foreign = suggest_paper(
        club=other, suggested_by=organizer, link="1706.03762", title="T", pitch="p"
    )

    with pytest.raises(RuleViolation, match="not on this club's ballot"):
        set_vote(poll=poll, membership=member_ship, suggestion=foreign, approve=True)


def test_vote_for_withdrawn_suggestion_is_refused(poll, member_ship, dpo):
    withdraw_suggestion(suggestion=dpo)

    with pytest.raises(RuleViolation, match="no longer on the ballot"):
        set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)


def test_one_vote_per_member_and_candidate_is_a_database_constraint(poll, member_ship, dpo):
    Vote.objects.create(poll=poll, membership=member_ship, suggestion=dpo)

    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(poll=poll, membership=member_ship, suggestion=dpo)


def test_papers_suggested_while_poll_is_open_are_candidates(poll, club, member, member_ship):
    late = suggest_paper(club=club, suggested_by=member, link="1706.03762", title="Attn", pitch="!")

    set_vote(poll=poll, membership=member_ship, suggestion=late, approve=True)

    assert Vote.objects.get().suggestion == late


# Closing


def vote(poll, membership, *suggestions):
    for suggestion in suggestions:
        set_vote(poll=poll, membership=membership, suggestion=suggestion, approve=True)


def test_close_stores_tally_winner_and_schedules_next_session(
    poll, club, organizer, member_ship, organizer_ship, dpo, lora, flash
):
    vote(poll, member_ship, dpo, lora)
    vote(poll, organizer_ship, dpo)

    closed = close_poll(poll=poll, closed_by=organizer)

    assert closed.winner == dpo
    assert closed.closed_by == organizer
    assert list(Tally.objects.values_list("suggestion__paper__title", "votes", "rank")) == [
        ("Direct Preference Optimization", 2, 1),
        ("LoRA", 1, 2),
        ("FlashAttention", 0, 3),
    ]
    meeting = Meeting.objects.get()
    assert (meeting.number, meeting.source, meeting.poll, list(meeting.suggestions.all())) == (
        1,
        "vote",
        closed,
        [dpo],
    )
    local = meeting.starts_at.astimezone(club.tz)
    assert (local.weekday(), local.time()) == (club.meeting_weekday, club.meeting_time)
    assert meeting.starts_at > timezone.now()
    dpo.refresh_from_db()
    assert dpo.state == "chosen"


def test_tie_goes_to_the_paper_on_fewer_earlier_ballots(club, organizer, member_ship, dpo, lora):
    first = open_poll(club=club, opened_by=organizer)
    vote(first, member_ship, lora)
    close_poll(poll=first, closed_by=organizer)  # LoRA wins; DPO has now stood in one poll
    Meeting.objects.get().suggestions.update(state="read")
    flash = suggest_paper(
        club=club, suggested_by=organizer, link="2205.14135", title="FA", pitch="x"
    )
    second = open_poll(club=club, opened_by=organizer)
    vote(second, member_ship, dpo, flash)

    closed = close_poll(poll=second, closed_by=organizer)

    assert closed.winner == flash
    assert "fewer earlier polls (0 against 1)" in closed.tie_break_applied


def test_tie_on_everything_goes_to_the_earliest_suggestion(poll, organizer, member_ship, dpo, lora):
    vote(poll, member_ship, lora, dpo)

    closed = close_poll(poll=poll, closed_by=organizer)

    assert closed.winner == dpo  # suggested before LoRA
    assert "was suggested first" in closed.tie_break_applied


def test_poll_without_votes_closes_without_winner(poll, organizer):
    closed = close_poll(poll=poll, closed_by=organizer)

    assert closed.winner is None
    assert Meeting.objects.count() == 0
    assert Tally.objects.count() == 3


def test_closing_twice_is_refused_and_keeps_one_result(poll, organizer, member_ship, dpo):
    vote(poll, member_ship, dpo)
    close_poll(poll=poll, closed_by=organizer)

    with pytest.raises(RuleViolation, match="already closed"):
        close_poll(poll=poll, closed_by=organizer)

    assert (Tally.objects.count(), Meeting.objects.count()) == (3, 1)


def test_due_poll_closes_at_its_closing_time(poll, member_ship, dpo):
    vote(poll, member_ship, dpo)
    deadline = timezone.now() - dt.timedelta(minutes=5)
    Poll.objects.filter(pk=poll.pk).update(
        opened_at=deadline - dt.timedelta(days=1), closes_at=deadline
    )

    assert close_due_polls() == 1

    poll.refresh_from_db()
    assert (poll.closed_at, poll.closed_by, poll.winner) == (deadline, None, dpo)
    assert close_due_polls() == 0


def test_next_session_skips_a_slot_already_taken(poll, club, organizer, member_ship, dpo, lora):
    taken = schedule_meeting(club=club, suggestions=[lora])
    vote(poll, member_ship, dpo)

    close_poll(poll=poll, closed_by=organizer)

    voted = Meeting.objects.get(source="vote")
    assert voted.starts_at - taken.starts_at == dt.timedelta(days=7)
    assert voted.number == 2


def test_override_winner_records_reason_and_moves_the_session(
    poll, organizer, member_ship, dpo, lora
):
    vote(poll, member_ship, dpo)
    close_poll(poll=poll, closed_by=organizer)

    override_winner(poll=poll, suggestion=lora, overridden_by=organizer, reason="Presenter away")

    poll.refresh_from_db()
    dpo.refresh_from_db()
    lora.refresh_from_db()
    assert (poll.winner, poll.override_reason, poll.overridden_by) == (
        lora,
        "Presenter away",
        organizer,
    )
    assert (dpo.state, lora.state) == ("open", "chosen")
    assert list(Meeting.objects.get().suggestions.all()) == [lora]


def test_override_needs_a_reason_and_a_candidate(poll, organizer, member_ship, dpo, lora, club):
    vote(poll, member_ship, dpo)
    close_poll(poll=poll, closed_by=organizer)
    late = suggest_paper(club=club, suggested_by=organizer, link="1706.03762", title="A", pitch="p")

    with pytest.raises(RuleViolation, match="Say why"):
        override_winner(poll=poll, suggestion=lora, overridden_by=organizer, reason=" ")
    with pytest.raises(RuleViolation, match="on this poll's ballot"):
        override_winner(poll=poll, suggestion=late, overridden_by=organizer, reason="x")

    poll.refresh_from_db()
    assert poll.winner == dpo


def test_removing_a_member_removes_their_open_votes(poll, organizer, member_ship, dpo):
    from clubs.services import remove_member

    vote(poll, member_ship, dpo)

    remove_member(membership=member_ship, removed_by=organizer)

    assert Vote.objects.count() == 0


def test_rejoining_member_starts_with_a_fresh_budget(poll, club, member, member_ship, dpo, lora):
    from clubs.services import leave_club

    vote(poll, member_ship, dpo, lora)
    leave_club(membership=member_ship)
    membership = join_club(club=club, user=member)

    ballot = set_vote(poll=poll, membership=membership, suggestion=dpo, approve=True)

    assert ballot.votes_used == 1
    assert Membership.objects.filter(club=club, user=member).count() == 1
