"""What the Discord application answers: PING, the /paper commands, vote buttons and the
select menu's pages. Each answer is an interaction response (a dict sent back as JSON).

The same services and rules as the web: `suggest_paper` for suggestions, `set_vote` for
votes (budget, deadline, membership, locks). A channel speaks for the club linked to it;
a Discord user is the member whose account has that Discord account linked (allauth).
"""

import logging

from allauth.core.internal.ratelimit import Rate, parse_rates
from django.utils import timezone

from integrations import messages, services
from integrations.messages import reply
from integrations.tasks import queue_follow_up, remember_poll_message
from paperclub.errors import RuleViolation
from paperclub.ratelimit import ACTIONS, limits, take
from paperclub.text import vote_word
from papers.models import Poll, Suggestion, Vote
from papers.polls import close_due_polls
from papers.services import DuplicateSuggestion, suggest_paper
from papers.votes import set_vote

log = logging.getLogger(__name__)

PING, COMMAND, COMPONENT = 1, 2, 3
PONG, UPDATE_MESSAGE = 1, 7

USER_LIMIT = 30  # interactions a minute from one Discord user
USER_WINDOW = 60


def handle(payload: dict) -> dict:
    """The response to one verified interaction."""
    kind = payload.get("type")
    if kind == PING:
        return {"type": PONG}
    discord_user = _discord_user_id(payload)
    if discord_user is None:
        return reply("Discord did not say who you are. Try again.")
    if not _within_user_limit(discord_user):
        return reply("Too many clicks and commands in a short time. Try again in a minute.")
    try:
        if kind == COMMAND:
            return _command(payload, discord_user)
        if kind == COMPONENT:
            return _component(payload, discord_user)
    except RuleViolation as error:
        return reply(error.message)
    return reply("Paper Club does not know that kind of request.")


def _discord_user_id(payload: dict) -> str | None:
    user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
    uid = str(user.get("id", ""))
    return uid if services.SNOWFLAKE.fullmatch(uid) else None


def _within(key: str, rate: Rate) -> bool:
    """Count one more in `key`'s sliding window (the web's, paperclub.ratelimit); whether
    it had room."""
    return take([f"discord-{key}"], [rate]) is None


def _within_user_limit(discord_user: str) -> bool:
    return _within(f"user:{discord_user}", Rate(USER_LIMIT, USER_WINDOW, "user"))


def _within_action_limit(discord_user: str, action: str) -> bool:
    """The web's per-member limit of `action` (paperclub.ratelimit), per Discord user."""
    for rate in parse_rates(limits(action)):
        if rate.per == "user":
            return _within(f"{action}:{discord_user}", rate)
    return True


def _too_many(action: str) -> dict:
    return reply(f"Too many {ACTIONS[action][1]} in a short time. Try again later.")


def _options(options: list | None) -> dict[str, str]:
    return {o.get("name"): str(o.get("value", "")) for o in options or [] if "name" in o}


def _snowflake(value) -> str:
    """A Discord ID as sent (ASCII digits), or "" for anything else."""
    value = str(value or "")
    return value if value.isascii() and value.isdigit() and len(value) <= 20 else ""


def _channel(payload: dict) -> tuple[str, str]:
    return _snowflake(payload.get("guild_id")), _snowflake(payload.get("channel_id"))


def _club_link(payload: dict):
    """The confirmed link of the channel the interaction came from, or a RuleViolation."""
    guild, channel = _channel(payload)
    link = services.link_for_channel(guild, channel) if guild and channel else None
    if link is None or not link.is_confirmed:
        raise RuleViolation(
            "This channel is not linked to a Paper Club club. An organizer enters its server "
            "and channel IDs on the club's settings page, then runs /paper link here."
        )
    return link


def _not_linked(action: str) -> dict:
    button = {
        "type": messages.BUTTON,
        "style": messages.LINK,
        "label": "Link your Discord account",
        "url": messages.connections_url(),
    }
    return reply(
        f"Link your Discord account to {action}: sign in to Paper Club and connect Discord "
        "on your account's connections page, then try again.",
        components=[{"type": messages.ROW, "components": [button]}],
    )


def _member(discord_user: str, club, action: str):
    """(membership, None) for a member of `club`, else (None, the reply that refuses)."""
    membership = services.membership_of_discord_user(discord_user, club.pk)
    if membership is not None:
        return membership, None
    if services.user_for(discord_user) is None:
        return None, _not_linked(action)
    return None, reply(
        f"Only members of {club.name} can {action}. Join the club on the web first: "
        f"{messages.absolute(club.get_absolute_url())}"
    )


def _command(payload: dict, discord_user: str) -> dict:
    data = payload.get("data") or {}
    if data.get("name") != "paper":
        return reply("Paper Club does not know that command.")
    sub = (data.get("options") or [{}])[0]  # /paper <subcommand>: one option, the subcommand
    name, options = sub.get("name"), _options(sub.get("options"))
    if name == "link":
        return _link(payload, discord_user)
    link = _club_link(payload)
    if name == "suggest":
        return _suggest(link.club, discord_user, options)
    if name == "poll":
        return _poll(link.club, discord_user)
    if name == "next":
        return _next(link.club, discord_user)
    return reply("Paper Club does not know that command.")


# Discord permission bits (member.permissions): who may say what a channel is used for.
ADMINISTRATOR, MANAGE_CHANNELS, MANAGE_GUILD = 1 << 3, 1 << 4, 1 << 5


def _manages_channel(payload: dict) -> bool:
    """The user may manage this channel or server, as Discord computed for this channel."""
    bits = str((payload.get("member") or {}).get("permissions") or "")
    if not (bits.isascii() and bits.isdigit()):
        return False
    return bool(int(bits) & (ADMINISTRATOR | MANAGE_CHANNELS | MANAGE_GUILD))


def _link(payload: dict, discord_user: str) -> dict:
    guild, channel = _channel(payload)
    link = services.link_for_channel(guild, channel) if guild and channel else None
    if link is None:
        return reply(
            "No club is waiting for this channel. An organizer enters this server's and this "
            "channel's IDs on the club's settings page first, then runs /paper link here."
        )
    if not _manages_channel(payload):
        # Otherwise an organizer of any club could claim a channel of a server they only
        # belong to, and have the bot post there.
        return reply(
            "Only someone who may manage this channel (Manage Channels or Manage Server) "
            "can link it to a club."
        )
    user = services.user_for(discord_user)
    if user is None:
        return _not_linked("confirm the link")
    link = services.confirm_link(link=link, user=user, discord_user_id=discord_user)
    return reply(
        f"This channel is linked to {link.club.name}. Members can suggest with /paper suggest, "
        "see the poll with /paper poll and the next session with /paper next.",
        ephemeral=False,
    )


def _suggest(club, discord_user: str, options: dict[str, str]) -> dict:
    membership, refusal = _member(discord_user, club, "suggest papers")
    if refusal:
        return refusal
    if not _within_action_limit(discord_user, "suggest"):
        return _too_many("suggest")
    try:
        suggestion = suggest_paper(
            club=club,
            suggested_by=membership.user,
            link=options.get("link", ""),
            pitch=options.get("pitch", ""),
            title=options.get("title", ""),
        )
    except DuplicateSuggestion as error:
        return reply(f"{error.message} {messages.suggestion_url(error.suggestion)}")
    except RuleViolation as error:
        if error.message == "Give the paper's title.":
            return reply(
                "Paper Club does not know this paper yet: give its title too, with the "
                "title option of /paper suggest."
            )
        raise
    return reply(
        f"“{suggestion.display_title}” is on the list. {messages.suggestion_url(suggestion)}"
    )


def _open_poll(club) -> Poll | None:
    close_due_polls(club=club)
    return Poll.objects.filter(club=club).unclosed().select_related("club").first()


def _reader_refusal(discord_user: str, club) -> dict | None:
    """None when the Discord user may see the club's polls and sessions: anyone for a
    public club, its members for a private one (as on the web); else the refusal."""
    if club.is_public:
        return None
    _membership, refusal = _member(discord_user, club, "see this club's polls and sessions")
    return refusal


def _poll(club, discord_user: str) -> dict:
    if refusal := _reader_refusal(discord_user, club):
        return refusal
    poll = _open_poll(club)
    if poll is None:
        return reply(f"{club.name} has no open poll right now.", ephemeral=False)
    if poll.is_ranked:
        return reply(
            f"{club.name}'s poll is ranked: order the papers on the web ballot. "
            f"{messages.ballot_url(poll)}",
            ephemeral=False,
        )
    return {"type": 4, "data": messages.poll_message(poll)}


def _next(club, discord_user: str) -> dict:
    from sessions.models import Meeting

    if refusal := _reader_refusal(discord_user, club):
        return refusal
    meeting = (
        Meeting.objects.filter(
            club=club, state=Meeting.State.SCHEDULED, starts_at__gte=timezone.now()
        )
        .order_by("starts_at", "id")
        .select_related("club")
        .prefetch_related("suggestions__paper")
        .first()
    )
    if meeting is None:
        return reply(f"{club.name} has no session scheduled yet.", ephemeral=False)
    return {
        "type": 4,
        "data": {"content": messages.next_session_text(meeting), "allowed_mentions": {"parse": []}},
    }


def _ids(custom_id: str, prefix: str, count: int) -> list[int] | None:
    parts = custom_id.split(":")
    if len(parts) != count + 1 or parts[0] != prefix:
        return None
    if not all(p.isascii() and p.isdigit() and len(p) < 19 for p in parts[1:]):
        return None
    return [int(p) for p in parts[1:]]


def _component(payload: dict, discord_user: str) -> dict:
    data = payload.get("data") or {}
    custom_id = str(data.get("custom_id", ""))
    message = payload.get("message") or {}
    on_ephemeral = bool(int(message.get("flags") or 0) & messages.EPHEMERAL)
    if ids := _ids(custom_id, "vote", 2):
        return _vote(payload, discord_user, poll_id=ids[0], suggestion_id=ids[1], page=1)
    if ids := _ids(custom_id, "pick", 2):
        values = data.get("values") or []
        if len(values) != 1 or not str(values[0]).isdigit() or len(str(values[0])) > 18:
            return reply("Choose one paper.")
        return _vote(
            payload, discord_user, poll_id=ids[0], suggestion_id=int(values[0]), page=ids[1]
        )
    if ids := _ids(custom_id, "page", 2):
        poll = Poll.objects.filter(pk=ids[0]).select_related("club").first()
        if poll is None or not poll.is_open():
            return reply("Voting has closed for this poll.")
        if refusal := _reader_refusal(discord_user, poll.club):
            return refusal
        page = messages.poll_message(poll, page=ids[1])
        if on_ephemeral:
            return {"type": UPDATE_MESSAGE, "data": page}
        return {"type": 4, "data": {**page, "flags": messages.EPHEMERAL}}
    return reply("That button is from an older message. Run /paper poll for the current poll.")


def _vote(payload: dict, discord_user: str, *, poll_id: int, suggestion_id: int, page: int):
    """A click toggles: a vote for a paper the member has not voted for, else its take-back."""
    poll = Poll.objects.filter(pk=poll_id).select_related("club").first()
    if poll is None:
        return reply("That poll no longer exists. Run /paper poll for the current poll.")
    membership, refusal = _member(discord_user, poll.club, "vote")
    if refusal:
        return refusal
    if not _within_action_limit(discord_user, "vote"):
        return _too_many("vote")
    suggestion = (
        Suggestion.objects.filter(pk=suggestion_id, club=poll.club_id)
        .select_related("paper")
        .first()
    )
    if suggestion is None:
        return reply("That paper is no longer on the ballot.")
    voted = Vote.objects.filter(poll=poll, membership=membership, suggestion=suggestion).exists()
    ballot = set_vote(poll=poll, membership=membership, suggestion=suggestion, approve=not voted)
    did = "took back your vote for" if voted else "voted for"
    text = (
        f"You {did} “{suggestion.display_title}” · "
        f"{ballot.votes_left} of {ballot.budget} {vote_word(ballot.budget)} left"
    )
    message = payload.get("message") or {}
    on_ephemeral = bool(int(message.get("flags") or 0) & messages.EPHEMERAL)
    if poll.show_live_results and message.get("id") and not on_ephemeral:
        # The clicked message shows the new counts at once (and is kept up to date from
        # now on); the voter's own reply follows it.
        remember_poll_message(poll.pk, str(payload.get("channel_id", "")), str(message["id"]))
        queue_follow_up(str(payload.get("token", "")), text)
        return {"type": UPDATE_MESSAGE, "data": messages.poll_message(poll, page=page)}
    return reply(text)
