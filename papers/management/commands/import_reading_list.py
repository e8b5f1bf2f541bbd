from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clubs.models import Club, Membership
from paperclub.errors import RuleViolation
from papers.reading_lists.items import ReadingListError, decode_upload
from papers.reading_lists.plan import ImportPlan, plan_import
from papers.reading_lists.services import import_reading_list


class Command(BaseCommand):
    help = (
        "Import a reading list (Markdown or plain text) into a club: each item becomes a "
        "suggestion, each section heading a track. Prints the same preview as the web page."
    )

    def add_arguments(self, parser):
        parser.add_argument("club", help="the club's slug")
        parser.add_argument("file", type=Path, help="the list, UTF-8 Markdown or text")
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would happen; write nothing"
        )
        parser.add_argument(
            "--by", metavar="EMAIL", help="who suggested the papers (default: an organizer)"
        )
        parser.add_argument(
            "--base-url", default="", help="where the list lives, for its relative links"
        )
        parser.add_argument(
            "--include",
            metavar="LINE",
            type=int,
            action="append",
            default=[],
            help="import this skipped line as a paper after all (repeatable)",
        )
        parser.add_argument(
            "--reject-match",
            metavar="LINE",
            type=int,
            action="append",
            default=[],
            help="do not take arXiv's match for the title on this line (repeatable)",
        )
        parser.add_argument(
            "--apply-questions",
            action="store_true",
            help="use the list's discussion questions as the club's",
        )

    def handle(self, *args, **options):
        slug, file, dry_run, by = (options[k] for k in ("club", "file", "dry_run", "by"))
        club = Club.objects.filter(slug=slug).first()
        if club is None:
            raise CommandError(f"No club has the slug “{slug}”.")
        try:
            text = decode_upload(file.read_bytes())
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except ReadingListError as error:
            raise CommandError(error.message) from None
        memberships = Membership.objects.filter(club=club).select_related("user")
        if by:
            membership = memberships.filter(user__email__iexact=by).first()
            if membership is None:
                raise CommandError(f"{by} is not a member of {club.name}.")
        else:
            membership = memberships.filter(role=Membership.Role.ORGANIZER).first()
        choices = {
            "base_url": options["base_url"],
            "include": frozenset(options["include"]),
            "reject_matches": frozenset(options["reject_match"]),
        }
        try:
            if dry_run:
                plan = plan_import(club=club, text=text, **choices)
            else:
                plan = import_reading_list(
                    club=club,
                    text=text,
                    imported_by=membership.user if membership else None,
                    apply_questions=options["apply_questions"],
                    **choices,
                )
        except (ReadingListError, RuleViolation) as error:
            raise CommandError(error.message) from None
        self.report(plan, dry_run=dry_run)

    def report(self, plan: ImportPlan, *, dry_run: bool) -> None:
        for planned in plan.papers:
            tracks = ", ".join(planned.entry.sections)
            track = f"  [{tracks}]" if tracks else ""
            self.stdout.write(
                f"line {planned.entry.line:>4}  {planned.status:<24}  {planned.title}{track}"
            )
            for name, value in planned.placement[1:]:
                if name != "tracks":
                    self.stdout.write(f"{'':>11}{name}: {value[:160]}")
            if planned.found is not None:
                self.stdout.write(
                    f"{'':>11}found on arXiv: {planned.found.arxiv_id} {planned.found.title}"
                    " (--reject-match to refuse)"
                )
        for line in plan.skipped:
            tick = " (--include to import it)" if line.entry else ""
            self.stdout.write(f"line {line.line:>4}  {line.reason}  {line.text}{tick}")
        for problem in plan.problems:
            self.stdout.write(f"line {problem.line:>4}  not used: {problem.reason}  {problem.text}")
        if plan.questions:
            self.stdout.write("Discussion questions in the list (--apply-questions to use them):")
            for question in plan.questions:
                self.stdout.write(f"  - {question}")
        verb = "Would import" if dry_run else "Imported"
        new, tracks = len(plan.new), len(plan.new_tracks)
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {new} paper{'s' if new != 1 else ''} and {tracks} new "
                f"track{'s' if tracks != 1 else ''}; {len(plan.duplicates)} already on the "
                f"list; {len(plan.skipped)} skipped as not a paper; "
                f"{len(plan.problems)} line{'s' if len(plan.problems) != 1 else ''} not used."
            )
        )
