from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from decisions import access as roles


class Command(BaseCommand):
    help = "Give a user one of the roles: " + "; ".join(f"{r} ({d})" for r, d in roles.ROLE_DESCRIPTIONS.items())

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", help=f"one of: {', '.join(roles.ROLES)}")

    def handle(self, *args, username: str, role: str, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f'no user "{username}"; create one with: python manage.py createsuperuser') from None
        try:
            granted = roles.role_grant(user=user, role=role)
        except roles.UnknownRole as error:
            raise CommandError(str(error)) from None
        name = roles.normalise_role(role)
        if granted:
            self.stdout.write(f"{username} is now a {name}.")
        else:
            self.stdout.write(f"{username} already was a {name}; nothing changed.")
