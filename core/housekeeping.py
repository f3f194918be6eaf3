"""Server housekeeping that Gradio's own `delete_cache` leaves out.

Gradio deletes uploaded and generated files older than CACHE_TTL_S (app.launch sets
`delete_cache`), but keeps the per-file folders it made for them; `prune_empty_dirs` removes
those. The worker pools of core/workers.py are started with the server and stopped with it.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable


def prune_empty_dirs(root: str | Path, min_age_s: float = 60.0) -> int:
    """Remove empty folders under `root` (not `root` itself) untouched for `min_age_s`; returns how many."""
    root = Path(root)
    removed = 0
    if not root.is_dir():
        return 0
    now = time.time()
    for folder, subfolders, files in os.walk(root, topdown=False):
        path = Path(folder)
        if path == root or files:
            continue
        try:
            if now - path.stat().st_mtime >= min_age_s and not any(path.iterdir()):
                path.rmdir()
                removed += 1
        except OSError:  # raced with a new upload or another clean-up: leave it
            continue
    return removed


def lifespan(ttl_s: int, upload_folder: str | Path, worker_tasks: list[str] = ()) -> Callable[[Any], Any]:
    """A FastAPI lifespan: start the worker pools of `worker_tasks`, prune empty folders of
    `upload_folder` every ttl/4 s, and stop the worker pools at shutdown."""

    @contextlib.asynccontextmanager
    async def handler(_app: Any) -> AsyncIterator[None]:
        from core.workers import close_all, warm_up

        folder = upload_folder
        warm_up(list(worker_tasks))

        async def prune_forever() -> None:
            while True:
                await asyncio.sleep(max(10, ttl_s // 4))
                await asyncio.to_thread(prune_empty_dirs, folder)

        task = asyncio.create_task(prune_forever())
        try:
            yield
        finally:
            task.cancel()
            close_all()

    return handler
