"""CPU-heavy request work (fitting models on the user's data, long audio, video) runs here:
in a small pool of worker processes per task, with a wall-clock budget per request.

Why processes: a thread cannot be stopped when it runs past its budget and holds the GIL
while it works, so one slow tab would slow every tab. A worker process can be killed (pebble
restarts it), runs at a lower CPU priority (nice 10) so interactive tabs stay fast on a small
machine, and its pool is the task's own share: WORKER_PROCESSES running plus WORKER_BACKLOG
waiting, beyond which a request is told at once that the task is busy instead of filling the
shared queue.

    result = run_heavy("time_series_forecasting", "auto", "forecast", series, horizon, season_length)
    # = get_model("time_series_forecasting", "auto").forecast(series, horizon, season_length), in a worker
"""
from __future__ import annotations

import logging

import multiprocessing
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable

from pebble import ProcessPool
from pebble.common import ProcessExpired

from core.errors import InputError
from core.settings import Settings

WORKER_NICE = 10


class BusyError(InputError):
    """The task's workers and backlog are full; the user should retry shortly."""


class BudgetExceeded(InputError):
    """A request ran past its time budget and its worker was stopped."""


def _init_worker() -> None:
    """Each worker: offline switches, lower CPU priority, one BLAS/OpenMP thread."""
    from core.settings import apply_offline_defaults

    apply_offline_defaults()
    try:
        os.nice(WORKER_NICE)
    except OSError:
        pass
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


class TaskPool:
    """A bounded process pool for one task, created on first use."""

    def __init__(self, name: str, workers: int, backlog: int, budget_s: float) -> None:
        self.name = name
        self.workers = workers
        self.capacity = workers + backlog
        self.budget_s = budget_s
        self._pool: ProcessPool | None = None
        self._pending = 0
        self._lock = threading.Lock()

    def _get_pool(self) -> ProcessPool:
        if self._pool is None:
            # forkserver: workers start from a clean, single-threaded server process, not a fork of
            # the threaded web server; their first task pays the imports, later ones reuse them.
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPool(max_workers=self.workers, initializer=_init_worker, context=context)
        return self._pool

    def run(self, fn: Callable[..., Any], *args: Any, budget_s: float | None = None) -> Any:
        """fn(*args) in a worker, within the budget; BusyError or BudgetExceeded otherwise.
        `fn` and its arguments must be picklable (a module-level function)."""
        budget = self.budget_s if budget_s is None else budget_s
        with self._lock:
            if self._pending >= self.capacity:
                raise BusyError(f"The {self.name.replace('_', ' ')} workers are busy with {self._pending} requests; "
                                "try again in a minute.")
            self._pending += 1
            future = self._get_pool().schedule(fn, args=args, timeout=budget)
        try:
            return future.result()
        except FutureTimeout:
            raise BudgetExceeded(f"This request needed more than its {budget:.0f} s budget and was stopped. "
                                 "Try a shorter input or simpler settings.") from None
        except ProcessExpired as exc:
            raise RuntimeError(f"the {self.name} worker died ({exc})") from exc
        finally:
            with self._lock:
                self._pending -= 1

    def warm(self, fn: Callable[..., Any], *args: Any) -> None:
        """Start the workers and run fn(*args) once in each (e.g. imports), in the background."""
        for _ in range(self.workers):
            self._get_pool().schedule(fn, args=args, timeout=self.budget_s * 3)

    @property
    def pending(self) -> int:
        return self._pending

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.stop()
                self._pool.join(timeout=5)
                self._pool = None


_pools: dict[str, TaskPool] = {}
_pools_lock = threading.Lock()


def task_pool(task: str) -> TaskPool:
    """The pool of `task` (sized by WORKER_PROCESSES, WORKER_BACKLOG and TIME_BUDGET_S)."""
    with _pools_lock:
        if task not in _pools:
            settings = Settings.from_env()
            _pools[task] = TaskPool(task, settings.worker_processes, settings.worker_backlog, settings.time_budget_s)
        return _pools[task]


def _import_loader(task: str) -> None:
    """In a worker: import the task's adapter module (and its libraries) and load its default model
    ahead of the first request; an adapter with a `warm()` method runs it too (a first inference
    that sets up the model's lazy state). A model that cannot load is left for the request to report."""
    import importlib

    from core.registry import get_model, get_task

    importlib.import_module(get_task(task).loader.partition(":")[0])
    try:
        model = get_model(task)
    except Exception as exc:  # noqa: BLE001 - the first request gets the real, user-facing error
        logging.getLogger("ml_portfolio").warning("Could not preload the %s model: %s", task, exc)
        return
    if hasattr(model, "warm"):
        model.warm()


def warm_up(tasks: list[str]) -> None:
    """Start the pools of `tasks` and import their code in the workers (in the background)."""
    for task in tasks:
        task_pool(task).warm(_import_loader, task)


def close_all() -> None:
    """Stop every worker pool (at server shutdown)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.close()


def call_model(task: str, variant: str, method: str, *args: Any) -> Any:
    """In the worker: the adapter's `method`, with the model loaded (once per worker) by the registry."""
    from core.registry import get_model

    return getattr(get_model(task, variant), method)(*args)


def run_heavy(task: str, variant: str, method: str, *args: Any, budget_s: float | None = None) -> Any:
    """get_model(task, variant).method(*args) in `task`'s worker pool, within its time budget."""
    return task_pool(task).run(call_model, task, variant, method, *args, budget_s=budget_s)


def event_concurrency(settings: Settings | None = None) -> int:
    """Concurrency limit for a heavy event: enough to keep its pool and backlog full, so that
    requests beyond them are answered "busy" at once rather than waiting in the shared queue."""
    settings = settings or Settings.from_env()
    return settings.worker_processes + settings.worker_backlog + 1
