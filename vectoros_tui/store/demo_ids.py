"""Ids of demo rows."""

from __future__ import annotations

import random
import uuid


def demo_id(rng: random.Random, workspace_id: uuid.UUID) -> uuid.UUID:
    """The next id drawn from the demo's seed, made the workspace's own: every workspace
    made from one seed draws the same numbers, and ids are unique across the database.
    The same seed and workspace give the same ids."""
    return uuid.UUID(int=rng.getrandbits(128) ^ workspace_id.int, version=4)
