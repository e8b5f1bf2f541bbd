from django import template
from django.utils.html import format_html

from paperclub.cache import markdown_html
from paperclub.when import DATETIME, describe, viewer_zone_known, weekly_slot_text

register = template.Library()


@register.simple_tag
def when(moment, club=None, style=DATETIME):
    """A moment in the viewer's time zone, named, with the club's own time beside it when
    the two differ: `{% when meeting.starts_at club %}`, `{% when row.created_at club "date" %}`.
    A viewer whose zone is unknown is served the club's time, marked for static/js/app.js
    to rewrite in the browser's zone. See paperclub/when.py."""
    if not moment:  # None, or "" for a variable the template does not have
        return ""
    found = describe(moment, club_zone=club.tz if club is not None else None, style=style)
    if viewer_zone_known():
        shown = format_html('<time datetime="{}">{}</time>', found.iso, found.mine)
    else:
        # A first visit without the zone cookie: the browser rewrites this in its own zone.
        shown = format_html(
            '<time datetime="{}" data-zone-guessed data-when-format="{}" data-club-zone="{}">'
            "{}</time>",
            found.iso,
            style,
            club.time_zone if club is not None else "",
            found.mine,
        )
    if not found.club:
        return shown
    return format_html('{} <span class="muted club-time">· {}</span>', shown, found.club)


@register.simple_tag
def weekly_slot(club) -> str:
    """`{% weekly_slot club %}`: the club's weekly slot, and the viewer's own equivalent."""
    return weekly_slot_text(club)


@register.filter
def markdown(text: str):
    """Rendered and sanitized once per version of the text (paperclub.cache)."""
    return markdown_html(text)
