import re

from django import forms
from django.core.validators import URLValidator
from django.utils import timezone

from paperclub.errors import RuleViolation
from paperclub.fields import MultiLineField, OneLineField
from paperclub.validators import plausible_moment
from papers.catalog import ClubDetails
from papers.models import (
    AUTHORS_MAX,
    BUDGET_MAX,
    PITCH_MAX,
    REASON_MAX,
    TAKEAWAY_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Poll,
    Suggestion,
)
from papers.reading_lists import items as reading_list
from papers.services import identify_paper


def approve_choice(data) -> bool:
    """A vote button's `approve`: "1" votes, "0" takes the vote back. Anything else is
    not a form of ours (a hand-made request) and is refused rather than taken as either."""
    choice = {"1": True, "0": False}.get(data.get("approve", ""))
    if choice is None:
        raise RuleViolation("Choose to vote for the paper or to take your vote back.", status=400)
    return choice


def budget_field(help_text: str) -> forms.IntegerField:
    """Votes per member, within the range the database holds (papers_poll_budget_range)."""
    return forms.IntegerField(
        initial=3, min_value=1, max_value=BUDGET_MAX, label="Votes per member", help_text=help_text
    )


class SuggestForm(forms.Form):
    link = OneLineField(
        max_length=500,
        label="arXiv ID or link",
        help_text="e.g. 2305.18290, arxiv.org/abs/1706.03762, or any link to the paper.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    title = OneLineField(
        max_length=TITLE_MAX,
        required=False,
        label="Title",
        help_text="Filled in from arXiv for an arXiv paper; type it for any other link.",
    )
    authors = OneLineField(max_length=AUTHORS_MAX, required=False, label="Authors")
    year = forms.IntegerField(required=False, min_value=1900, max_value=2100, label="Year")
    pitch = OneLineField(
        max_length=PITCH_MAX,
        label="Why read this?",
        help_text="One or two sentences for the club.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pitch"].error_messages["required"] = (
            "Tell the club in a sentence why it is worth reading: members vote on the pitch."
        )

    def require_title(self) -> None:
        """arXiv could not give the title, so the member must: the label stops saying optional."""
        self.fields["title"].required = True
        self["title"].help_text = "arXiv could not be reached, so type the title yourself."

    def clean_link(self):
        link = self.cleaned_data["link"].strip()
        try:
            identify_paper(link)
        except RuleViolation as error:
            raise forms.ValidationError(error.message) from None
        return link

    def clean_pitch(self):
        pitch = self.cleaned_data["pitch"].strip()
        if not pitch:
            raise forms.ValidationError("Say in a sentence why the club should read this.")
        return pitch


class SuggestionEditForm(forms.ModelForm):
    """The pitch; the club's takeaway and the club's copy of the paper's details (title,
    authors, year: shown in this club only) are the organizers' to write."""

    ORGANIZER_FIELDS = ("takeaway", "title", "authors", "year")

    pitch = OneLineField(
        max_length=PITCH_MAX,
        label="Why read this?",
        help_text="One or two sentences for the club.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    takeaway = OneLineField(
        max_length=TAKEAWAY_MAX,
        required=False,
        label="One-line takeaway",
        help_text="The “X is all you need” line shown in the timeline.",
    )
    title = OneLineField(
        max_length=TITLE_MAX,
        required=False,
        label="Title in this club",
        help_text="Shown in this club only; leave it empty to use arXiv's.",
    )
    authors = OneLineField(max_length=AUTHORS_MAX, required=False, label="Authors in this club")

    class Meta:
        model = Suggestion
        fields = ["pitch", "takeaway", "title", "authors", "year"]

    def __init__(self, *args, organizer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not organizer:
            for name in self.ORGANIZER_FIELDS:
                del self.fields[name]
            return
        paper = self.instance.paper
        self.fields["year"].widget.attrs.update(min=1900, max=2100)
        if paper.from_arxiv:
            self.fields["title"].help_text = f"Blank: arXiv's title, “{paper.title}”."
            self.fields["authors"].help_text = "Blank: arXiv's author list."
        else:
            self.fields["title"].required = True
            self.fields["title"].help_text = "arXiv has not confirmed this paper yet."

    def clean_year(self):
        year = self.cleaned_data.get("year")
        if year is not None and not 1900 <= year <= 2100:
            raise forms.ValidationError("Give a year between 1900 and 2100.")
        return year

    def club_details(self):
        """The club's copy of the details, when the form has those fields (organizers)."""
        if "title" not in self.fields:
            return None
        data = self.cleaned_data
        return ClubDetails(data["title"], data["authors"], data["year"])


class PollForm(forms.Form):
    method = forms.ChoiceField(
        choices=Poll.Method.choices,
        initial=Poll.Method.APPROVAL,
        required=False,
        label="How members vote",
        widget=forms.RadioSelect,
        help_text="Ranked polls let members order the papers they care about; the result "
        "page shows how the winner was found.",
    )
    closes_at = forms.DateTimeField(
        required=False,
        validators=[plausible_moment],
        label="Voting closes",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the club's time zone. Leave empty to close it by hand.",
    )
    budget = budget_field("Approval polls: each member may vote for up to this many papers.")
    show_live_results = forms.BooleanField(
        required=False,
        label="Show the counts while voting is open",
        help_text="Off by default, so early votes do not sway later ones.",
    )

    def clean_method(self) -> str:
        return self.cleaned_data["method"] or Poll.Method.APPROVAL

    def clean_closes_at(self):
        closes_at = self.cleaned_data.get("closes_at")
        if closes_at is not None and closes_at <= timezone.now():
            raise forms.ValidationError("The closing time must be in the future.")
        return closes_at


class OverrideForm(forms.Form):
    suggestion = forms.ModelChoiceField(queryset=Suggestion.objects.none(), label="New winner")
    reason = MultiLineField(
        max_length=REASON_MAX,
        rows=2,
        help_text="Shown on the result page, for the record.",
    )

    def __init__(self, *args, poll, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suggestion"].queryset = (
            Suggestion.objects.filter(tallies__poll=poll, state=Suggestion.State.OPEN)
            .select_related("paper")
            .order_by("tallies__rank")
        )
        self.fields["suggestion"].label_from_instance = lambda s: s.display_title


class TrackForm(forms.Form):
    title = OneLineField(max_length=100, help_text="A theme, e.g. “Intro to Modern LLMs”.")
    description = MultiLineField(
        required=False,
        max_length=TEXT_MAX,
        help_text="What the track covers and who it is for. Markdown.",
    )


class TrackEntryAddForm(forms.Form):
    suggestion = forms.ModelChoiceField(queryset=Suggestion.objects.none(), label="Paper")
    summary = MultiLineField(
        required=False,
        max_length=TEXT_MAX,
        rows=2,
        help_text="Why this paper is here, in the club's words. Markdown.",
    )

    def __init__(self, *args, track, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suggestion"].queryset = (
            Suggestion.objects.filter(club=track.club_id)
            .exclude(state=Suggestion.State.WITHDRAWN)
            .exclude(track_entries__track=track)
            .select_related("paper")
            .with_display_details()
            .order_by("shown_title")
        )
        self.fields["suggestion"].label_from_instance = lambda s: s.display_title


LINK_LINE = re.compile(r"^(?:(?P<label>.+?)\s*[:|\u2014\u2013-]?\s+)?(?P<url>https?://\S+)$")


class TrackEntryForm(forms.Form):
    summary = MultiLineField(
        required=False,
        max_length=TEXT_MAX,
        help_text="The club's own summary of the paper. Markdown.",
    )
    further_reading = MultiLineField(
        required=False,
        max_length=TEXT_MAX,
        help_text="Related papers and posts. Markdown.",
    )
    links = MultiLineField(
        required=False,
        max_length=6000,
        label="Supporting materials",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One per line: a label, then the link. e.g. “Slides https://…”.",
    )

    def clean_links(self) -> list[tuple[str, str]]:
        links = []
        check = URLValidator(schemes=["http", "https"])
        for number, line in enumerate(self.cleaned_data["links"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            match = LINK_LINE.match(line)
            if match is None:
                raise forms.ValidationError(
                    f"Line {number} has no link starting with http:// or https://."
                )
            url = match["url"]
            try:
                check(url)
            except forms.ValidationError:
                raise forms.ValidationError(f"Line {number}: “{url}” is not a link.") from None
            if len(url) > 500:
                raise forms.ValidationError(f"Line {number}: the link is too long.")
            links.append(((match["label"] or "Link").strip(), url))
        return links


class ImportForm(forms.Form):
    """A reading list, pasted or uploaded (Markdown or plain text)."""

    text = MultiLineField(
        required=False,
        # Characters; clean() also holds the list to MAX_BYTES of UTF-8.
        max_length=reading_list.MAX_BYTES,
        label="Paste the list",
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text="A Markdown README, sections of papers, or lines of “Title: takeaway”.",
    )
    file = forms.FileField(
        required=False,
        label="…or upload a file",
        help_text="Markdown or plain text, UTF-8, at most 512 KB.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".md,.markdown,.txt,text/plain,text/markdown"}
        ),
    )
    base_url = forms.URLField(
        required=False,
        max_length=500,
        label="This list lives at",
        help_text="Optional. Links such as “Topic/Paper.md” are read from here, "
        "e.g. https://github.com/club/papers/blob/main/.",
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        text = data.get("text") or ""
        if upload is not None:
            if upload.size > reading_list.MAX_BYTES:
                raise forms.ValidationError("The file is larger than 512 KB.")
            try:
                text = reading_list.decode_upload(upload.read())
            except reading_list.ReadingListError as error:
                raise forms.ValidationError(error.message) from None
        # Browsers send text back with CRLF line ends: count the list, not the transport.
        text = text.replace("\r\n", "\n")
        if not text.strip():
            raise forms.ValidationError("Paste a reading list or choose a file.")
        if len(text.encode()) > reading_list.MAX_BYTES:
            raise forms.ValidationError("The list is larger than 512 KB.")
        data["text"] = text
        return data


class LiveVoteForm(forms.Form):
    """Start the vote for next week at the end of a session (papers.live)."""

    method = forms.ChoiceField(
        choices=Poll.Method.choices,
        initial=Poll.Method.APPROVAL,
        required=False,
        label="How members vote",
        widget=forms.RadioSelect,
    )
    budget = budget_field("Approval votes: each member may vote for up to this many papers.")
    minutes = forms.IntegerField(
        initial=3,
        min_value=1,
        max_value=15,
        label="Countdown, in minutes",
        help_text="From 1 to 15. The vote closes by itself at zero.",
    )
    hide_results = forms.BooleanField(
        required=False,
        label="Hide the counts until the end",
        help_text="Off by default: a live vote is a show of hands.",
    )
    shortlist = forms.TypedMultipleChoiceField(
        coerce=int,
        label="Papers on the ballot",
        widget=forms.CheckboxSelectMultiple,
        help_text="Ticked: the papers with the most votes in earlier polls.",
        error_messages={"required": "Tick at least two papers."},
    )
    close_open = forms.BooleanField(required=False, label="Close the open poll first")

    def __init__(self, *args, choices=(), open_poll=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shortlist"].choices = choices
        if open_poll is None or open_poll.is_live:  # a running live vote is not closed here
            del self.fields["close_open"]

    def clean_method(self) -> str:
        return self.cleaned_data["method"] or Poll.Method.APPROVAL

    def clean_close_open(self) -> bool:
        if not self.cleaned_data["close_open"]:
            raise forms.ValidationError(
                "A poll is open. Tick this to close it (its result counts) and start the vote."
            )
        return True
