"""Poll results drawn as bars."""

from django import template

register = template.Library()


@register.filter
def bar_percent(count, top) -> int:
    """The bar's length in percent of the longest (`top`); a count above zero shows at
    least a sliver, so "1 vote" never looks like none."""
    try:
        count, top = int(count or 0), int(top or 0)
    except (TypeError, ValueError):
        return 0
    if top <= 0 or count <= 0:
        return 0
    return max(2, min(100, round(100 * count / top)))


@register.filter
def top_count(rows, attribute: str) -> int:
    """The largest `attribute` (or second item of a pair) among `rows`: the full bar."""
    counts = [row[1] if isinstance(row, list | tuple) else getattr(row, attribute) for row in rows]
    return max(counts, default=0)
