"""`manage.py policy export` / `manage.py policy import FILE.json`: the guardrails as a file in version control."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from objectives import campaign_scopes
from objectives.policy import PolicyError, export_policy_json, import_policy, parse_policy, plan_import, policy_version


class Command(BaseCommand):
    help = "Export the active objective and guardrails as JSON, or replace them from a JSON file (docs/policy.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{export,import}")
        export = sub.add_parser("export", help="print the active objective and guardrails as JSON")
        export.add_argument("--output", "-o", help="write to this file instead of standard output")
        imp = sub.add_parser("import", help="replace the objective and guardrails with those in FILE (- = stdin)")
        imp.add_argument("file", metavar="FILE.json")
        imp.add_argument("--reason", help='recorded with every change (default "policy import from FILE")')
        imp.add_argument(
            "--actor", metavar="USERNAME", help="the user the changes are recorded under (default: system)"
        )
        imp.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")

    def handle(self, *args, action: str, **options):
        if action == "export":
            self._export(options["output"])
        else:
            self._import(options["file"], options["reason"], options["actor"], options["dry_run"])

    def _export(self, output: str | None) -> None:
        text = export_policy_json()
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote policy {policy_version()} to {output}")
        else:
            self.stdout.write(text, ending="")

    def _import(self, file: str, reason: str | None, username: str | None, dry_run: bool) -> None:
        actor = self._actor(username)
        try:
            policy = parse_policy(self._read(file), known=campaign_scopes.known_campaigns())
        except PolicyError as error:
            lines = "\n".join(f"  {problem}" for problem in error.named)
            raise CommandError(f"{file} is not a valid policy; nothing changed.\n{lines}") from None
        for warning in policy.warnings:
            self.stderr.write(f"warning: {warning}")
        if dry_run:
            self._report(plan_import(policy), heading="Dry run, nothing changed")
            return
        # The import announces itself (objectives.signals.policy_changed): decisions re-checks the queue
        # and, when the objective changed, starts a run, as after the import page.
        plan = import_policy(policy=policy, actor=actor, reason=reason or f"policy import from {file}")
        self._report(plan, heading=f"Imported {file}, policy version {policy_version()}")

    def _read(self, file: str) -> str:
        try:
            if file == "-":
                return sys.stdin.read()
            return Path(file).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror or error}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text; nothing changed.") from None

    def _actor(self, username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f'--actor: no user named "{username}"; nothing changed.')
        return user

    def _report(self, plan, *, heading: str) -> None:
        self.stdout.write(f"{heading}: {plan.summary()}.")
        for line in plan.objective_changes:
            self.stdout.write(f"  {'objective':<12}{line}")
        for label, names in (("created", plan.created), ("updated", plan.updated), ("deactivated", plan.deactivated)):
            for name in names:
                self.stdout.write(f"  {label:<12}{name}")
                for line in plan.details.get(name, []):
                    self.stdout.write(f"  {'':<12}  {line}")
