"""The Discord messages the site sends: a poll with its vote buttons (or select pages), the
next session, replies. All text passes through `escaped` (the output rule), and every
message carries `allowed_mentions` with nothing allowed, so no title pings anyone."""

from django.conf import settings
from django.urls import reverse

from paperclub.output import discord_text, web_url
from paperclub.text import multi_line, one_line, vote_word
from papers.models import Poll, Suggestion

EPHEMERAL = 64  # message flag: only the person who clicked sees the reply
NO_MENTIONS = {"parse": []}

BUTTON, SELECT, ROW = 2, 3, 1  # component types
PRIMARY, SECONDARY, SUCCESS, LINK = 1, 2, 3, 5  # button styles
BUTTONS_MAX = 24  # 5 rows of 5 are 25 buttons; one place is the web ballot's link
PAGE_SIZE = 25  # options in one select menu
LABEL_MAX = 80  # a button's label
OPTION_MAX = 100  # a select option's label


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def escaped(text: str) -> str:
    """Text for a Discord message by the output rule: cleaned as multi-line text (no CR,
    NUL or other control characters, whatever was stored), then Markdown and mentions
    escaped (paperclub.output.discord_text)."""
    return discord_text(multi_line(text))


def reply(text: str, *, ephemeral: bool = True, components: list | None = None) -> dict:
    """The interaction response: a message (type 4), seen only by the user when ephemeral."""
    data = {"content": escaped(text), "allowed_mentions": NO_MENTIONS}
    if ephemeral:
        data["flags"] = EPHEMERAL
    if components is not None:
        data["components"] = components
    return {"type": 4, "data": data}


def _short(text: str, limit: int) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ballot_url(poll: Poll) -> str:
    return absolute(f"{poll.club.get_absolute_url()}#ballot")


def candidates(poll: Poll) -> list[Suggestion]:
    """The poll's candidates, oldest first as on the web ballot, with counts when shown."""
    rows = Suggestion.objects.filter(club=poll.club_id).backlog().select_related("paper")
    if poll.results_visible():
        rows = rows.with_vote_counts(poll)
    return list(rows)


def _label(suggestion: Suggestion, live: bool, limit: int) -> str:
    count = f" ({suggestion.vote_count})" if live else ""
    title = _short(suggestion.display_title, limit - len(count)) or "Untitled paper"
    return title + count


def vote_id(poll: Poll, suggestion: Suggestion) -> str:
    return f"vote:{poll.pk}:{suggestion.pk}"


def poll_components(poll: Poll, rows: list[Suggestion], page: int = 1) -> list[dict]:
    """One button per candidate (up to 24), else a select menu of 25 a page with page
    buttons; the web ballot's link last either way."""
    live = poll.results_visible()
    link = {"type": BUTTON, "style": LINK, "label": "Open the ballot", "url": ballot_url(poll)}
    if len(rows) <= BUTTONS_MAX:
        buttons = [
            {
                "type": BUTTON,
                "style": PRIMARY,
                "label": _label(s, live, LABEL_MAX),
                "custom_id": vote_id(poll, s),
            }
            for s in rows
        ] + [link]
        return [
            {"type": ROW, "components": buttons[start : start + 5]}
            for start in range(0, len(buttons), 5)
        ]
    pages = (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    select = {
        "type": SELECT,
        "custom_id": f"pick:{poll.pk}:{page}",
        "placeholder": _short(
            f"Vote: papers {(page - 1) * PAGE_SIZE + 1} to "
            f"{(page - 1) * PAGE_SIZE + len(shown)} of {len(rows)}",
            150,
        ),
        "min_values": 1,
        "max_values": 1,
        "options": [{"label": _label(s, live, OPTION_MAX), "value": str(s.pk)} for s in shown],
    }
    nav = [
        {
            "type": BUTTON,
            "style": SECONDARY,
            "label": "Previous papers",
            "custom_id": f"page:{poll.pk}:{page - 1}",
            "disabled": page == 1,
        },
        {
            "type": BUTTON,
            "style": SECONDARY,
            "label": f"More papers ({page} of {pages})",
            "custom_id": f"page:{poll.pk}:{page + 1}",
            "disabled": page == pages,
        },
        link,
    ]
    return [{"type": ROW, "components": [select]}, {"type": ROW, "components": nav}]


def poll_text(poll: Poll, rows: list[Suggestion]) -> str:
    club = poll.club
    head = (
        f"{one_line(club.name)}: what do we read next? {poll.budget} {vote_word(poll.budget)} each."
    )
    if not rows:
        return f"{head} No papers are on the list yet: suggest one with /paper suggest."
    return f"{head} Click a paper to vote for it, again to take the vote back."


def poll_message(poll: Poll, page: int = 1) -> dict:
    """The poll as a channel message (content and components)."""
    rows = candidates(poll)
    closes = ""
    if poll.closes_at and poll.is_open():
        closes = f" Voting closes <t:{int(poll.closes_at.timestamp())}:F>."
    content = escaped(poll_text(poll, rows)) + closes
    if poll.results_visible() and rows:
        lines = [f"{s.vote_count} · {_short(s.display_title, 120)}" for s in rows[:20]]
        content += "\n" + escaped("\n".join(lines))
    return {
        "content": content[:2000],
        "components": poll_components(poll, rows, page) if rows else [],
        "allowed_mentions": NO_MENTIONS,
    }


def closed_poll(poll: Poll) -> dict:
    """A poll message once voting closed: the result, the link to it, no vote buttons."""
    result = f"“{poll.winner.display_title}” won." if poll.winner else "No paper won."
    link = {
        "type": BUTTON,
        "style": LINK,
        "label": "See the result",
        "url": absolute(poll.get_absolute_url()),
    }
    return {
        "content": escaped(f"{one_line(poll.club.name)}: the poll closed. {result}"),
        "components": [{"type": ROW, "components": [link]}],
        "allowed_mentions": NO_MENTIONS,
    }


def next_session_text(meeting) -> str:
    """The next session: its time as a Discord timestamp, so each reader sees it in their
    own zone, the place and the papers. (The timestamp is added after escaping.)"""
    papers = "; ".join(s.display_title for s in meeting.suggestions.all()) or "paper to be chosen"
    place = ", ".join(x for x in (meeting.place_name, web_url(meeting.place_url)) if x)
    text = escaped(one_line(f"{meeting.club.name} #{meeting.number}: {papers}"))
    moment = int(meeting.starts_at.timestamp())
    text += f"\nWhen: <t:{moment}:F> (<t:{moment}:R>)"
    if place:
        text += "\n" + escaped(one_line(f"Where: {place}"))
    text += "\n" + absolute(meeting.get_absolute_url())
    return text


def suggestion_url(suggestion: Suggestion) -> str:
    return absolute(f"{suggestion.club.get_absolute_url()}#suggestion-{suggestion.pk}")


def connections_url() -> str:
    return absolute(reverse("socialaccount_connections"))
