"""Normalized keys of paper titles, so that one paper typed two ways is one catalog row.

"Attention is all you need", "ATTENTION IS ALL YOU NEED." and "Attention-Is-All-You-Need"
have one key; so do "Pre-training" and "Pretraining", and "Schölkopf" and "Scholkopf".
A short nickname before a colon ("InstructGPT: Training language models …") gives a
second key, the title without it. Two titles match when the full key of one is either key
of the other; two different nicknames before one subtitle do not match (those are
usually two papers).
"""

import re
import unicodedata

KEY_MAX = 300  # Paper.title_key holds this many characters
# Words of a title or a query: letters and digits only (they go into a raw tsquery and into
# arXiv's search syntax as they are).
SEARCH_WORD = re.compile(r"[^\W_]+")

# "InstructGPT: …", "LoRA: …", "GPT-4V(ision): …", "Chain-of-Thought Prompting: …": a
# prefix of at most three words and 40 characters, before a rest of at least three words.
_NICKNAME = re.compile(r"^\s*(?P<nick>[^:\s][^:]{0,39}?)\s*:\s+(?P<rest>\S.*)$", re.DOTALL)
_NICKNAME_WORDS = 3
_REST_WORDS = 3


def title_key(title: str) -> str:
    """The normalized key of a title: letters and digits only, case and accents folded.

    Hyphens, punctuation and spacing do not count, and neither do Unicode compatibility
    forms (ligatures, full-width letters). "" for a title with no letter or digit.
    """
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", title or "").casefold())
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    return kept[:KEY_MAX]


def without_nickname(title: str) -> str | None:
    """The title after a short nickname prefix ("InstructGPT: Training …" gives
    "Training …"), or None when the title does not start with one."""
    match = _NICKNAME.match(title or "")
    if match is None:
        return None
    nick, rest = match["nick"], match["rest"]
    if len(nick.split()) > _NICKNAME_WORDS or len(rest.split()) < _REST_WORDS:
        return None
    return rest


def short_title_key(title: str) -> str:
    """The key of the title without its nickname prefix, or "" when it has none."""
    rest = without_nickname(title)
    return title_key(rest) if rest is not None else ""


def title_keys(title: str) -> set[str]:
    """Both keys of a title: the full title's, and the one without a nickname prefix."""
    return {key for key in (title_key(title), short_title_key(title)) if key}


def titles_match(first: str, second: str) -> bool:
    """The rule find_by_title applies: the full key of one is a key of the other."""
    a, b = title_key(first), title_key(second)
    if not a or not b:
        return False
    return a in title_keys(second) or b in title_keys(first)


TITLE_URL_PREFIX = "title:"


def title_url_key(title: str) -> str:
    """Paper.url_key of a paper known only by its title (no arXiv ID, no link)."""
    return TITLE_URL_PREFIX + (title_key(title) or " ".join(title.casefold().split())[:KEY_MAX])
