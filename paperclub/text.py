import re

# Characters XML 1.0 cannot carry (feeds, calendars) and no person means to type:
# C0 controls other than tab, newline and carriage return; DEL and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text or "")
