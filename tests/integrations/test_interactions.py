"""The interactions endpoint: signatures, PING, the /paper commands, vote buttons and the
select menu's pages, as Discord sends them (signed with a generated key, no network)."""

import datetime as dt
import json
import time

import pytest
from django.db import connection
from django.utils import timezone

from integrations.interactions import USER_LIMIT
from integrations.messages import BUTTONS_MAX, EPHEMERAL
from integrations.models import DiscordLink
from paperclub import ratelimit
from papers.models import Suggestion, Vote
from papers.polls import close_poll, open_poll
from papers.services import suggest_paper
from papers.votes import set_vote
from sessions.services import schedule_meeting
from tests.integrations.conftest import (
    CHANNEL,
    GUILD,
    MEMBER_ID,
    ORGANIZER_ID,
    OUTSIDER_ID,
    STRANGER_ID,
    URL,
    connect,
    signed_headers,
)

pytestmark = pytest.mark.django_db


def paper(club, by, n: int, title: str | None = None) -> Suggestion:
    return suggest_paper(
        club=club, suggested_by=by, link=f"2401.{n:05d}", title=title or f"Paper {n}", pitch="p"
    )


def buttons(message: dict) -> list[dict]:
    return [c for row in message["components"] for c in row["components"]]


# Signatures


def test_ping_is_answered_with_pong(discord):
    assert discord.interact({"type": 1}) == {"type": 1}


def test_without_a_public_key_the_endpoint_does_not_exist(client, settings):
    settings.DISCORD_PUBLIC_KEY = ""

    response = client.post(URL, b'{"type": 1}', content_type="application/json")

    assert response.status_code == 404


def test_get_is_not_allowed(client, signing_key):
    assert client.get(URL).status_code == 405


def test_a_missing_signature_is_refused(client, signing_key):
    response = client.post(URL, b'{"type": 1}', content_type="application/json")

    assert response.status_code == 401


def test_a_signature_by_another_key_is_refused(discord):
    from nacl.signing import SigningKey

    body = b'{"type": 1}'
    headers = signed_headers(SigningKey.generate(), body)

    response = discord.client.post(URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 401


def test_a_body_changed_after_signing_is_refused(discord):
    headers = signed_headers(discord.key, b'{"type": 1}')

    response = discord.client.post(
        URL, b'{"type": 1 }', content_type="application/json", headers=headers
    )

    assert response.status_code == 401


@pytest.mark.parametrize("age", [-6 * 60, 6 * 60, 3600])
def test_a_stale_or_future_timestamp_is_refused(discord, age):
    body = b'{"type": 1}'
    headers = signed_headers(discord.key, body, timestamp=str(int(time.time()) - age))

    response = discord.client.post(URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Signature-Ed25519": "zz", "X-Signature-Timestamp": "1"},
        {"X-Signature-Ed25519": "00" * 64, "X-Signature-Timestamp": "not-a-time"},
        {"X-Signature-Ed25519": "00" * 63},
    ],
)
def test_malformed_signature_headers_are_refused(discord, headers):
    response = discord.client.post(
        URL, b'{"type": 1}', content_type="application/json", headers=headers
    )

    assert response.status_code == 401


def test_a_signed_body_that_is_not_json_is_a_400_not_a_500(discord):
    body = b"\xff not json"

    response = discord.client.post(
        URL, body, content_type="application/json", headers=signed_headers(discord.key, body)
    )

    assert response.status_code == 400


def test_one_discord_user_is_held_to_a_limit(discord, linked):
    answers = [discord.command("next")["data"]["content"] for _ in range(USER_LIMIT + 1)]

    assert "Too many" not in answers[USER_LIMIT - 1]
    assert answers[USER_LIMIT].startswith("Too many clicks and commands in a short time.")
    assert "Too many" not in discord.command("next", user=ORGANIZER_ID)["data"]["content"]


# /paper link


def test_link_is_confirmed_by_an_organizer_in_the_channel(discord, club, organizer):
    connect(organizer, ORGANIZER_ID)
    DiscordLink.objects.create(club=club, guild_id=GUILD, channel_id=CHANNEL)

    answer = discord.command("link", user=ORGANIZER_ID)

    assert answer["data"]["content"].startswith("This channel is linked to Asia Paper Club.")
    assert "flags" not in answer["data"]
    link = DiscordLink.objects.get(club=club)
    assert link.is_confirmed
    assert link.confirmed_by_discord_user == ORGANIZER_ID


def test_a_member_cannot_confirm_the_link(discord, club, member):
    connect(member, MEMBER_ID)
    DiscordLink.objects.create(club=club, guild_id=GUILD, channel_id=CHANNEL)

    answer = discord.command("link", user=MEMBER_ID)

    assert answer["data"]["content"] == "Only an organizer of Asia Paper Club can confirm the link."
    assert answer["data"]["flags"] == EPHEMERAL
    assert not DiscordLink.objects.get(club=club).is_confirmed


def test_link_in_a_channel_no_club_named(discord, organizer):
    connect(organizer, ORGANIZER_ID)

    answer = discord.command("link", user=ORGANIZER_ID)

    assert answer["data"]["content"].startswith("No club is waiting for this channel.")


def test_commands_in_an_unconfirmed_channel_are_refused(discord, club, member):
    connect(member, MEMBER_ID)
    DiscordLink.objects.create(club=club, guild_id=GUILD, channel_id=CHANNEL)

    answer = discord.command("next")

    assert answer["data"]["content"].startswith("This channel is not linked to a Paper Club club.")


# Who may do what


def test_an_unlinked_discord_user_is_asked_to_link_their_account(discord, linked, club, member):
    paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member)
    suggestion = Suggestion.objects.get()

    answer = discord.click(f"vote:{poll.pk}:{suggestion.pk}", user=STRANGER_ID)

    assert answer["data"]["content"].startswith("Link your Discord account to vote")
    assert answer["data"]["flags"] == EPHEMERAL
    (button,) = buttons(answer["data"])
    assert button["url"] == "http://127.0.0.1:8000/accounts/3rdparty/"
    assert Vote.objects.count() == 0


def test_once_linked_the_same_user_can_vote(discord, linked, club, member, django_user_model):
    paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member)
    suggestion = Suggestion.objects.get()
    discord.click(f"vote:{poll.pk}:{suggestion.pk}", user=STRANGER_ID)
    newcomer = django_user_model.objects.create_user(email="new@example.com", password="x")
    from clubs.services import join_club

    join_club(club=club, user=newcomer)
    connect(newcomer, STRANGER_ID)

    answer = discord.click(f"vote:{poll.pk}:{suggestion.pk}", user=STRANGER_ID)

    assert answer["data"]["content"] == "You voted for “Paper 1” · 2 of 3 votes left"
    assert Vote.objects.get().membership.user == newcomer


def test_a_linked_outsider_is_refused(discord, linked, club, member):
    paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member)
    suggestion = Suggestion.objects.get()

    vote = discord.click(f"vote:{poll.pk}:{suggestion.pk}", user=OUTSIDER_ID)
    suggest = discord.command("suggest", user=OUTSIDER_ID, link="2401.00002", pitch="p")

    assert vote["data"]["content"].startswith("Only members of Asia Paper Club can vote.")
    assert suggest["data"]["content"].startswith("Only members of Asia Paper Club can suggest")
    assert Vote.objects.count() == 0
    assert club.suggestions.count() == 1


# /paper suggest


def test_suggest_puts_the_paper_on_the_list_with_the_web_rules(discord, linked, club, member):
    answer = discord.command(
        "suggest", link="https://arxiv.org/abs/2305.18290v3", pitch="DPO, finally", title="DPO"
    )

    suggestion = Suggestion.objects.get()
    assert suggestion.paper.arxiv_id == "2305.18290"
    assert suggestion.suggested_by == member
    assert suggestion.pitch == "DPO, finally"
    assert answer["data"]["flags"] == EPHEMERAL
    assert answer["data"]["content"] == (
        f"“DPO” is on the list. http://127.0.0.1:8000/c/asia/#suggestion-{suggestion.pk}"
    )


def test_suggest_refuses_a_paper_already_suggested(discord, linked, club, member):
    first = paper(club, member, 1)

    answer = discord.command("suggest", link="arXiv:2401.00001v2", pitch="again")

    assert answer["data"]["content"].startswith("Already suggested by")
    assert answer["data"]["content"].endswith(f"#suggestion-{first.pk}")
    assert club.suggestions.count() == 1


def test_suggest_without_a_pitch_is_refused(discord, linked, club):
    answer = discord.command("suggest", link="2401.00001", pitch="   ", title="T")

    assert answer["data"]["content"] == "Say in a sentence why the club should read this."
    assert not club.suggestions.exists()


def test_suggest_an_unknown_paper_without_a_title_asks_for_it(discord, linked, club):
    answer = discord.command("suggest", link="2401.00001", pitch="good")

    assert "give its title too" in answer["data"]["content"]
    assert not club.suggestions.exists()


def test_suggest_a_bad_link_says_what_is_wrong(discord, linked, club):
    answer = discord.command("suggest", link="not a link", pitch="good", title="T")

    assert answer["data"]["content"].startswith("That is neither an arXiv ID")


def test_a_title_cannot_mention_everyone(discord, linked, club):
    answer = discord.command(
        "suggest", link="2401.00001", pitch="p", title="@everyone **look** <@123>"
    )

    content = answer["data"]["content"]
    assert "@everyone" not in content.replace("\\@everyone", "")
    assert answer["data"]["allowed_mentions"] == {"parse": []}


# /paper poll and /paper next


def test_poll_posts_a_button_per_candidate_and_the_ballot_link(discord, linked, club, member):
    papers = [paper(club, member, n) for n in range(1, 4)]
    poll = open_poll(club=club, opened_by=member, closes_at=timezone.now() + dt.timedelta(days=2))

    answer = discord.command("poll")

    assert answer["type"] == 4
    assert "flags" not in answer["data"]
    shown = buttons(answer["data"])
    assert [b.get("custom_id") for b in shown[:-1]] == [f"vote:{poll.pk}:{p.pk}" for p in papers]
    assert [b["label"] for b in shown[:-1]] == ["Paper 1", "Paper 2", "Paper 3"]
    assert shown[-1]["url"] == "http://127.0.0.1:8000/c/asia/#ballot"
    assert f"<t:{int(poll.closes_at.timestamp())}:F>" in answer["data"]["content"]
    assert answer["data"]["allowed_mentions"] == {"parse": []}


def test_poll_with_live_results_shows_the_counts(discord, linked, club, member):
    first = paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member, show_live_results=True)
    set_vote(poll=poll, membership=member.memberships.get(), suggestion=first, approve=True)

    answer = discord.command("poll")

    assert buttons(answer["data"])[0]["label"] == "Paper 1 (1)"
    assert "1 · Paper 1" in answer["data"]["content"]


def test_poll_without_an_open_poll_says_so(discord, linked):
    answer = discord.command("poll")

    assert answer["data"]["content"] == "Asia Paper Club has no open poll right now."


def test_more_candidates_than_buttons_get_a_select_menu_in_pages(discord, linked, club, member):
    papers = [paper(club, member, n) for n in range(1, 31)]
    poll = open_poll(club=club, opened_by=member)

    answer = discord.command("poll")
    select, *_ = buttons(answer["data"])
    nav = buttons(answer["data"])[1:]
    second = discord.click(f"page:{poll.pk}:2")
    again = discord.click(f"page:{poll.pk}:1", flags=EPHEMERAL)

    assert select["custom_id"] == f"pick:{poll.pk}:1"
    assert [o["value"] for o in select["options"]] == [str(p.pk) for p in papers[:25]]
    assert [b["custom_id"] for b in nav[:2]] == [f"page:{poll.pk}:0", f"page:{poll.pk}:2"]
    assert nav[0]["disabled"] is True
    assert second["type"] == 4 and second["data"]["flags"] == EPHEMERAL
    (page_two, *_) = buttons(second["data"])
    assert [o["value"] for o in page_two["options"]] == [str(p.pk) for p in papers[25:]]
    assert again["type"] == 7  # the member's own page message turns back to page one
    assert buttons(again["data"])[0]["options"][0]["value"] == str(papers[0].pk)


def test_choosing_from_the_select_menu_votes(discord, linked, club, member):
    papers = [paper(club, member, n) for n in range(1, BUTTONS_MAX + 3)]
    poll = open_poll(club=club, opened_by=member)

    answer = discord.click(f"pick:{poll.pk}:2", values=[str(papers[25].pk)])

    assert answer["data"]["content"] == "You voted for “Paper 26” · 2 of 3 votes left"
    assert Vote.objects.get().suggestion == papers[25]


def test_next_shows_the_session_as_a_discord_timestamp(discord, linked, club, member):
    suggestion = paper(club, member, 1, title="Mamba")
    starts = timezone.now() + dt.timedelta(days=3)
    meeting = schedule_meeting(club=club, suggestions=[suggestion], starts_at=starts)
    club.place_name = "#paper-voice"

    answer = discord.command("next")

    content = answer["data"]["content"]
    assert content.startswith("Asia Paper Club #1: Mamba")
    assert f"<t:{int(meeting.starts_at.timestamp())}:F>" in content
    assert content.endswith(f"http://127.0.0.1:8000/c/asia/sessions/{meeting.number}/")


def test_next_without_a_session(discord, linked):
    answer = discord.command("next")

    assert answer["data"]["content"] == "Asia Paper Club has no session scheduled yet."


# Vote buttons


def test_a_click_votes_and_a_second_click_takes_it_back(discord, linked, club, member):
    first = paper(club, member, 1, title="Attention")
    poll = open_poll(club=club, opened_by=member)

    voted = discord.click(f"vote:{poll.pk}:{first.pk}")
    after_vote = list(Vote.objects.values_list("suggestion", flat=True))
    taken_back = discord.click(f"vote:{poll.pk}:{first.pk}")

    assert voted["data"]["content"] == "You voted for “Attention” · 2 of 3 votes left"
    assert voted["data"]["flags"] == EPHEMERAL
    assert after_vote == [first.pk]
    assert taken_back["data"]["content"] == (
        "You took back your vote for “Attention” · 3 of 3 votes left"
    )
    assert not Vote.objects.exists()


def test_discord_and_web_votes_share_one_budget(discord, linked, club, member, member_client):
    papers = [paper(club, member, n) for n in range(1, 4)]
    poll = open_poll(club=club, opened_by=member, budget=2)
    from django.urls import reverse

    web = member_client.post(
        reverse("papers:vote", args=[club.slug, poll.pk, papers[0].pk]), {"approve": "1"}
    )
    by_discord = discord.click(f"vote:{poll.pk}:{papers[1].pk}")
    refused = discord.click(f"vote:{poll.pk}:{papers[2].pk}")
    web_refused = member_client.post(
        reverse("papers:vote", args=[club.slug, poll.pk, papers[2].pk]), {"approve": "1"}
    )

    assert web.status_code == 302
    assert by_discord["data"]["content"] == "You voted for “Paper 2” · 0 of 2 votes left"
    assert refused["data"]["content"] == (
        "You have used all 2 of your votes. Take one back to vote for this paper."
    )
    assert web_refused.status_code in (302, 409)
    assert sorted(Vote.objects.values_list("suggestion", flat=True)) == [papers[0].pk, papers[1].pk]
    page = member_client.get(reverse("clubs:detail", args=[club.slug])).content.decode()
    assert "0 of 2" in page or "0 votes left" in page or "No votes left" in page


def test_a_click_after_the_poll_closed_is_refused(discord, linked, club, member):
    first = paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member)
    close_poll(poll=poll, closed_by=member)

    answer = discord.click(f"vote:{poll.pk}:{first.pk}")

    assert answer["data"]["content"] == "Voting has closed for this poll."


def test_a_click_on_a_ranked_poll_says_to_rank_on_the_web(discord, linked, club, member):
    first = paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member, method="irv")

    answer = discord.click(f"vote:{poll.pk}:{first.pk}")
    shown = discord.command("poll")

    assert answer["data"]["content"] == "This poll takes a ranking: order the papers instead."
    assert "ranked" in shown["data"]["content"]


def test_a_click_for_another_clubs_paper_is_refused(discord, linked, club, member, organizer):
    from clubs.services import create_club

    other = create_club(creator=organizer, name="Other", slug="other")
    theirs = paper(other, organizer, 9)
    paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member)

    answer = discord.click(f"vote:{poll.pk}:{theirs.pk}")

    assert answer["data"]["content"] == "That paper is no longer on the ballot."
    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    "custom_id", ["vote:x:1", "vote:1", "vote:99999:1", "pick:1:1", "nonsense", "vote:1:1:1"]
)
def test_forged_custom_ids_are_refused_calmly(discord, linked, custom_id):
    answer = discord.click(custom_id, values=[] if custom_id.startswith("pick") else None)

    assert answer["type"] == 4
    assert answer["data"]["flags"] == EPHEMERAL
    assert not Vote.objects.exists()


def test_a_live_results_click_updates_the_message_and_follows_up(
    discord, linked, club, member, django_capture_on_commit_callbacks
):
    first = paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member, show_live_results=True)

    with django_capture_on_commit_callbacks(execute=True):
        answer = discord.click(f"vote:{poll.pk}:{first.pk}", token="tok")

    from django_tasks_db.models import DBTaskResult

    assert answer["type"] == 7
    assert buttons(answer["data"])[0]["label"] == "Paper 1 (1)"
    queued = DBTaskResult.objects.get(task_path="integrations.tasks.send_follow_up")
    assert queued.args_kwargs["args"] == ["tok", "You voted for “Paper 1” · 2 of 3 votes left"]


def test_a_dm_or_a_request_without_a_user_is_answered(discord):
    answer = discord.interact({"type": 2, "data": {"name": "paper"}})

    assert answer["data"]["content"] == "Discord did not say who you are. Try again."


def test_the_response_is_json_discord_reads(discord, linked):
    response = discord.post(
        {
            "type": 2,
            "guild_id": GUILD,
            "channel_id": CHANNEL,
            "member": {"user": {"id": MEMBER_ID}},
            "data": {"name": "paper", "options": [{"name": "next", "type": 1}]},
        }
    )

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["type"] == 4


# Query budgets: the same number of queries with one candidate and with many.


def test_poll_command_queries_do_not_grow_with_the_ballot(
    discord, linked, club, member, django_assert_num_queries
):
    paper(club, member, 1)
    open_poll(club=club, opened_by=member, show_live_results=True)
    discord.command("poll")  # warm the per-process caches

    with django_assert_num_queries(4) as small:
        discord.command("poll")
    for n in range(2, 41):
        paper(club, member, n)
    with django_assert_num_queries(4) as large:
        discord.command("poll")

    assert len(small.captured_queries) == len(large.captured_queries)


def test_vote_click_queries_do_not_grow_with_the_ballot(
    discord, linked, club, member, django_assert_num_queries
):
    first = paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member, budget=50)
    discord.click(f"vote:{poll.pk}:{first.pk}")

    def click_twice():
        discord.click(f"vote:{poll.pk}:{first.pk}")
        discord.click(f"vote:{poll.pk}:{first.pk}")

    with django_assert_num_queries(BUDGET_TWO_CLICKS) as small:
        click_twice()
    for n in range(2, 41):
        paper(club, member, n)
    with django_assert_num_queries(BUDGET_TWO_CLICKS) as large:
        click_twice()

    assert len(small.captured_queries) == len(large.captured_queries)


# Queries of a click and a take-back, savepoints included. PostgreSQL locks, checks,
# writes and counts in one call of a function (papers.votes.set_vote).
BUDGET_TWO_CLICKS = 10 if connection.vendor == "postgresql" else 19


@pytest.mark.parametrize(
    "data",
    [
        {"name": "paper"},
        {"name": "paper", "options": []},
        {"name": "paper", "options": [{"name": "dance", "type": 1}]},
        {"name": "other"},
    ],
)
def test_unknown_commands_are_answered(discord, linked, data):
    answer = discord.interact(
        {
            "type": 2,
            "guild_id": GUILD,
            "channel_id": CHANNEL,
            "member": {"user": {"id": MEMBER_ID}},
            "data": data,
        }
    )

    assert answer["data"]["content"] == "Paper Club does not know that command."


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2],
        {"type": 2, "member": {"user": {"id": MEMBER_ID}}, "data": {"name": "paper", "options": 5}},
        {"type": 3, "member": {"user": {"id": MEMBER_ID}}, "data": "x"},
    ],
)
def test_signed_but_malformed_interactions_are_a_400(discord, linked, payload):
    assert discord.post(payload).status_code == 400


def test_votes_from_discord_keep_the_webs_per_member_limit(discord, linked, club, member, settings):
    settings.RATE_LIMITS = {"vote": "2/m/user,100/m/ip"}
    first = paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member)

    answers = [discord.click(f"vote:{poll.pk}:{first.pk}")["data"]["content"] for _ in range(3)]

    assert answers[2] == "Too many votes in a short time. Try again later."
    assert not Vote.objects.exists()  # voted, took back, then refused


def test_discords_per_member_limit_is_the_webs_sliding_window(
    discord, linked, club, member, settings, monkeypatch
):
    # Two votes at 11:59:59 and a third at 12:00:01 are three in a minute: a window that
    # restarts on the minute would let the third through.
    settings.RATE_LIMITS = {"vote": "2/m/user,100/m/ip"}
    first = paper(club, member, 1)
    poll = open_poll(club=club, opened_by=member)
    clock = type("Clock", (), {"now": 43_199.0, "time": lambda self: self.now})()
    monkeypatch.setattr(ratelimit, "time", clock)

    answers = [discord.click(f"vote:{poll.pk}:{first.pk}")["data"]["content"] for _ in range(2)]
    clock.now = 43_201.0
    answers.append(discord.click(f"vote:{poll.pk}:{first.pk}")["data"]["content"])
    clock.now = 43_260.0
    answers.append(discord.click(f"vote:{poll.pk}:{first.pk}")["data"]["content"])

    assert answers[2] == "Too many votes in a short time. Try again later."
    assert answers[3].startswith("You voted for")


def test_suggestions_from_discord_keep_the_webs_per_member_limit(discord, linked, club, settings):
    settings.RATE_LIMITS = {"suggest": "1/10m/user,100/10m/ip"}

    discord.command("suggest", link="2401.00001", pitch="p", title="A")
    refused = discord.command("suggest", link="2401.00002", pitch="p", title="B")

    assert refused["data"]["content"] == "Too many suggestions in a short time. Try again later."
    assert club.suggestions.count() == 1
