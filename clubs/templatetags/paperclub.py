from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from paperclub.markdown import render_markdown

register = template.Library()


@register.simple_tag(takes_context=True)
def when(context, moment, club, fmt="D j M Y, H:i"):
    """A moment in the viewer's time zone, named, with the club's own time beside it when
    the two differ. A viewer whose zone is unknown sees the club's time."""
    if moment is None:
        return ""
    request = context.get("request")
    viewer = getattr(request, "viewer_tz", None) or club.tz
    mine = timezone.localtime(moment, viewer)
    text = f"{date_format(mine, fmt)} {zone_label(mine)}"
    if viewer.key == club.tz.key:
        return format_html('<time datetime="{}">{}</time>', moment.isoformat(), text)
    theirs = timezone.localtime(moment, club.tz)
    theirs_text = date_format(theirs, "H:i" if theirs.date() == mine.date() else "D j M, H:i")
    return format_html(
        '<time datetime="{}">{}</time> <span class="muted">({} {} club time)</span>',
        moment.isoformat(),
        text,
        theirs_text,
        zone_label(theirs),
    )


def zone_label(moment) -> str:
    """ "CET" where the zone has a letter abbreviation, else its name: "(Asia/Singapore)"."""
    abbreviation = moment.tzname() or ""
    if abbreviation[:1].isalpha():
        return abbreviation
    return f"({moment.tzinfo.key.replace('_', ' ')})"


@register.filter
def markdown(text: str):
    return render_markdown(text)
