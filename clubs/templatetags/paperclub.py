from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from paperclub.markdown import render_markdown

register = template.Library()


@register.simple_tag(takes_context=True)
def when(context, moment, club, fmt="D j M Y, H:i"):
    """A moment in the club's time zone, named, with the viewer's own time beside it
    when a signed-in viewer lives in another zone."""
    if moment is None:
        return ""
    local = timezone.localtime(moment, club.tz)
    text = f"{date_format(local, fmt)} {zone_label(local)}"
    user = context.get("user")
    viewer_tz = timezone.get_current_timezone()
    if user is not None and user.is_authenticated and viewer_tz.key != club.tz.key:
        mine = timezone.localtime(moment, viewer_tz)
        same_day = mine.date() == local.date()
        mine_text = date_format(mine, "H:i" if same_day else "D j M, H:i")
        return format_html(
            '<time datetime="{}">{}</time> <span class="muted">({} {} your time)</span>',
            moment.isoformat(),
            text,
            mine_text,
            mine.tzname(),
        )
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), text)


def zone_label(moment) -> str:
    """ "CET" where the zone has a letter abbreviation, else its name: "(Asia/Singapore)"."""
    abbreviation = moment.tzname() or ""
    if abbreviation[:1].isalpha():
        return abbreviation
    return f"({moment.tzinfo.key.replace('_', ' ')})"


@register.filter
def markdown(text: str):
    return render_markdown(text)
