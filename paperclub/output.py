"""Encoding values for the places they are sent: links and chat messages.

Each output format has its own library or rule (Django templates escape HTML, icalendar
escapes calendar text, the reading-list writer escapes Markdown); these are the small rules
shared by several of them. One-line and multi-line text is the input rule's own
(paperclub.text), so stored text and sent text are cleaned by one function.
"""

import json
import re
from urllib.parse import urlsplit

from paperclub.text import multi_line

WEB_SCHEMES = ("http", "https")


def web_url(url: str) -> str:
    """`url` when it is an http(s) link with a host, else "": no javascript:, data: or
    ftp: link is ever written out, whatever was stored."""
    url = (url or "").strip()
    if any(char.isspace() or ord(char) < 32 for char in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in WEB_SCHEMES and parts.hostname else ""


# Discord reads Markdown in a webhook's `content`; Slack reads `&`, `<` and `>` as markup
# (`<!everyone>`, `<@U123>`, `<url|text>`). Links are left as they are so chat apps link them.
_LINK = re.compile(r"https?://[^\s<>]+")
_DISCORD_SPECIAL = re.compile(r"([\\*_~`|\[\]<@])|(?m:^)([#>-])")
DISCORD_MAX = 2000  # characters; Discord refuses longer messages
_SLACK_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _outside_links(text: str, escape) -> str:
    out, last = [], 0
    for match in _LINK.finditer(text):
        out += [escape(text[last : match.start()]), match.group(0)]
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def discord_text(text: str) -> str:
    """`text` for a Discord message: Markdown characters and `@` escaped outside links, so
    a title cannot format the message, hide a link, or mention @everyone."""
    escaped = _outside_links(text, lambda part: _DISCORD_SPECIAL.sub(r"\\\g<0>", part))
    if len(escaped) > DISCORD_MAX:
        escaped = escaped[: DISCORD_MAX - 1]
        escaped = escaped[:-1] if escaped.endswith("\\") else escaped
        escaped += "…"
    return escaped


def slack_text(text: str) -> str:
    """`text` for a Slack message: `&`, `<`, `>` escaped as Slack asks, so no `<!here>`."""
    return "".join(_SLACK_SPECIAL.get(char, char) for char in text)


def webhook_body(text: str) -> bytes:
    """The JSON posted to a club's webhook, read by Discord (`content`) and Slack (`text`).

    `allowed_mentions` with no types tells Discord to ping nobody, and `mrkdwn: false`
    tells Slack to show the text as it is.
    """
    text = multi_line(text)
    payload = {
        "content": discord_text(text),
        "allowed_mentions": {"parse": []},
        "text": slack_text(text),
        "mrkdwn": False,
    }
    return json.dumps(payload).encode()
