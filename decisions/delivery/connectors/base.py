"""What every connector shares: the error it raises and the shape it has."""

from __future__ import annotations

from typing import Protocol


class ConnectorError(Exception):
    """The change did not reach its destination.

    `permanent` means retrying cannot help (no such campaign, a misconfigured
    URL, a 4xx refusal), so the outbox marks the row failed at once instead of
    spending the remaining attempts.
    """

    def __init__(self, message: str, *, permanent: bool = False):
        self.permanent = permanent
        super().__init__(message)


class Connector(Protocol):
    name: str
    # True when send() writes only Waypoint's own database: the outbox then
    # runs it inside the transaction that records the row's success, so both
    # commit together. False for anything remote, which the outbox calls with
    # no transaction open and no row locked.
    local: bool

    def send(self, application) -> dict:
        """Push the application's changes; return facts worth auditing, or raise ConnectorError."""
