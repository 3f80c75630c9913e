import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from config.startup import refuse_unsafe_production  # noqa: E402 - needs the settings module named first

refuse_unsafe_production()
application = get_wsgi_application()
