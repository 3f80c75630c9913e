"""Settings for the real worker in the webhook test: the project's own, pointed at the test's receiver."""

import os

from config.settings import *  # noqa: F403

WAYPOINT_CONNECTOR = "webhook"
WAYPOINT_WEBHOOK_URL = os.environ["WAYPOINT_TEST_WEBHOOK_URL"]
WAYPOINT_WEBHOOK_SECRET = os.environ["WAYPOINT_TEST_WEBHOOK_SECRET"]
WAYPOINT_WEBHOOK_TIMEOUT = 0.5
WAYPOINT_APPLY_MAX_ATTEMPTS = 5
