"""Which outbox rows a change becomes: one per ad platform its campaigns live on.

Each platform is reached through its own connector, succeeds or fails on its
own and is retried on its own, so a change that touches two platforms is two
rows. A workflow's change names its platform. A campaign Waypoint does not know (or one with no platform) falls in
the "" platform, which the default connector serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from decisions import targets
from decisions.delivery import connectors


@dataclass(frozen=True)
class Route:
    platform: str
    connector: str
    changes: list[dict]


def routes(changes: list[dict]) -> list[Route]:
    """The changes grouped by platform, in the order each platform first appears; at least one route."""
    platforms = targets.platforms(changes)
    by_platform: dict[str, list[dict]] = {}
    for change in changes:
        by_platform.setdefault(platforms.get(targets.ref(change), ""), []).append(change)
    # A decision with nothing to send still gets its row, as it always has:
    # the row is what marks the proposal applied.
    by_platform = by_platform or {"": []}
    return [
        Route(platform=platform, connector=connectors.name_for_platform(platform), changes=platform_changes)
        for platform, platform_changes in by_platform.items()
    ]
