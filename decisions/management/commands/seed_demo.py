from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from decisions.demo import spend_tests as demo_spend_tests
from decisions.demo.seed import DEMO_USERS, DemoRefused, demo_seed
from decisions.models import Campaign


class Command(BaseCommand):
    help = (
        "Fill an empty database with a simulated marketing team: campaigns with daily numbers, "
        "demo logins (one per role), an objective and starter guardrails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaigns", type=int, default=40, help="how many campaigns (default 40)")
        parser.add_argument("--days", type=int, default=180, help="days of history up to yesterday (default 180)")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same world (default 1)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but still print the demo logins) when the database already has campaigns",
        )
        parser.add_argument(
            "--mix",
            action="store_true",
            help="also load a totals world for the channel mix mode: 12 campaigns over 6 channels with two years of "
            "spend and weekly closed-revenue totals with controls (see the Mix page)",
        )

    def handle(self, *args, campaigns: int, days: int, seed: int, if_empty: bool, mix: bool = False, **options):
        if campaigns < 1 or days < 1:
            raise CommandError("--campaigns and --days must be at least 1.")
        if if_empty and Campaign.objects.exists():
            self.stdout.write(f"The database already has {Campaign.objects.count()} campaigns; demo data not loaded.")
            self.print_existing_demo_logins()
            return
        try:
            # The demo plants one broken tracking tag: the Data page shows it red, and no proposal touches it; and a
            # few campaigns whose budget nobody moved, for which the engine proposes spend tests.
            seeded = demo_seed(
                n_campaigns=campaigns, days=days, seed=seed, broken_tag=True, steady=demo_spend_tests.STEADY
            )
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(
            f"Created {seeded.campaigns} campaigns and {seeded.metric_rows:,} daily rows "
            f"({seeded.first_date} to {seeded.last_date}) in {seeded.seconds:.1f} s."
        )
        self.stdout.write(
            "Objective: pipeline value (active)." if seeded.objective_created else "Objective: kept the active one."
        )
        self.seed_demo_experiment(seed)
        self.seed_demo_workflows()
        if mix:
            self.seed_mix_world()
        self.stdout.write(f"Guardrails created: {len(seeded.guardrails)}")
        for name in seeded.guardrails:
            self.stdout.write(f"  - {name}")
        self.stdout.write(self.style.SUCCESS("Demo logins (local demos only):"))
        for user in seeded.users:
            password = user.password or "(existing user, password unchanged)"
            self.stdout.write(f"  {user.username:<10} password: {password:<36} role: {user.role}")

    def seed_demo_workflows(self) -> None:
        """The team's automation inventory (decisions/demo/workflows.py), for the workflow audit: here rather than
        in demo_seed, whose engine runs the tests count proposal by proposal."""
        from django.utils import timezone

        from decisions.demo.seed import SEEDER_LABEL
        from decisions.demo.workflows import seed_workflows

        count = seed_workflows(today=timezone.localdate(), label=SEEDER_LABEL)
        self.stdout.write(f"Workflows: {count} imported for the workflow audit (Workflows page).")

    def seed_mix_world(self) -> None:
        import datetime as dt

        from django.utils import timezone

        from decisions.demo.mix import raise_total_cap_for_new_campaigns, seed_mix_world

        world, created = seed_mix_world(end=timezone.localdate() - dt.timedelta(days=1))
        self.stdout.write(
            f"Channel mix world: {len(created)} campaigns over {len(world.channels)} channels, "
            f"{len(world.outcome)} weeks of closed-revenue totals (Mix page)."
        )
        raised = raise_total_cap_for_new_campaigns()
        if raised:
            self.stdout.write(f"Total daily budget cap raised to {raised:,} for the mix world's campaigns.")

    def seed_demo_experiment(self, seed: int) -> None:
        """The demo's randomised e-mail test and its analysis: here rather than in demo_seed, which the tests call
        often, because the two take seconds."""
        from decisions.demo import experiments as demo_experiments
        from decisions.demo.seed import SEEDER_LABEL
        from decisions.experiments.analysing import experiment_analyse

        experiment_id = demo_experiments.seed_experiment(label=SEEDER_LABEL, seed=seed)
        analysed = experiment_analyse(experiment_id=experiment_id)
        found = len((analysed.analysis or {}).get("audiences", []))
        self.stdout.write(f"Experiment {analysed.name}: {analysed.customers:,} customers, {found} audiences.")

    def print_existing_demo_logins(self) -> None:
        existing = set(
            get_user_model()
            .objects.filter(username__in=[u for u, _, _ in DEMO_USERS])
            .values_list("username", flat=True)
        )
        if not existing:
            return
        self.stdout.write(self.style.SUCCESS("Demo logins (local demos only; changed passwords stay changed):"))
        for username, password, role in DEMO_USERS:
            if username in existing:
                self.stdout.write(f"  {username:<10} password: {password:<36} role: {role}")
