"""The live vote at the end of a session: papers/live.py and papers/live_views.py."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from clubs.models import Club, Membership
from clubs.services import create_club
from paperclub.errors import RuleViolation
from papers import live
from papers.models import Poll, Suggestion, Tally
from papers.polls import close_poll, open_poll
from papers.votes import set_vote
from sessions.models import Meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_poll(club, organizer, dpo, lora, flash, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return live.open_live_poll(
            club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk], budget=1
        )


def _end(poll: Poll) -> None:
    """The countdown reaches zero (the closing time moves into the past)."""
    Poll.objects.filter(pk=poll.pk).update(
        opened_at=timezone.now() - dt.timedelta(minutes=5),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    poll.refresh_from_db()
    # Cached fragments hold the closing time: moving it stands in for time passing.
    live.bump_state(poll.pk)


# ---------- Services ----------


def test_open_live_poll_has_countdown_code_and_shortlist(live_poll, dpo, lora):
    assert live_poll.is_live
    assert live_poll.countdown_minutes == 3
    assert live_poll.closes_at - live_poll.opened_at == dt.timedelta(minutes=3)
    assert len(live_poll.live_code) == live.CODE_LENGTH
    assert set(live_poll.shortlist.values_list("pk", flat=True)) == {dpo.pk, lora.pk}
    assert live_poll.show_live_results


@pytest.mark.parametrize("minutes", [0, 16, None])
def test_open_live_poll_countdown_out_of_range_refused(club, organizer, dpo, minutes):
    with pytest.raises(RuleViolation, match="1 to 15 minutes"):
        live.open_live_poll(club=club, opened_by=organizer, shortlist=[dpo.pk], minutes=minutes)
    assert not Poll.objects.exists()


def test_open_live_poll_empty_or_foreign_shortlist_refused(club, organizer, outsider, dpo):
    other = create_club(creator=outsider, name="Other", slug="other")
    theirs = Suggestion.objects.create(club=other, paper=dpo.paper, pitch="p")
    for shortlist in ([], [dpo.pk]):
        with pytest.raises(RuleViolation, match="at least two papers"):
            live.open_live_poll(club=club, opened_by=organizer, shortlist=shortlist)
    with pytest.raises(RuleViolation, match="open suggestions"):
        live.open_live_poll(club=club, opened_by=organizer, shortlist=[dpo.pk, theirs.pk])
    assert not Poll.objects.exists()


def test_second_open_poll_refused_unless_closed_first(club, organizer, dpo, lora):
    week_long = open_poll(club=club, opened_by=organizer)
    both = [dpo.pk, lora.pk]
    with pytest.raises(RuleViolation, match="already has an open poll"):
        live.open_live_poll(club=club, opened_by=organizer, shortlist=both)
    assert Poll.objects.filter(club=club).count() == 1

    poll = live.open_live_poll(club=club, opened_by=organizer, shortlist=both, close_open=True)

    week_long.refresh_from_db()
    assert week_long.is_closed
    assert Poll.objects.filter(club=club).unclosed().get() == poll


def test_closing_the_open_poll_takes_its_winner_off_the_shortlist(
    club, organizer, member_ship, dpo, lora, flash
):
    week_long = open_poll(club=club, opened_by=organizer)
    set_vote(poll=week_long, membership=member_ship, suggestion=dpo, approve=True)

    with pytest.raises(RuleViolation, match="fewer than two"):
        live.open_live_poll(
            club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk], close_open=True
        )
    week_long.refresh_from_db()
    assert not week_long.is_closed  # the refusal changed nothing

    poll = live.open_live_poll(
        club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk, flash.pk], close_open=True
    )

    assert set(poll.shortlist.values_list("pk", flat=True)) == {lora.pk, flash.pk}


def test_default_shortlist_puts_earlier_interest_first(club, organizer, member, dpo, lora, flash):
    earlier = open_poll(club=club, opened_by=organizer, budget=2)
    organizer_ship = club.memberships.get(user=organizer)
    member_ship = club.memberships.get(user=member)
    set_vote(poll=earlier, membership=organizer_ship, suggestion=lora, approve=True)
    set_vote(poll=earlier, membership=member_ship, suggestion=lora, approve=True)
    set_vote(poll=earlier, membership=member_ship, suggestion=flash, approve=True)
    close_poll(poll=earlier, closed_by=organizer)  # lora wins and leaves the list

    assert live.default_shortlist(club) == [flash.pk, dpo.pk]
    assert live.default_shortlist(club, size=1) == [flash.pk]


def test_vote_off_the_shortlist_refused(live_poll, member_ship, flash):
    with pytest.raises(RuleViolation, match="shortlist"):
        set_vote(poll=live_poll, membership=member_ship, suggestion=flash, approve=True)
    assert not live_poll.votes.exists()


def test_vote_by_non_member_refused(live_poll, outsider, dpo):
    other = create_club(creator=outsider, name="Other", slug="other")
    theirs = Membership.objects.get(club=other, user=outsider)
    with pytest.raises(RuleViolation, match="Only members"):
        set_vote(poll=live_poll, membership=theirs, suggestion=dpo, approve=True)
    assert not live_poll.votes.exists()


def test_vote_after_zero_refused(live_poll, member_ship, dpo):
    _end(live_poll)
    with pytest.raises(RuleViolation, match="closed"):
        set_vote(poll=live_poll, membership=member_ship, suggestion=dpo, approve=True)
    assert not live_poll.votes.exists()


def test_countdown_close_counts_schedules_once(live_poll, member_ship, dpo, lora):
    set_vote(poll=live_poll, membership=member_ship, suggestion=lora, approve=True)
    _end(live_poll)

    closed = live.close_if_due(live_poll)
    again = live.close_if_due(Poll.objects.get(pk=live_poll.pk))

    assert closed.is_closed and again.is_closed
    assert closed.winner == lora
    assert closed.closed_by is None
    assert closed.closed_at == closed.closes_at
    assert Tally.objects.filter(poll=live_poll).count() == 2  # the shortlist only
    assert Meeting.objects.filter(poll=live_poll, state=Meeting.State.SCHEDULED).count() == 1


def test_countdown_close_queues_the_webhook_post(
    live_poll, club, member_ship, lora, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    club.webhook_url = "http://127.0.0.1:9/hook"
    club.save(update_fields=["webhook_url"])
    set_vote(poll=live_poll, membership=member_ship, suggestion=lora, approve=True)
    _end(live_poll)

    with django_capture_on_commit_callbacks(execute=True):
        live.close_if_due(live_poll)

    posted = [
        row.args_kwargs["args"][1]
        for row in DBTaskResult.objects.filter(task_path="sessions.tasks.post_webhook")
    ]
    assert [text for text in posted if "poll closed" in text] == [
        "Asia Paper Club: the poll closed. “LoRA” won."
    ]


def test_close_if_due_leaves_a_running_poll_open(live_poll):
    assert not live.close_if_due(live_poll).is_closed


def test_state_version_moves_when_a_vote_commits(
    live_poll, member_ship, dpo, django_capture_on_commit_callbacks
):
    before = live.state_version(live_poll.pk)
    with django_capture_on_commit_callbacks(execute=True):
        set_vote(poll=live_poll, membership=member_ship, suggestion=dpo, approve=True)
    voted = live.state_version(live_poll.pk)
    with django_capture_on_commit_callbacks(execute=True):
        set_vote(poll=live_poll, membership=member_ship, suggestion=dpo, approve=False)
    assert before < voted < live.state_version(live_poll.pk)


def test_state_version_starts_above_any_earlier_one_when_lost(live_poll):
    first = live.bump_state(live_poll.pk)
    cache.clear()  # evicted
    assert live.state_version(live_poll.pk) > first


def test_week_long_polls_bump_nothing(club, organizer, member_ship, dpo):
    poll = open_poll(club=club, opened_by=organizer)
    assert not poll.is_live
    set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)
    assert cache.get(f"live:poll:{poll.pk}:state") is None


# ---------- Views ----------


def test_organizer_starts_the_vote_with_the_default_shortlist(organizer_client, club, dpo, lora):
    page = organizer_client.get(reverse("papers:live_new", args=[club.slug]))
    assert page.status_code == 200
    assert 'name="shortlist"' in page.text
    assert page.text.count(" checked") == 3  # both open papers by default, and "approval"

    response = organizer_client.post(
        reverse("papers:live_new", args=[club.slug]),
        {"method": "approval", "budget": 2, "minutes": 2, "shortlist": [dpo.pk, lora.pk]},
    )

    poll = Poll.objects.get(club=club)
    assert response.status_code == 302
    assert response["Location"] == reverse("papers:live_screen", args=[club.slug, poll.pk])
    assert (poll.countdown_minutes, poll.budget) == (2, 2)


def test_start_form_names_the_open_poll_and_needs_the_box(
    organizer_client, club, organizer, dpo, lora
):
    open_poll(club=club, opened_by=organizer)
    url = reverse("papers:live_new", args=[club.slug])
    data = {"method": "approval", "budget": 2, "minutes": 3, "shortlist": [dpo.pk, lora.pk]}

    refused = organizer_client.post(url, data)
    assert refused.status_code == 422
    assert "A poll is already open" in refused.text
    assert Poll.objects.filter(club=club).count() == 1

    started = organizer_client.post(url, {**data, "close_open": "on"})
    assert started.status_code == 302
    assert Poll.objects.filter(club=club).unclosed().get().is_live


def test_start_form_bad_input_changes_nothing(organizer_client, club, dpo):
    response = organizer_client.post(
        reverse("papers:live_new", args=[club.slug]),
        {"budget": "x", "minutes": "99", "shortlist": ["abc", "999999"]},
    )
    assert response.status_code == 422
    assert not Poll.objects.exists()


def test_member_cannot_start_the_vote(member_client, club):
    assert member_client.get(reverse("papers:live_new", args=[club.slug])).status_code == 403


def test_latest_session_page_offers_the_vote_to_organizers_only(
    client, organizer, member, club, dpo
):
    from sessions.services import schedule_meeting

    meeting = schedule_meeting(
        club=club, suggestions=[dpo], starts_at=timezone.now() - dt.timedelta(minutes=50)
    )
    earlier = schedule_meeting(
        club=club, suggestions=[dpo], starts_at=timezone.now() - dt.timedelta(days=7)
    )
    client.force_login(organizer)
    assert "Vote for next week" in client.get(meeting.get_absolute_url()).text
    assert "Vote for next week" not in client.get(earlier.get_absolute_url()).text
    client.force_login(member)
    assert "Vote for next week" not in client.get(meeting.get_absolute_url()).text


def test_screen_has_question_countdown_qr_and_nothing_to_click(client, live_poll, club):
    response = client.get(reverse("papers:live_screen", args=[club.slug, live_poll.pk]))
    text = response.text
    main = text[text.index("<main") : text.index("</main>")]
    assert "What do we read next?" in main
    assert "data-countdown-to" in main
    assert reverse("papers:live_qr", args=[club.slug, live_poll.pk]) in main
    assert f"/v/{live_poll.live_code}/" in main
    assert "0 of 2 members have voted" in main
    for control in ("<a ", "<button", "<input", "<form", "<select", "<textarea"):
        assert control not in text


def test_fragment_shows_a_vote_once_it_commits(
    client, member_client, live_poll, club, lora, django_capture_on_commit_callbacks
):
    state = reverse("papers:live_state", args=[club.slug, live_poll.pk])
    first = client.get(state, headers={"HX-Request": "true"})
    assert first.status_code == 200
    assert first.text.lstrip().startswith('<section id="live-board"')
    assert f'data-suggestion="{lora.pk}" data-count="0"' in first.text

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(
            reverse("papers:live_vote", args=[club.slug, live_poll.pk, lora.pk]),
            {"approve": "1"},
            headers={"HX-Request": "true"},
        )
    after = client.get(state, headers={"HX-Request": "true"})
    assert f'data-suggestion="{lora.pk}" data-count="1"' in after.text
    assert "1 of 2 members has voted" in after.text


def test_fragment_from_the_cache_reads_no_poll(
    client, member, live_poll, club, django_assert_num_queries
):
    state = reverse("papers:live_state", args=[club.slug, live_poll.pk])
    client.get(state)
    with django_assert_num_queries(0):  # a public club's fragment, to anyone
        client.get(state)
    client.force_login(member)
    client.get(state)  # the member's own zone: its own fragment
    with django_assert_num_queries(2):  # the member's session and user (the middleware's)
        client.get(state)


def test_private_fragment_from_the_cache_only_to_members(
    client, member, outsider, private_club, organizer, django_assert_num_queries
):
    from papers.models import Paper

    ids = [
        Suggestion.objects.create(
            club=private_club, paper=Paper.objects.create(title=t, arxiv_id=a), pitch="p"
        ).pk
        for t, a in (("T", "2401.00002"), ("U", "2401.00003"))
    ]
    poll = live.open_live_poll(club=private_club, opened_by=organizer, shortlist=ids)
    state = reverse("papers:live_state", args=[private_club.slug, poll.pk])
    client.force_login(member)
    assert client.get(state).status_code == 200
    with django_assert_num_queries(2):
        assert client.get(state).status_code == 200
    client.force_login(outsider)
    assert client.get(state).status_code == 404
    client.logout()
    assert client.get(state).status_code == 404


def test_hidden_counts_show_at_the_end(client, club, organizer, member_ship, dpo, lora):
    poll = live.open_live_poll(
        club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk], show_live_results=False
    )
    set_vote(poll=poll, membership=member_ship, suggestion=lora, approve=True)
    state = reverse("papers:live_state", args=[club.slug, poll.pk])
    running = client.get(state).text
    assert "data-count=" not in running
    assert "The counts show at the end" in running
    _end(poll)
    ended = client.get(state).text
    assert f'data-suggestion="{lora.pk}" data-count="1"' in ended


def test_fragment_after_zero_closes_and_shows_winner_and_date(
    client, live_poll, club, member_ship, lora
):
    set_vote(poll=live_poll, membership=member_ship, suggestion=lora, approve=True)
    _end(live_poll)

    text = client.get(reverse("papers:live_state", args=[club.slug, live_poll.pk])).text

    live_poll.refresh_from_db()
    assert live_poll.winner == lora
    assert "Winner: “LoRA”" in text
    assert "Scheduled for" in text
    assert "hx-trigger" not in text  # the screen stops polling


def test_qr_code_is_an_svg_of_the_short_link(client, live_poll, club):
    response = client.get(reverse("papers:live_qr", args=[club.slug, live_poll.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_short_link_signs_in_then_opens_the_ballot(client, member, live_poll, club):
    short = reverse("papers:live_short", args=[live_poll.live_code])
    anonymous = client.get(short)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")
    assert anonymous["Location"].endswith(f"next={short}")

    client.force_login(member)
    member_sees = client.get(short)
    assert member_sees.status_code == 200
    assert "Your votes: 1 of 1 left" in member_sees.text


def test_short_link_tells_an_outsider_of_an_invite_only_club_how_to_join(
    outsider_client, private_club, organizer
):
    from papers.models import Paper

    ids = [
        Suggestion.objects.create(
            club=private_club, paper=Paper.objects.create(title=t, arxiv_id=a), pitch="p"
        ).pk
        for t, a in (("T", "2401.00001"), ("U", "2401.00004"))
    ]
    poll = live.open_live_poll(club=private_club, opened_by=organizer, shortlist=ids)
    assert private_club.joining == Club.Joining.INVITE

    response = outsider_client.get(reverse("papers:live_short", args=[poll.live_code]))

    assert response.status_code == 200
    assert "invite-only" in response.text
    assert "invitation link" in response.text


@pytest.mark.parametrize("code", ["nope", "ABCDEFGH", "a" * 200, "abcdefg\x00"])
def test_unknown_short_link_is_not_found(member_client, code):
    assert member_client.get(f"/v/{code}/").status_code == 404


def test_ballot_votes_with_one_tap_and_keeps_the_budget(member_client, live_poll, club, dpo, lora):
    ballot = member_client.get(reverse("papers:live_ballot", args=[club.slug, live_poll.pk]))
    assert ballot.status_code == 200
    assert "Your votes: 1 of 1 left" in ballot.text

    tap = member_client.post(
        reverse("papers:live_vote", args=[club.slug, live_poll.pk, lora.pk]),
        {"approve": "1"},
        headers={"HX-Request": "true"},
    )
    assert tap.status_code == 200
    assert tap.text.lstrip().startswith('<section id="choices"')
    assert "Your votes: 0 of 1 left" in tap.text

    over = member_client.post(
        reverse("papers:live_vote", args=[club.slug, live_poll.pk, dpo.pk]),
        {"approve": "1"},
        headers={"HX-Request": "true"},
    )
    assert over.status_code == 409
    assert list(live_poll.votes.values_list("suggestion", flat=True)) == [lora.pk]


def test_ranked_ballot_taps_add_in_order(member_client, club, organizer, member_ship, dpo, lora):
    poll = live.open_live_poll(
        club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk], method=Poll.Method.IRV
    )
    for paper in (lora, dpo):
        member_client.post(
            reverse("papers:live_vote", args=[club.slug, poll.pk, paper.pk]),
            {"approve": "1"},
            headers={"HX-Request": "true"},
        )
    assert list(
        poll.rankings.filter(membership=member_ship).values_list("suggestion", flat=True)
    ) == [lora.pk, dpo.pk]


def test_vote_after_zero_is_refused_in_place(member_client, live_poll, club, lora):
    _end(live_poll)
    response = member_client.post(
        reverse("papers:live_vote", args=[club.slug, live_poll.pk, lora.pk]),
        {"approve": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "closed" in response.text
    assert not live_poll.votes.exists()


def test_ballot_of_a_week_long_poll_is_the_club_page(member_client, club, organizer):
    poll = open_poll(club=club, opened_by=organizer)
    response = member_client.get(reverse("papers:live_ballot", args=[club.slug, poll.pk]))
    assert response["Location"] == f"{club.get_absolute_url()}#ballot"


def test_club_page_links_the_running_vote(member_client, live_poll, club):
    text = member_client.get(club.get_absolute_url()).text
    assert reverse("papers:live_ballot", args=[club.slug, live_poll.pk]) in text


def test_fragment_at_zero_shows_each_viewer_their_own_zone(
    client, live_poll, club, member, organizer, member_ship, lora
):
    member.time_zone = "America/Los_Angeles"
    member.save(update_fields=["time_zone"])
    organizer.time_zone = "Europe/Berlin"
    organizer.save(update_fields=["time_zone"])
    set_vote(poll=live_poll, membership=member_ship, suggestion=lora, approve=True)
    state = reverse("papers:live_state", args=[club.slug, live_poll.pk]) + "?for=ballot"
    for viewer in (organizer, member):  # both ballots open before zero
        client.force_login(viewer)
        assert client.get(state).status_code == 200
    _end(live_poll)

    client.force_login(organizer)
    berlin = client.get(state).text  # the read that closes the poll
    client.force_login(member)
    los_angeles = client.get(state).text

    assert "(Europe/Berlin)" in berlin
    assert "(America/Los Angeles)" in los_angeles
    assert "Berlin" not in los_angeles


def test_running_live_vote_is_never_closed_to_start_another(
    organizer_client, club, organizer, live_poll, dpo, lora
):
    with pytest.raises(RuleViolation, match="live vote is running"):
        live.open_live_poll(
            club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk], close_open=True
        )
    url = reverse("papers:live_new", args=[club.slug])
    page = organizer_client.get(url)
    assert "A live vote is running" in page.text
    assert "left" in page.text
    assert reverse("papers:live_screen", args=[club.slug, live_poll.pk]) in page.text
    assert "close_open" not in page.text

    data = {"method": "approval", "budget": 1, "minutes": 3, "shortlist": [dpo.pk, lora.pk]}
    refused = organizer_client.post(url, {**data, "close_open": "on"})

    assert refused.status_code == 422
    assert "A live vote is running" in refused.text
    live_poll.refresh_from_db()
    assert not live_poll.is_closed
    assert Poll.objects.filter(club=club).count() == 1


def test_ballot_page_is_never_kept_by_the_browser(member_client, live_poll, club):
    by_link = member_client.get(reverse("papers:live_short", args=[live_poll.live_code]))
    ballot = member_client.get(reverse("papers:live_ballot", args=[club.slug, live_poll.pk]))
    assert by_link["Cache-Control"] == "no-store"
    assert ballot["Cache-Control"] == "no-store"


def test_tie_break_says_1_vote(club, organizer, member_ship, dpo, lora, django_user_model):
    other = Membership.objects.create(
        club=club, user=django_user_model.objects.create_user(email="o@example.com", password="x")
    )
    poll = live.open_live_poll(club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk])
    set_vote(poll=poll, membership=member_ship, suggestion=dpo, approve=True)
    set_vote(poll=poll, membership=other, suggestion=lora, approve=True)

    closed = close_poll(poll=poll, closed_by=organizer)

    assert "tied on 1 vote" in closed.tie_break_applied
    assert "1 votes" not in closed.tie_break_applied


def test_ranked_ballot_asks_for_the_order_of_preference(member_client, club, organizer, dpo, lora):
    poll = live.open_live_poll(
        club=club, opened_by=organizer, shortlist=[dpo.pk, lora.pk], method=Poll.Method.IRV
    )
    page = member_client.get(reverse("papers:live_ballot", args=[club.slug, poll.pk]))
    assert "Tap the papers in your order of preference" in page.text


def test_outsider_joins_from_the_short_link_and_lands_on_the_ballot(
    outsider_client, live_poll, club
):
    page = outsider_client.get(reverse("papers:live_short", args=[live_poll.live_code]))
    assert "open the link on the screen again" not in page.text
    ballot = reverse("papers:live_ballot", args=[club.slug, live_poll.pk])
    assert f'name="next" value="{ballot}"' in page.text

    joined = outsider_client.post(reverse("clubs:join", args=[club.slug]), {"next": ballot})

    assert joined.status_code == 302
    assert joined["Location"] == ballot
    assert "Your votes: 1 of 1 left" in outsider_client.get(ballot).text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", ""])
def test_join_never_leaves_the_site(outsider_client, club, target):
    joined = outsider_client.post(reverse("clubs:join", args=[club.slug]), {"next": target})
    assert joined["Location"] == club.get_absolute_url()


def test_start_form_names_the_paper_closing_schedules_and_the_date_chosen_for(
    organizer_client, club, organizer, member_ship, dpo, lora, flash
):
    from sessions.services import next_free_slot

    week_long = open_poll(club=club, opened_by=organizer)
    set_vote(poll=week_long, membership=member_ship, suggestion=dpo, approve=True)
    first_week = next_free_slot(club, timezone.now())

    page = organizer_client.get(reverse("papers:live_new", args=[club.slug]))

    assert "it schedules “Direct Preference Optimization”" in page.text
    assert f'value="{dpo.pk}"' not in page.text  # not offered: it leaves with the close
    assert f'value="{lora.pk}"' in page.text
    ahead = live.before_start(club, week_long)
    assert ahead["scheduled"] == dpo
    assert ahead["choosing_for"] == next_free_slot(club, first_week)
    assert "The live vote chooses the paper for" in page.text
    week_long.refresh_from_db()
    assert not week_long.is_closed  # reading the form counts nothing for real
