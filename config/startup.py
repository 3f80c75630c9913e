"""Refusing to serve with unsafe production settings, where Waypoint starts.

Settings only collect the problems (config/settings.py PRODUCTION_PROBLEMS): building static files needs no
secrets, but serving pages, running workers or touching the database with a guessable SECRET_KEY, a missing
audit key or no ALLOWED_HOSTS must not happen. manage.py, the WSGI app and Celery's worker and beat call this.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Commands that build files from the code alone and may run where the production secrets are not.
BUILD_COMMANDS = frozenset({"collectstatic"})


def refuse_unsafe_production() -> None:
    if settings.PRODUCTION_PROBLEMS:
        raise ImproperlyConfigured("\n".join(settings.PRODUCTION_PROBLEMS))
