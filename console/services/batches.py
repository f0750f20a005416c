"""Batch jobs: submit, poll, cancel, and write results keyed back beside their input."""

from __future__ import annotations

from console.services.workspace import Workspace
from store.records import BatchJob
from store.repos import batches


def list_jobs(ws: Workspace) -> list[BatchJob]:
    with ws.session() as session:
        return batches.listing(session)
