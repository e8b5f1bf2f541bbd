from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clubs.models import Club, Membership
from paperclub.errors import RuleViolation
from papers.lists import ImportPlan, plan_import
from papers.reading_list import ReadingListError, decode_upload
from papers.services import import_reading_list


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
        try:
            if dry_run:
                plan = plan_import(club=club, text=text)
            else:
                plan = import_reading_list(
                    club=club, text=text, imported_by=membership.user if membership else None
                )
        except (ReadingListError, RuleViolation) as error:
            raise CommandError(error.message) from None
        self.report(plan, dry_run=dry_run)

    def report(self, plan: ImportPlan, *, dry_run: bool) -> None:
        for planned in plan.papers:
            track = f"  [{planned.entry.section}]" if planned.entry.section else ""
            self.stdout.write(
                f"line {planned.entry.line:>4}  {planned.status:<24}  {planned.title}{track}"
            )
        for problem in plan.problems:
            self.stdout.write(f"line {problem.line:>4}  not used: {problem.reason}  {problem.text}")
        verb = "Would import" if dry_run else "Imported"
        new, tracks = len(plan.new), len(plan.new_tracks)
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {new} paper{'s' if new != 1 else ''} and {tracks} new "
                f"track{'s' if tracks != 1 else ''}; {len(plan.duplicates)} already on the "
                f"list; {len(plan.problems)} line{'s' if len(plan.problems) != 1 else ''} "
                "not used."
            )
        )
