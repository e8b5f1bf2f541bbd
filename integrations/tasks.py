"""Posts to a linked club's Discord channel through the bot, by the background worker.

A post that Discord refuses for good (the bot was removed, lost its permissions, the
channel is gone) falls back to the club's webhook; one that fails for a while (timeouts,
Discord's 5xx or 429) is retried with growing delays first.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from integrations import api, messages
from integrations.models import DiscordLink, DiscordPollMessage
from papers.models import Poll

log = logging.getLogger(__name__)

ATTEMPTS = 4
REFRESH_DELAY = 2  # seconds: the votes of a burst are shown by one edit
MESSAGES_KEPT = 5  # the latest messages of a poll that are kept up to date


def bot_link(club) -> DiscordLink | None:
    """The club's confirmed channel, when the bot can post to it."""
    if not settings.DISCORD_BOT_TOKEN:
        return None
    return DiscordLink.objects.filter(club=club, confirmed_at__isnull=False).first()


def _message(club_id: int, text: str, poll_id: int | None) -> dict:
    poll = Poll.objects.filter(pk=poll_id).select_related("club").first() if poll_id else None
    if poll is not None and poll.is_open() and not poll.is_ranked:
        message = messages.poll_message(poll)
        message["content"] = (messages.escaped(text) + "\n" + message["content"])[:2000]
        return message
    return {"content": messages.escaped(text)}


def _fallback(club_id: int, text: str) -> None:
    from sessions.tasks import post_webhook

    post_webhook.enqueue(club_id, text)


@task()
def post_to_channel(club_id: int, text: str, poll_id: int | None = None, attempt: int = 1) -> bool:
    """Post `text` (with the poll's vote buttons when `poll_id` is an open approval poll)
    to the club's linked channel. Side effects: a Discord message; a retry or a webhook
    post queued when it fails."""
    link = DiscordLink.objects.filter(club_id=club_id, confirmed_at__isnull=False).first()
    if link is None or not settings.DISCORD_BOT_TOKEN:
        _fallback(club_id, text)
        return False
    try:
        message = _message(club_id, text, poll_id)
        posted = api.post_message(link.channel_id, message)
        if poll_id and message.get("components"):
            remember_poll_message(poll_id, link.channel_id, str((posted or {}).get("id", "")))
        return True
    except api.DiscordError as error:
        lasting = error.status is not None and 400 <= error.status < 500 and error.status != 429
        if lasting or attempt >= ATTEMPTS:
            log.error("Discord post of club %s failed (%s); using the webhook", club_id, error)
            _fallback(club_id, text)
            return False
        delay = dt.timedelta(seconds=30 * 2 ** (attempt - 1))
        log.warning("Discord post of club %s failed (%s); retrying in %s", club_id, error, delay)
        post_to_channel.using(run_after=timezone.now() + delay).enqueue(
            club_id, text, poll_id, attempt + 1
        )
        return False


@task()
def send_follow_up(interaction_token: str, text: str) -> bool:
    """The voter's own reply after a click that updated the channel's poll message."""
    try:
        api.follow_up(interaction_token, messages.reply(text)["data"])
        return True
    except api.DiscordError as error:
        log.warning("Discord follow-up failed: %s", error)
        return False


def queue_follow_up(interaction_token: str, text: str) -> None:
    if interaction_token:
        transaction.on_commit(lambda: send_follow_up.enqueue(interaction_token, text))


def queue_channel_post(club, text: str, poll_id: int | None = None) -> bool:
    """Queue a post to the club's Discord channel; False when the club has no bot link."""
    if bot_link(club) is None:
        return False
    transaction.on_commit(lambda: post_to_channel.enqueue(club.pk, text, poll_id))
    return True


def remember_poll_message(poll_id: int, channel_id: str, message_id: str) -> None:
    """Keep the message's ID, so the bot can show new counts on it."""
    if not (message_id.isascii() and message_id.isdigit() and 15 <= len(message_id) <= 20):
        return
    try:
        with transaction.atomic():
            DiscordPollMessage.objects.get_or_create(
                channel_id=channel_id, message_id=message_id, defaults={"poll_id": poll_id}
            )
    except IntegrityError:
        pass  # remembered by a click at the same moment


def queue_poll_refresh(poll: Poll, *, closed: bool = False) -> None:
    """After a vote in a poll with live results: edit its Discord messages to the new
    counts, at most once per REFRESH_DELAY (the task reads the counts when it runs).
    After the poll closed (`closed`): take the buttons off its messages."""
    if not settings.DISCORD_BOT_TOKEN or not (closed or poll.show_live_results):
        return
    if not closed and not cache.add(f"discord-refresh:{poll.pk}", 1, REFRESH_DELAY):
        return
    run_after = timezone.now() + dt.timedelta(seconds=0 if closed else REFRESH_DELAY)
    transaction.on_commit(lambda: refresh_poll_messages.using(run_after=run_after).enqueue(poll.pk))


@task()
def refresh_poll_messages(poll_id: int) -> int:
    """Show the poll's current counts on its latest Discord messages, or once it closed,
    its result without buttons. A message Discord no longer lets the bot edit (deleted,
    or sent as an interaction's reply) is forgotten. Returns how many were edited."""
    poll = Poll.objects.filter(pk=poll_id).select_related("club", "winner__paper").first()
    if poll is None or not settings.DISCORD_BOT_TOKEN:
        return 0
    kept = DiscordPollMessage.objects.filter(poll=poll).order_by("-created_at", "-id")
    message = messages.poll_message(poll) if poll.is_open() else messages.closed_poll(poll)
    edited = 0
    for row in kept[:MESSAGES_KEPT]:
        try:
            api.edit_message(row.channel_id, row.message_id, message)
            edited += 1
        except api.DiscordError as error:
            if error.status in (403, 404):
                row.delete()
            else:
                log.warning("Discord poll message %s not updated: %s", row.message_id, error)
    if not poll.is_open():
        kept.delete()  # nothing on them changes any more
    return edited
