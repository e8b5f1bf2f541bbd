"""Calls to Discord's API, against a local server that records them: command
registration, announcements through the bot (with the poll's vote buttons), the fallback
to the webhook, follow-up replies and time-outs."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from integrations import api
from integrations.commands import COMMANDS
from integrations.models import DiscordLink
from integrations.tasks import post_to_channel, send_follow_up
from papers.polls import close_poll, open_poll
from papers.services import suggest_paper
from sessions.services import cancel_meeting, schedule_meeting
from tests.integrations.conftest import CHANNEL, GUILD
from tests.sessions.test_emails_webhooks import Hook, run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(club):
    return DiscordLink.objects.create(
        club=club,
        guild_id=GUILD,
        channel_id=CHANNEL,
        confirmed_at=timezone.now(),
        confirmed_by_discord_user="333333333333333331",
    )


def test_register_commands_puts_the_paper_command(discord_api, capsys):
    call_command("discord_register_commands")

    (request,) = discord_api.received
    assert request["method"] == "PUT"
    assert request["path"] == "/api/v10/applications/444444444444444444/commands"
    assert request["authorization"] == "Bot test-bot-token"
    assert request["json"] == COMMANDS
    subcommands = [o["name"] for o in request["json"][0]["options"]]
    assert subcommands == ["suggest", "poll", "next", "link"]
    assert "Registered /paper globally." in capsys.readouterr().out


def test_register_commands_in_one_guild(discord_api):
    call_command("discord_register_commands", guild=GUILD)

    assert discord_api.received[0]["path"] == (
        f"/api/v10/applications/444444444444444444/guilds/{GUILD}/commands"
    )


def test_register_commands_says_what_is_missing(settings):
    settings.DISCORD_APPLICATION_ID = ""

    with pytest.raises(CommandError, match="DISCORD_APPLICATION_ID is not set"):
        call_command("discord_register_commands")


def test_register_commands_reports_discords_refusal(discord_api):
    discord_api.status = 401

    with pytest.raises(CommandError, match="Discord answered 401"):
        call_command("discord_register_commands")


def test_an_unreachable_discord_is_an_error_not_a_hang(settings):
    settings.DISCORD_BOT_TOKEN = "t"
    settings.DISCORD_APPLICATION_ID = "1"
    settings.DISCORD_API_URL = "http://127.0.0.1:9/api"

    with pytest.raises(api.DiscordError, match="could not be reached"):
        api.register_commands(COMMANDS)


def test_session_changes_are_posted_through_the_bot(
    club, member, channel, discord_api, django_capture_on_commit_callbacks
):
    paper = suggest_paper(
        club=club, suggested_by=member, link="2401.00001", title="Mamba @everyone", pitch="p"
    )

    with django_capture_on_commit_callbacks(execute=True):
        meeting = schedule_meeting(club=club, suggestions=[paper])
    with django_capture_on_commit_callbacks(execute=True):
        cancel_meeting(meeting=meeting)
    run_queued_tasks()

    posts = [r for r in discord_api.received if r["method"] == "POST"]
    assert [p["path"] for p in posts] == [f"/api/v10/channels/{CHANNEL}/messages"] * 2
    assert posts[0]["json"]["content"].startswith("Session scheduled: #1 Mamba \\@everyone")
    assert posts[1]["json"]["content"].startswith("Session cancelled: #1")
    assert all(p["json"]["allowed_mentions"] == {"parse": []} for p in posts)
    assert posts[0]["authorization"] == "Bot test-bot-token"


def test_an_opened_poll_is_posted_with_its_vote_buttons(
    club, member, channel, discord_api, django_capture_on_commit_callbacks
):
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="A", pitch="p")

    with django_capture_on_commit_callbacks(execute=True):
        poll = open_poll(club=club, opened_by=member)
    run_queued_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        close_poll(poll=poll, closed_by=member)
    run_queued_tasks()

    opened, closed = [r["json"] for r in discord_api.received if r["method"] == "POST"]
    assert opened["content"].startswith("Asia Paper Club: a poll is open.")
    button = opened["components"][0]["components"][0]
    assert button["custom_id"] == f"vote:{poll.pk}:{paper.pk}"
    assert closed["content"] == "Asia Paper Club: the poll closed. No votes."
    assert "components" not in closed


def test_a_pending_link_still_posts_to_the_webhook(
    club,
    member,
    channel,
    discord_api,
    hook_server,
    django_capture_on_commit_callbacks,
):
    channel.confirmed_at, channel.confirmed_by_discord_user = None, ""
    channel.save()
    club.webhook_url = hook_server
    club.save()
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="A", pitch="p")

    with django_capture_on_commit_callbacks(execute=True):
        schedule_meeting(club=club, suggestions=[paper])
    run_queued_tasks()

    assert discord_api.received == []
    (message,) = Hook.received
    assert message["content"].startswith("Session scheduled: #1 A")


def test_a_bot_refused_for_good_falls_back_to_the_webhook(
    club,
    channel,
    discord_api,
    hook_server,
):
    club.webhook_url = hook_server
    club.save()
    discord_api.status = 403  # the bot was removed from the server

    assert post_to_channel.call(club.pk, "hello") is False
    run_queued_tasks()

    assert len(discord_api.received) == 1
    assert Hook.received[0]["content"] == "hello"


def test_a_bot_post_that_fails_for_a_while_is_retried(club, channel, discord_api, caplog):
    discord_api.status = 502

    assert post_to_channel.call(club.pk, "hello") is False

    retry = DBTaskResult.objects.get(task_path="integrations.tasks.post_to_channel")
    assert retry.args_kwargs["args"] == [club.pk, "hello", None, 2]
    assert retry.run_after > timezone.now() + dt.timedelta(seconds=20)
    assert "retrying" in caplog.text


def test_without_a_bot_token_announcements_use_the_webhook(
    club,
    member,
    channel,
    hook_server,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.DISCORD_BOT_TOKEN = ""
    club.webhook_url = hook_server
    club.save()
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="A", pitch="p")

    with django_capture_on_commit_callbacks(execute=True):
        schedule_meeting(club=club, suggestions=[paper])
    run_queued_tasks()

    assert len(Hook.received) == 1


def test_a_follow_up_reply_is_sent_ephemeral_to_the_interaction(discord_api):
    assert send_follow_up.call("tok", "You voted for “A” · 2 of 3 votes left") is True

    (request,) = discord_api.received
    assert request["path"] == "/api/v10/webhooks/444444444444444444/tok"
    assert request["authorization"] is None  # the interaction's token is the credential
    assert request["json"]["flags"] == 64
    assert request["json"]["allowed_mentions"] == {"parse": []}


def test_live_counts_follow_web_votes_on_the_bots_poll_message(
    club, member, channel, discord_api, member_client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from integrations.models import DiscordPollMessage

    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="A", pitch="p")
    with django_capture_on_commit_callbacks(execute=True):
        poll = open_poll(club=club, opened_by=member, show_live_results=True)
    run_queued_tasks()
    (remembered,) = DiscordPollMessage.objects.filter(poll=poll)

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(
            reverse("papers:vote", args=[club.slug, poll.pk, paper.pk]), {"approve": "1"}
        )
    queued = DBTaskResult.objects.get(task_path="integrations.tasks.refresh_poll_messages")
    assert queued.run_after > timezone.now()
    from integrations.tasks import refresh_poll_messages

    assert refresh_poll_messages.call(poll.pk) == 1

    edit = discord_api.received[-1]
    assert remembered.message_id == "666666666666666666"
    assert edit["method"] == "PATCH"
    assert edit["path"] == f"/api/v10/channels/{CHANNEL}/messages/666666666666666666"
    assert edit["json"]["components"][0]["components"][0]["label"] == "A (1)"


def test_a_burst_of_votes_queues_one_edit(
    club, member, organizer, channel, discord_api, django_capture_on_commit_callbacks
):
    from papers.votes import set_vote

    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="A", pitch="p")
    poll = open_poll(club=club, opened_by=member, show_live_results=True)
    DBTaskResult.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        for who in (member, organizer, member):
            set_vote(poll=poll, membership=who.memberships.get(), suggestion=paper, approve=True)

    queued = DBTaskResult.objects.filter(task_path="integrations.tasks.refresh_poll_messages")
    assert queued.count() == 1


def test_a_message_the_bot_cannot_edit_is_forgotten(club, member, channel, discord_api):
    from integrations.models import DiscordPollMessage
    from integrations.tasks import refresh_poll_messages

    suggest_paper(club=club, suggested_by=member, link="2401.00001", title="A", pitch="p")
    poll = open_poll(club=club, opened_by=member, show_live_results=True)
    DiscordPollMessage.objects.create(
        poll=poll, channel_id=CHANNEL, message_id="777777777777777777"
    )
    discord_api.status = 404

    assert refresh_poll_messages.call(poll.pk) == 0

    assert not DiscordPollMessage.objects.exists()


def test_a_closed_polls_messages_lose_their_buttons(
    club, member, channel, discord_api, django_capture_on_commit_callbacks
):
    from integrations.models import DiscordPollMessage

    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="A", pitch="p")
    with django_capture_on_commit_callbacks(execute=True):
        poll = open_poll(club=club, opened_by=member)
    run_queued_tasks()
    from papers.votes import set_vote

    set_vote(poll=poll, membership=member.memberships.get(), suggestion=paper, approve=True)

    with django_capture_on_commit_callbacks(execute=True):
        close_poll(poll=poll, closed_by=member)
    run_queued_tasks()

    (edit,) = [r for r in discord_api.received if r["method"] == "PATCH"]
    assert edit["path"] == f"/api/v10/channels/{CHANNEL}/messages/666666666666666666"
    assert edit["json"]["content"] == "Asia Paper Club: the poll closed. “A” won."
    (button,) = edit["json"]["components"][0]["components"]
    assert button["url"] == f"http://127.0.0.1:8000{poll.get_absolute_url()}"
    assert not DiscordPollMessage.objects.exists()
