from tests.decisions.delivery.conftest import receiver  # noqa: F401 - the webhook's real HTTP receiver
