"""Explicit context caches: what is cached, for how long, and what it costs and saves."""

from __future__ import annotations

from console.services.workspace import Workspace
from store.records import CachedContent
from store.repos import caches


def active_caches(ws: Workspace) -> list[CachedContent]:
    with ws.session() as session:
        return caches.active(session, now=ws.clock())
