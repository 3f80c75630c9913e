"""Signed checkpoints of the audit chain's head, kept outside the database.

The hash chain shows that no row was changed or taken out of the middle, but a log whose newest rows
were deleted, or whose table was emptied, is still a valid chain: a shorter one. So the head of a
verified chain (its last id and hash, how many rows lead up to it, and up to which row plain SHA-256 was
still in use) is written now and then as one signed JSON line appended to WAYPOINT_AUDIT_CHECKPOINT_PATH,
and each copy is logged too. A head behind any checkpoint means rows went missing. The lines are HMACs
under WAYPOINT_AUDIT_KEY, so whoever can write the file but lacks the key cannot move the anchor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

# Keeps a checkpoint's signature from ever standing in for a row's hash under the same key.
_PURPOSE = b"waypoint audit checkpoint\n"


@dataclass(frozen=True)
class ChainHead:
    last_id: int  # 0 while the log is empty
    last_hash: str
    count: int
    # The last row hashed with plain SHA-256 (0: none). Rows written before the chain was keyed may
    # use it; a "legacy" row past this point is a chain re-hashed by someone without the key.
    sha256_until: int


@dataclass(frozen=True)
class Checkpoint:
    head: ChainHead
    written_at: str
    line: int

    def __str__(self) -> str:
        return f"the checkpoint of {self.written_at} (line {self.line} of {checkpoint_path()})"


class CheckpointFileError(Exception):
    """The checkpoint file cannot be trusted: unreadable, malformed, or signed with another key."""


def checkpoint_path() -> Path:
    return Path(settings.WAYPOINT_AUDIT_CHECKPOINT_PATH)


def _signature(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(settings.WAYPOINT_AUDIT_KEY.encode(), _PURPOSE + canonical, hashlib.sha256).hexdigest()


def write_checkpoint(head: ChainHead) -> Checkpoint:
    """Append a signed line for `head`; call only with the head of a chain that was just verified."""
    body = {"written_at": timezone.now().isoformat(timespec="seconds"), **asdict(head)}
    line = json.dumps({**body, "signature": _signature(body)}, sort_keys=True)
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write of one short line to a file opened for appending: concurrent writers never interleave.
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    logger.info("audit checkpoint %s", line)
    return Checkpoint(head=head, written_at=body["written_at"], line=_count_lines(path))


def _count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle)


def read_checkpoints() -> list[Checkpoint]:
    """Every checkpoint in the file, oldest first; none when there is no file yet."""
    path = checkpoint_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointFileError(f"cannot read the checkpoint file {path}: {error}") from error
    return [_parse(raw, number, path) for number, raw in enumerate(text.splitlines(), start=1) if raw.strip()]


def _parse(raw: str, number: int, path: Path) -> Checkpoint:
    try:
        stored = json.loads(raw)
        signature = stored.pop("signature")
        head = ChainHead(
            last_id=_whole(stored["last_id"]),
            last_hash=str(stored["last_hash"]),
            count=_whole(stored["count"]),
            sha256_until=_whole(stored["sha256_until"]),
        )
        written_at = str(stored["written_at"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointFileError(f"line {number} of the checkpoint file {path} is not a checkpoint") from error
    if not isinstance(signature, str) or not hmac.compare_digest(_signature(stored), signature):
        raise CheckpointFileError(
            f"line {number} of the checkpoint file {path} does not carry a valid signature: it was edited, "
            "or written under another WAYPOINT_AUDIT_KEY"
        )
    return Checkpoint(head=head, written_at=written_at, line=number)


def _whole(value) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{value!r} is not a whole number")
    return value
