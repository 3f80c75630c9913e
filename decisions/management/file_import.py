"""What every import command does around its importer: the file, its warnings, its problems and the exit status.

Each `import_*` command reads one file with its importer (performance, deals, totals, transactions, experiment,
workflows) and says what it wrote in its own words; reading the file, listing every warning and every bad row on
stderr, and exiting 1 with nothing written when a row is bad are the same for all of them.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError


def import_file(command, importer, path: str, *, dry_run: bool, **options):
    """Run `importer` on the file at `path` from the command line; returns its outcome once it is clean.

    Raises CommandError (exit status 1) when the file is missing or any row is bad: every problem is written to
    the command's stderr first, and nothing was written.
    """
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    with file.open("rb") as stream:
        outcome = importer(
            stream=stream,
            filename=file.name,
            dry_run=dry_run,
            size_bytes=file.stat().st_size,
            label="command line",
            **options,
        )
    for warning in getattr(outcome, "warnings", ()):
        command.stderr.write(f"warning: {warning}")
    if not outcome.ok:
        for problem in outcome.problem_lines():
            command.stderr.write(problem)
        raise CommandError(f"{outcome.problem_count} problem(s) in {file.name}; nothing was written.")
    return outcome
