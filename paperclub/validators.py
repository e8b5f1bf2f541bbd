from django.core.exceptions import ValidationError


def plausible_moment(value) -> None:
    """Refuse dates no paper club will meet on; far-off years also overflow UTC conversion."""
    if value is not None and not 2000 <= value.year <= 2100:
        raise ValidationError("Give a date between the years 2000 and 2100.")
