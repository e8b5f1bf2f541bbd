from django.core.management.base import BaseCommand

from papers.catalog import CatalogConflict, duplicate_pairs, merge_papers, rekey_title_only
from papers.models import Paper


def describe(paper: Paper) -> str:
    identity = f"arXiv:{paper.arxiv_id}" if paper.arxiv_id else paper.url or "title only"
    return f"#{paper.pk} “{paper.title}” ({identity})"


class Command(BaseCommand):
    help = (
        "Merge catalog rows that are one paper: a paper known only by its title into the row "
        "with the same normalized title (an arXiv row first). Each merge moves suggestions, "
        "votes, rankings, tallies, track entries, read marks, links and sessions in one "
        "transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List the merges and change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        before = Paper.objects.count()
        pairs = duplicate_pairs()
        merged = 0
        for survivor, duplicate in pairs:
            line = f"{describe(duplicate)} → {describe(survivor)}"
            if dry_run:
                self.stdout.write(f"would merge {line}")
                continue
            try:
                merge_papers(survivor=survivor, duplicate=duplicate)
            except CatalogConflict as error:
                self.stderr.write(f"skipped {line}: {error}")
                continue
            merged += 1
            self.stdout.write(f"merged {line}")
        if not dry_run:
            rekeyed = rekey_title_only()
            if rekeyed:
                self.stdout.write(f"{rekeyed} title-only papers given the current title key.")
        if dry_run:
            self.stdout.write(
                f"{len(pairs)} duplicate{'s' if len(pairs) != 1 else ''} found; "
                f"the catalog would go from {before} to {before - len(pairs)} papers."
            )
        else:
            after = Paper.objects.count()
            self.stdout.write(
                f"{merged} duplicate{'s' if merged != 1 else ''} merged; "
                f"the catalog went from {before} to {after} papers."
            )
