from django import template
from django.utils.html import format_html

from paperclub.markdown import render_markdown
from paperclub.when import DATETIME, describe

register = template.Library()


@register.simple_tag
def when(moment, club=None, style=DATETIME):
    """A moment in the viewer's time zone, named, with the club's own time beside it when
    the two differ: `{% when meeting.starts_at club %}`, `{% when row.created_at club "date" %}`.
    A viewer whose zone is unknown sees the club's time. See paperclub/when.py."""
    if not moment:  # None, or "" for a variable the template does not have
        return ""
    found = describe(moment, club_zone=club.tz if club is not None else None, style=style)
    shown = format_html('<time datetime="{}">{}</time>', found.iso, found.mine)
    if not found.club:
        return shown
    return format_html('{} <span class="muted club-time">· {}</span>', shown, found.club)


@register.filter
def markdown(text: str):
    return render_markdown(text)
