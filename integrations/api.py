"""Calls to Discord's REST API: with the bot token for channel messages and command
registration, with an interaction's own token for follow-up replies.

The base URL is a setting (DISCORD_API_URL), so the tests point it at a local server.
Every call times out (DISCORD_TIMEOUT) and no redirect is followed: an answer that is not
Discord's own is an error, never a request somewhere else.
"""

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings

log = logging.getLogger(__name__)

USER_AGENT = "DiscordBot (https://github.com/paperclub/paperclub, 1.0)"
# Nobody is pinged by anything the site posts, whatever the text holds.
NO_MENTIONS = {"parse": []}


class DiscordError(Exception):
    """Discord could not be reached, refused the call, or is not configured."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect refused: {msg}", headers, fp)


_opener = urllib.request.build_opener(_NoRedirects)


def call(method: str, path: str, payload=None, *, bot: bool = True):
    """The JSON Discord answers to `method path` (None for 204), or DiscordError."""
    headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
    if bot:
        if not settings.DISCORD_BOT_TOKEN:
            raise DiscordError("DISCORD_BOT_TOKEN is not set.")
        headers["Authorization"] = f"Bot {settings.DISCORD_BOT_TOKEN}"
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        f"{settings.DISCORD_API_URL}{path}", data=data, method=method, headers=headers
    )
    try:
        with _opener.open(request, timeout=settings.DISCORD_TIMEOUT) as response:
            body = response.read(1_000_000)
    except urllib.error.HTTPError as error:
        detail = error.read(2000).decode(errors="replace")
        error.close()
        raise DiscordError(f"Discord answered {error.code}: {detail}", status=error.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise DiscordError(f"Discord could not be reached: {error}") from None
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise DiscordError("Discord's answer was not JSON.") from None


def post_message(channel_id: str, message: dict) -> dict:
    """Post `message` (content, components) to a channel as the bot."""
    return call(
        "POST", f"/channels/{channel_id}/messages", {**message, "allowed_mentions": NO_MENTIONS}
    )


def edit_message(channel_id: str, message_id: str, message: dict) -> dict:
    """Replace a message the bot posted (its content and components)."""
    return call(
        "PATCH",
        f"/channels/{channel_id}/messages/{message_id}",
        {**message, "allowed_mentions": NO_MENTIONS},
    )


def follow_up(interaction_token: str, message: dict) -> dict:
    """A follow-up message to an interaction (ephemeral when its flags say so)."""
    app = settings.DISCORD_APPLICATION_ID
    return call(
        "POST",
        f"/webhooks/{app}/{interaction_token}",
        {**message, "allowed_mentions": NO_MENTIONS},
        bot=False,
    )


def register_commands(commands: list[dict], guild_id: str | None = None) -> list[dict]:
    """Replace the application's commands (globally, or in one guild, which is instant)."""
    app = settings.DISCORD_APPLICATION_ID
    if not app:
        raise DiscordError("DISCORD_APPLICATION_ID is not set.")
    path = (
        f"/applications/{app}/guilds/{guild_id}/commands"
        if guild_id
        else (f"/applications/{app}/commands")
    )
    return call("PUT", path, commands)
