"""Load benchmark: N simulated users against one endpoint of the app, through the public HTTP API
(the one gradio_client and curl use), next to a bare Gradio app with the same inputs and queue.

    python benchmarks/load.py --users 100 --duration 60 --endpoint /classify_image \\
        --file assets/examples/image_classification/fashion_test_trouser.png --extra '["fashion"]'
    python benchmarks/load.py --url http://127.0.0.1:7860 --no-bare ...   # an app already running
    python benchmarks/load.py --bare-only --users 100 ...                  # only the baseline
    python benchmarks/load.py ... --json out.json                          # also write the figures
    python benchmarks/load.py ... --distinct     # each user uploads its own copy (one pixel changed)
    python benchmarks/load.py --flood worst-forecast          # the same, during a flood (see below)
    python benchmarks/load.py ... --readme README.md          # write the figures into the README

With no arguments (as `make benchmark` runs it): the issue's configuration, 100 users for 60 s on
/classify_image with the trouser example and ["fashion"], on both servers (about 3 minutes).

Each user loops: POST /gradio_api/upload (multipart "files") -> POST /gradio_api/call/<api>
{"data": [file, *extra]} -> GET /gradio_api/call/<api>/<event_id>, read the SSE stream up to
`event: complete` (success) or `event: error`; then waits --think s (+/- --jitter). Users start
spread over the first --ramp s. HTTP errors (503 queue full, 413...), timeouts (--timeout, whole
request) and connection errors count as errors, with their reason. One asyncio process and one
pooled httpx.AsyncClient simulate every user, so the load generator stays light.

Figures, per server: requests started; ok / errors (count and rate over all finished requests);
throughput = successes that completed inside the measured window [0, --duration] / duration
(requests still running at the end may finish during a drain of at most --timeout s: they count
in latency and errors, not in throughput); latency p50/p95/p99 of successes, from the start of
the upload to the complete event; upload p50; CPU used by this client, by the server process
(and its worker processes), and by the whole host (so a saturated load generator shows); how
busy the host was (other processes) just before each run. Without --url the script starts
the real app (`python app.py`) and then benchmarks/bare_app.py itself, each on a free loopback
port with the same inherited environment, and stops them; their logs stay in /tmp/load_bench_*/.
After the warm-up it waits (--settle, at most 120 s) until the server's process tree is idle:
the app starts its worker pools in the background (a forkserver that imports the app, then the
workers), which would otherwise eat into the first seconds of the window. Loopback URLs only.

Flood mode ("one slow task cannot starve the others"): while the measured users run against the
main endpoint, --flood-users extra users send one request after another (--flood-think s apart,
default 0.1) to --flood-endpoint with --flood-file and --flood-extra, on the real app only. They
start --flood-lead s (default 5) before the measured window, so the flood is already going when
it opens, stop starting requests when it closes, and are cancelled when the measured users are
done. `--flood worst-forecast` is the preset: 50 users on /forecast with a generated CSV of
20,000 daily points (trend + weekly + yearly seasonality + noise, written to the run's temp
folder), model "auto", horizon 120, season length 366; each flag given explicitly overrides it.
Flood requests answered "busy, try again" (or stopped at the time budget) are expected: they are
reported separately (requests, completed, errors by message, latency), while the claim is about
the main endpoint: "<endpoint> during flood: p95 = X ms (target < --flood-target-ms): PASS/FAIL".
The bare app has no flood endpoint: in flood mode it runs WITHOUT a flood (say --no-bare to skip
it); the output says so, and the app/bare ratio target applies to normal runs only.

Targets printed at the end: throughput app/bare >= 0.80 (normal run), 0 errors on the main
endpoint, and, in flood mode, main-endpoint p95 < 2000 ms during the flood.

--readme README.md writes a compact markdown section between the markers `<!-- load:start -->`
and `<!-- load:end -->` (the script fails, before measuring, if they are missing; nothing else in
the file changes): the command, date, machine (cores, CPU model), host busy % before each run, a
table (app / bare, plus the flood row in flood mode) and the target lines. The section holds one
named block per kind of run, `<!-- load:block NAME -->` ... `<!-- load:block-end NAME -->`;
--readme-block NAME (default "flood" in flood mode, else "normal") replaces that block and keeps
the others, so two invocations fill the section:

    python benchmarks/load.py --users 100 --duration 60 --readme README.md
    python benchmarks/load.py --users 100 --duration 60 --flood worst-forecast --readme README.md
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import mimetypes
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
API = "/gradio_api"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_FILE = "assets/examples/image_classification/fashion_test_trouser.png"
STARTUP_TIMEOUT_S = 180.0
RATIO_TARGET = 0.80
README_START, README_END = "<!-- load:start -->", "<!-- load:end -->"
README_BLOCKS = ("normal", "flood")  # the order blocks appear in inside the markers
# --flood presets: the flood endpoint, users and inputs after the file ("generate:worst-forecast"
# = a CSV written at run time by worst_case_forecast_csv).
FLOOD_PRESETS: dict[str, dict[str, Any]] = {
    "worst-forecast": {
        "endpoint": "/forecast",
        "users": 50,
        "file": "generate:worst-forecast",
        # /forecast(file, series, date_column, value_column, model, horizon, season_length)
        "extra": ["air_passengers", "", "", "auto", 120, 366],
    },
}


class RequestError(Exception):
    """One failed request; the message says at which step and why."""


@dataclass
class Sample:
    """One finished request; times in seconds from the start of the run."""

    start: float
    end: float
    ok: bool
    upload_s: float | None = None
    error: str | None = None


@dataclass
class LoadConfig:
    """What every simulated user does."""

    api_name: str
    file_name: str | None
    file_bytes: bytes | None
    variants: list[bytes] | None  # --distinct: one copy of the file per user, else None (all send file_bytes)
    extra: list[Any]
    users: int
    duration: float
    think: float
    jitter: float
    ramp: float
    timeout: float
    seed: int


@dataclass
class Usage:
    """CPU seconds used during the run: this client, the server process, the whole host; and how
    busy the host was (other processes) just before the run."""

    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float | None = None
    host_busy_fraction: float | None = None
    busy_before_fraction: float | None = None
    server_peak_rss_mb: float | None = None


@dataclass
class RunResult:
    label: str
    url: str
    samples: list[Sample] = field(default_factory=list)
    unfinished: int = 0
    usage: Usage = field(default_factory=Usage)
    log_path: str | None = None
    users: int = 0
    flood: RunResult | None = None  # the flood users' requests, in flood mode
    note: str = ""  # e.g. "during flood", "no flood"


# ----------------------------------------------------------------------------- the protocol

def short(text: str, limit: int = 200) -> str:
    """One line, at most `limit` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def http_error(step: str, response: httpx.Response) -> RequestError:
    """'step: HTTP 503 <detail>' from a FastAPI JSON error or a plain-text body."""
    body = response.text
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and "detail" in parsed:
            body = str(parsed["detail"])
    except ValueError:
        pass
    return RequestError(f"{step}: HTTP {response.status_code} {short(body)}")


async def upload(client: httpx.AsyncClient, base: str, name: str, content: bytes) -> str:
    """POST the file to /gradio_api/upload; the server path it was stored at."""
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = await client.post(f"{base}{API}/upload", files=[("files", (name, content, mime))])
    if response.status_code != 200:
        raise http_error("upload", response)
    paths = response.json()
    if not isinstance(paths, list) or not paths:
        raise RequestError(f"upload: unexpected answer {short(response.text)}")
    return str(paths[0])


def file_payload(server_path: str, name: str) -> dict[str, Any]:
    """The FileData dict gradio_client sends for an uploaded file."""
    return {"path": server_path, "meta": {"_type": "gradio.FileData"}, "orig_name": name}


async def submit(client: httpx.AsyncClient, base: str, api_name: str, data: list[Any]) -> str:
    """POST /gradio_api/call/<api_name>; the event id."""
    response = await client.post(f"{base}{API}/call/{api_name}", json={"data": data})
    if response.status_code != 200:
        raise http_error("call", response)
    event_id = response.json().get("event_id")
    if not event_id:
        raise RequestError(f"call: no event_id in {short(response.text)}")
    return str(event_id)


def sse_error_message(data: str) -> str:
    """The message of an `event: error` data line (a JSON dict with "error", a string, or null)."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return short(data) or "(empty)"
    if isinstance(parsed, dict):
        message = parsed.get("error")
        return short(message) if message else "(no message: the server hides errors, show_error=False)"
    return short(str(parsed)) if parsed is not None else "(no message)"


async def await_result(client: httpx.AsyncClient, base: str, api_name: str, event_id: str) -> None:
    """Read the SSE stream until `event: complete`; raise RequestError on `event: error`."""
    async with client.stream("GET", f"{base}{API}/call/{api_name}/{event_id}") as response:
        if response.status_code != 200:
            await response.aread()
            raise http_error("stream", response)
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
                if event == "complete":
                    return  # its data (the outputs) is not needed: don't parse it
            elif line.startswith("data:") and event == "error":
                raise RequestError(f"error event: {sse_error_message(line[5:].strip())}")
    raise RequestError("stream: closed before a complete event")


async def one_request(client: httpx.AsyncClient, base: str, cfg: LoadConfig, t0: float,
                      content: bytes | None = None) -> Sample:
    """Upload (if a file is set; `content` overrides its bytes), submit, wait for the result; never raises."""
    content = content if content is not None else cfg.file_bytes
    start = time.perf_counter()
    upload_s = None
    step = "upload" if cfg.file_bytes is not None else "call"
    try:
        async with asyncio.timeout(cfg.timeout):
            data = list(cfg.extra)
            if cfg.file_bytes is not None and cfg.file_name is not None:
                path = await upload(client, base, cfg.file_name, content or b"")
                upload_s = time.perf_counter() - start
                data.insert(0, file_payload(path, cfg.file_name))
            step = "call"
            event_id = await submit(client, base, cfg.api_name, data)
            step = "stream"
            await await_result(client, base, cfg.api_name, event_id)
        return Sample(start - t0, time.perf_counter() - t0, True, upload_s)
    except RequestError as exc:
        error = str(exc)
    except TimeoutError:
        error = f"{step}: timeout after {cfg.timeout:g} s"
    except httpx.HTTPError as exc:
        error = f"{step}: {type(exc).__name__} {short(str(exc), 120)}".rstrip()
    except (ValueError, KeyError, AttributeError) as exc:  # an answer that is not the expected JSON
        error = f"{step}: bad answer ({type(exc).__name__}: {short(str(exc), 120)})"
    return Sample(start - t0, time.perf_counter() - t0, False, upload_s, error)


# ----------------------------------------------------------------------------- the users

async def user_loop(client: httpx.AsyncClient, base: str, cfg: LoadConfig, t0: float, user: int, delay: float,
                    rng: random.Random, samples: list[Sample], in_flight: list[int]) -> None:
    """Start after `delay`, then request / think until the window ends (no request starts after it)."""
    content = cfg.variants[user] if cfg.variants else None
    await asyncio.sleep(delay)
    while time.perf_counter() - t0 < cfg.duration:
        in_flight[0] += 1
        samples.append(await one_request(client, base, cfg, t0, content))
        in_flight[0] -= 1
        pause = cfg.think * (1 + rng.uniform(-cfg.jitter, cfg.jitter))
        remaining = cfg.duration - (time.perf_counter() - t0)
        if remaining <= 0:
            break
        await asyncio.sleep(min(max(pause, 0.0), remaining))


def make_client(users: int, timeout: float) -> httpx.AsyncClient:
    """One pooled client for every user (pool > users: each user holds at most one connection)."""
    limits = httpx.Limits(max_connections=2 * users + 8, max_keepalive_connections=2 * users + 8)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(timeout, connect=10.0), trust_env=False)


@dataclass
class Outcome:
    """What run_users saw: the measured users' samples, and the flood users' (flood mode)."""

    samples: list[Sample]
    unfinished: int
    flood_samples: list[Sample] | None = None
    flood_unfinished: int = 0


async def run_users(base: str, cfg: LoadConfig, flood: LoadConfig | None = None, lead: float = 0.0) -> Outcome:
    """All users for `duration` s, then a drain of at most `timeout` s. With `flood`, its users
    start `lead` s before the window (times stay relative to the window's start, so theirs can be
    negative), stop starting requests when it ends, and are cancelled once the measured users are
    done (their requests still running then count as unfinished)."""
    rng = random.Random(cfg.seed)
    samples: list[Sample] = []
    in_flight = [0]
    flood_samples: list[Sample] = []
    flood_in_flight = [0]
    flood_tasks: list[asyncio.Task] = []
    async with make_client(cfg.users, cfg.timeout) as client, \
            make_client(flood.users if flood else 1, flood.timeout if flood else cfg.timeout) as flood_client:
        t0 = time.perf_counter() + (lead if flood else 0.0)
        if flood is not None:
            flood_rng = random.Random(flood.seed + 1)
            flood_tasks = [asyncio.create_task(user_loop(flood_client, base, flood, t0, user,
                                                         flood_rng.uniform(0, flood.ramp),
                                                         random.Random(flood_rng.random()), flood_samples,
                                                         flood_in_flight))
                           for user in range(flood.users)]
            await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
        tasks = [asyncio.create_task(user_loop(client, base, cfg, t0, user, rng.uniform(0, cfg.ramp),
                                               random.Random(rng.random()), samples, in_flight))
                 for user in range(cfg.users)]
        _, pending = await asyncio.wait(tasks, timeout=cfg.duration + cfg.timeout + 5)
        for task in [*pending, *flood_tasks]:
            task.cancel()
        await asyncio.gather(*pending, *flood_tasks, return_exceptions=True)
    if flood is None:
        return Outcome(samples, in_flight[0])
    return Outcome(samples, in_flight[0], flood_samples, flood_in_flight[0])


async def warm_up(base: str, cfg: LoadConfig, count: int) -> list[Sample]:
    """`count` sequential requests before measuring (loads lazy models, starts worker pools)."""
    samples = []
    async with make_client(1, cfg.timeout) as client:
        for _ in range(count):
            samples.append(await one_request(client, base, cfg, time.perf_counter()))
    return samples


# ----------------------------------------------------------------------------- CPU accounting

def _proc_stat(pid: int | str) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (Linux); None if unreadable."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def proc_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process and its descendants (worker processes count too), from /proc
    (utime + stime of each live one, plus the reaped children's time of each); None elsewhere."""
    stats = {p.name: _proc_stat(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()}
    stats = {p: f for p, f in stats.items() if f is not None}
    if str(pid) not in stats:
        return None
    children: dict[str, list[str]] = {}
    for child, fields in stats.items():
        children.setdefault(fields[1], []).append(child)
    total, todo = 0, [str(pid)]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is not None:
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            todo.extend(children.get(current, []))
    return total / os.sysconf("SC_CLK_TCK")


def host_cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat; None elsewhere."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return float(sum(values) - idle), float(sum(values))


def _process_ticks() -> dict[str, int]:
    """utime + stime of every live process (Linux), by pid."""
    ticks = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _proc_stat(entry.name)) is not None:
            ticks[entry.name] = int(fields[11]) + int(fields[12])
    return ticks


def _command_line(pid: str, limit: int = 70) -> str:
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        text = ""
    return short(text or f"pid {pid}", limit)


BUSIEST: list[str] = []  # the busiest processes of the last host_busy_now sample ("37% pytest ...")


def host_busy_now(seconds: float = 1.0) -> float | None:
    """Fraction of all CPUs busy over the next `seconds` (before a run: is anything else running?);
    the busiest processes meanwhile go to BUSIEST."""
    before, procs0 = host_cpu_times(), _process_ticks()
    start = time.perf_counter()
    time.sleep(seconds)
    after, procs1 = host_cpu_times(), _process_ticks()
    elapsed = time.perf_counter() - start
    used = sorted(((t - procs0.get(pid, t)) / os.sysconf("SC_CLK_TCK") / elapsed, pid) for pid, t in procs1.items())
    BUSIEST[:] = [f"{100 * share:.0f}% {_command_line(pid)} (pid {pid})" for share, pid in reversed(used[-3:])
                  if share >= 0.05]
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def settle(pid: int, limit_s: float, label: str, idle_share: float = 0.15, window_s: float = 2.0) -> None:
    """Wait (at most `limit_s`) until the server and its children use under `idle_share` of one core
    over `window_s`: background start-up work (worker pools importing their code) must not count."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        before = proc_cpu_seconds(pid)
        time.sleep(window_s)
        after = proc_cpu_seconds(pid)
        if before is None or after is None:
            return
        if (after - before) / window_s < idle_share:
            waited = time.monotonic() - start
            if waited > window_s + 0.5:
                print(f"[{label}] server busy after warm-up (start-up work in the background): waited "
                      f"{waited:.0f} s for it to go idle", flush=True)
            return
    print(f"[{label}] WARNING: the server still used over {100 * idle_share:.0f}% of a core after {limit_s:g} s "
          "of waiting; measuring anyway", flush=True)


def measure_run(base: str, cfg: LoadConfig, server_pid: int | None, flood: LoadConfig | None = None,
                lead: float = 0.0) -> tuple[Outcome, Usage]:
    """Run the users (and the flood) and account the CPU used meanwhile."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    server0 = proc_cpu_seconds(server_pid) if server_pid else None
    host0 = host_cpu_times()
    outcome = asyncio.run(run_users(base, cfg, flood, lead))
    usage = Usage(wall_s=time.perf_counter() - wall0, client_cpu_s=time.process_time() - cpu0)
    server1 = proc_cpu_seconds(server_pid) if server_pid else None
    if server0 is not None and server1 is not None:
        usage.server_cpu_s = server1 - server0
    host1 = host_cpu_times()
    if host0 and host1 and host1[1] > host0[1]:
        usage.host_busy_fraction = (host1[0] - host0[0]) / (host1[1] - host0[1])
    usage.server_peak_rss_mb = peak_rss_mb(server_pid) if server_pid else None
    return outcome, usage


def peak_rss_mb(pid: int) -> float | None:
    """The server process's peak resident memory so far (VmHWM), in MB; None if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# ----------------------------------------------------------------------------- servers

def check_loopback(url: str) -> str:
    """The URL without a trailing slash; exits unless its host is a loopback name."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_HOSTS:
        raise SystemExit(f"load.py: refusing {url!r}: only http(s) URLs on 127.0.0.1, localhost or ::1")
    return url.rstrip("/")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(argv: list[str], port: int, log_path: Path) -> subprocess.Popen:
    """Start a server script with the inherited environment, on 127.0.0.1:`port`, logging to a file."""
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1")
    log = open(log_path, "wb")  # noqa: SIM115 - the child holds it; closed in stop_server
    return subprocess.Popen([sys.executable, *argv], cwd=REPO_ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(base: str, api_names: list[str], proc: subprocess.Popen | None, log_path: Path | None,
               limit_s: float = STARTUP_TIMEOUT_S) -> dict[str, Any]:
    """Poll /gradio_api/info until it answers; exit if the server dies, never answers or lacks one of
    the endpoints. The named endpoints' info (parameters...)."""
    deadline = time.monotonic() + limit_s
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"load.py: server exited ({proc.returncode}) before answering:\n"
                             f"{log_tail(log_path) if log_path else ''}")
        try:
            response = httpx.get(f"{base}{API}/info", timeout=5.0, trust_env=False)
            if response.status_code == 200:
                endpoints = response.json().get("named_endpoints", {})
                missing = [f"/{name}" for name in api_names if f"/{name}" not in endpoints]
                if not missing:
                    return endpoints
                raise SystemExit(f"load.py: {base} has no endpoint {', '.join(missing)}; it has {', '.join(endpoints)}")
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise SystemExit(f"load.py: {base} did not answer within {limit_s:g} s ({last})")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGINT (Gradio closes cleanly), then SIGTERM, then SIGKILL; this process only."""
    for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    if proc.stdout is not None:
        proc.stdout.close()


def check_signature(endpoint: str, info: dict[str, Any], cfg: LoadConfig) -> None:
    """Exit unless the endpoint takes as many inputs as this config sends ([file] + extra)."""
    params = info.get("parameters", [])
    sent = len(cfg.extra) + (1 if cfg.file_bytes is not None else 0)
    if params and len(params) != sent:
        names = ", ".join(str(p.get("parameter_name") or p.get("label")) for p in params)
        raise SystemExit(f"load.py: {endpoint} takes {len(params)} inputs ({names}); this run sends {sent}")


def benchmark_server(label: str, argv: list[str] | None, url: str | None, cfg: LoadConfig,
                     warmups: int, log_dir: Path, flood: LoadConfig | None = None, flood_warmups: int = 0,
                     flood_lead: float = 0.0, note: str = "", settle_s: float = 120.0) -> RunResult:
    """Start the server (unless `url` is given), warm it up, load it (with the flood, if any), stop it."""
    proc, log_path = None, None
    if url is None:
        assert argv is not None
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = log_dir / f"{label}.log"
        print(f"[{label}] starting {' '.join(argv)} on {url} (log: {log_path})", flush=True)
        proc = start_server(argv, port, log_path)
    try:
        names = [cfg.api_name] + ([flood.api_name] if flood else [])
        endpoints = wait_ready(url, names, proc, log_path, STARTUP_TIMEOUT_S if proc else 15.0)
        check_signature(f"/{cfg.api_name}", endpoints[f"/{cfg.api_name}"], cfg)
        for sample in await_warmup(url, cfg, warmups):
            if not sample.ok:
                print(f"[{label}] warm-up request failed: {sample.error}", flush=True)
        if flood is not None:
            info = endpoints[f"/{flood.api_name}"]
            check_signature(f"/{flood.api_name}", info, flood)
            params = [str(p.get("parameter_name") or p.get("label")) for p in info.get("parameters", [])]
            print(f"[{label}] flood endpoint /{flood.api_name}({', '.join(params)}) <- "
                  f"[{flood.file_name}, {', '.join(json.dumps(v) for v in flood.extra)}]", flush=True)
            for sample in await_warmup(url, flood, flood_warmups):
                outcome = "ok" if sample.ok else f"failed: {sample.error}"
                print(f"[{label}] flood warm-up request ({sample.end - sample.start:.1f} s) {outcome}", flush=True)
        if proc is not None and settle_s > 0:
            settle(proc.pid, settle_s, label)
        busy = host_busy_now(2.0)
        if busy is not None:
            print(f"[{label}] host busy before the run: {100 * busy:.0f}% of all cores", flush=True)
        if busy is not None and busy > 0.25:
            print(f"[{label}] WARNING: the host is already {100 * busy:.0f}% busy before the run (other "
                  "processes): figures will be lower and noisier than on an idle machine; busiest (% of one "
                  f"core): {'; '.join(BUSIEST) or '-'}", flush=True)
        flood_text = (f", with {flood.users} flood users on /{flood.api_name} (from {flood_lead:g} s before)"
                      if flood else "")
        print(f"[{label}] {cfg.users} users for {cfg.duration:g} s on /{cfg.api_name}{flood_text} ...", flush=True)
        outcome, usage = measure_run(url, cfg, proc.pid if proc else None, flood, flood_lead)
        usage.busy_before_fraction = busy
    finally:
        if proc is not None:
            stop_server(proc)
    result = RunResult(label, url, outcome.samples, outcome.unfinished, usage, str(log_path) if log_path else None,
                       cfg.users, note=note)
    if flood is not None and outcome.flood_samples is not None:
        result.flood = RunResult(f"flood /{flood.api_name}", url, outcome.flood_samples, outcome.flood_unfinished,
                                 Usage(), result.log_path, flood.users, note="flood")
    return result


def await_warmup(url: str, cfg: LoadConfig, warmups: int) -> list[Sample]:
    return asyncio.run(warm_up(url, cfg, warmups)) if warmups > 0 else []


# ----------------------------------------------------------------------------- figures

def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of sorted values; None if empty."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def normalise_error(message: str) -> str:
    """Group messages that differ only by ids, the reported queue size or the number of requests."""
    message = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", message)
    message = re.sub(r"busy with \d+ requests", "busy with N requests", message)
    return re.sub(r"and size is \d+", "and size is N", message)


def pct(fraction: float | None) -> float | None:
    return None if fraction is None else 100 * fraction


def summarise(run: RunResult, duration: float) -> dict[str, Any]:
    ok = [s for s in run.samples if s.ok]
    errors = [s for s in run.samples if not s.ok]
    finished = len(run.samples)
    ok_in_window = sum(1 for s in ok if s.end <= duration)
    latencies = sorted(s.end - s.start for s in ok)
    error_latencies = sorted(s.end - s.start for s in errors)
    uploads = sorted(s.upload_s for s in ok if s.upload_s is not None)
    messages: dict[str, int] = {}
    for sample in errors:
        key = normalise_error(str(sample.error))
        messages[key] = messages.get(key, 0) + 1
    usage = run.usage
    return {
        "label": run.label,
        "note": run.note,
        "url": run.url,
        "users": run.users,
        "duration_s": duration,
        "requests": finished + run.unfinished,
        "ok": len(ok),
        "ok_in_window": ok_in_window,
        "late": sum(1 for s in run.samples if s.end > duration),
        "unfinished": run.unfinished,
        "throughput_rps": ok_in_window / duration,
        "errors": len(errors),
        "error_rate": len(errors) / finished if finished else 0.0,
        "error_messages": dict(sorted(messages.items(), key=lambda kv: -kv[1])),
        "latency_s": {f"p{q}": percentile(latencies, q) for q in (50, 95, 99)} | {"max": latencies[-1] if latencies else None},
        "error_latency_s": {f"p{q}": percentile(error_latencies, q) for q in (50, 95)},
        "upload_p50_s": percentile(uploads, 50),
        "wall_s": usage.wall_s,
        "client_cpu_pct": 100 * usage.client_cpu_s / usage.wall_s if usage.wall_s else None,
        "server_cpu_pct": 100 * usage.server_cpu_s / usage.wall_s if usage.server_cpu_s is not None and usage.wall_s else None,
        "host_cpu_busy_pct": pct(usage.host_busy_fraction),
        "host_busy_before_pct": pct(usage.busy_before_fraction),
        "server_peak_rss_mb": usage.server_peak_rss_mb,
        "log": run.log_path,
    }


def all_rows(runs: list[RunResult], duration: float) -> list[dict[str, Any]]:
    """One row per server, the flood's row right after the app's."""
    rows = []
    for run in runs:
        rows.append(summarise(run, duration))
        if run.flood is not None:
            rows.append(summarise(run.flood, duration))
    return rows


def fmt(value: float | None, scale: float = 1.0, digits: int = 0) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def row_name(r: dict[str, Any]) -> str:
    return f"{r['label']} ({r['note']})" if r["note"] and r["note"] != "flood" else r["label"]


def print_table(rows: list[dict[str, Any]]) -> None:
    width = max(6, *(len(row_name(r)) for r in rows))
    header = (f"{'server':<{width}} {'users':>5} {'reqs':>5} {'ok':>5} {'err':>5} {'err%':>6} {'ok/s':>7} "
              f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'upl p50':>8} "
              f"{'late':>5} {'cli CPU%':>8} {'srv CPU%':>8} {'srv MB':>7} {'host%':>6} {'busy0%':>6}")
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        lat = r["latency_s"]
        print(f"{row_name(r):<{width}} {r['users']:>5} {r['requests']:>5} {r['ok']:>5} {r['errors']:>5} "
              f"{100 * r['error_rate']:>6.1f} {r['throughput_rps']:>7.2f} {fmt(lat['p50'], 1e3):>8} "
              f"{fmt(lat['p95'], 1e3):>8} {fmt(lat['p99'], 1e3):>8} {fmt(lat['max'], 1e3):>8} "
              f"{fmt(r['upload_p50_s'], 1e3):>8} {r['late']:>5} {fmt(r['client_cpu_pct']):>8} "
              f"{fmt(r['server_cpu_pct']):>8} {fmt(r.get('server_peak_rss_mb')):>7} {fmt(r['host_cpu_busy_pct']):>6} "
              f"{fmt(r['host_busy_before_pct']):>6}")
    print("(ok/s: successes completed inside the window; latency: upload start -> complete event, successes only; "
          "CPU%: of one core, server CPU includes its worker processes; host%: of all cores during the run; "
          "srv MB: the server process's peak resident memory; busy0%: host busy just before the run)")
    for r in rows:
        if r["note"] == "flood":
            err = r["error_latency_s"]
            print(f"\n{r['label']}: {r['requests']} requests, {r['ok']} completed, {r['errors']} errors, "
                  f"{r['unfinished']} still running when cancelled at the end; errors answered in "
                  f"p50 {fmt(err['p50'], 1e3)} ms / p95 {fmt(err['p95'], 1e3)} ms")
    for r in rows:
        if r["error_messages"]:
            print(f"\n{row_name(r)} errors ({r['errors']}):")
            for message, count in r["error_messages"].items():
                print(f"  {count:>6}  {message}")


def ratio(rows: list[dict[str, Any]]) -> float | None:
    by_label = {r["label"]: r for r in rows}
    if "app" in by_label and "bare" in by_label and by_label["bare"]["throughput_rps"] > 0:
        return by_label["app"]["throughput_rps"] / by_label["bare"]["throughput_rps"]
    return None


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def target_lines(rows: list[dict[str, Any]], api_name: str, flood_mode: bool, flood_target_ms: float) -> list[str]:
    """The targets' lines: app/bare ratio (normal runs), errors on the main endpoint, p95 during the flood."""
    lines = []
    by_label = {r["label"]: r for r in rows}
    app_over_bare = ratio(rows)
    if app_over_bare is not None:
        if flood_mode:
            lines.append(f"throughput ratio app (during flood) / bare (no flood): {app_over_bare:.2f} "
                         f"(for information: the >= {RATIO_TARGET:.2f} target applies to the normal run)")
        else:
            lines.append(f"throughput ratio app/bare: {app_over_bare:.2f} (target >= {RATIO_TARGET:.2f}): "
                         f"{verdict(app_over_bare >= RATIO_TARGET)}")
    app = by_label.get("app")
    if app is not None:
        lines.append(f"errors on /{api_name} (app{', during flood' if flood_mode else ''}): {app['errors']} of "
                     f"{app['requests']} requests (target 0): {verdict(app['errors'] == 0 and app['unfinished'] == 0)}")
        if flood_mode:
            p95 = app["latency_s"]["p95"]
            passed = p95 is not None and p95 * 1e3 < flood_target_ms
            lines.append(f"{api_name} during flood: p95 = {fmt(p95, 1e3)} ms (target < {flood_target_ms:g} ms): "
                         f"{verdict(passed)}")
    return lines


# ----------------------------------------------------------------------------- README

def machine_line() -> str:
    """'2 cores, AMD EPYC ...' from os.cpu_count() and /proc/cpuinfo."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model or 'CPU model unknown'}"


def readme_region(text: str, path: str) -> tuple[int, int]:
    """Start and end offsets of the text between the markers; exits with a clear message without them."""
    starts, ends = text.count(README_START), text.count(README_END)
    if starts != 1 or ends != 1:
        raise SystemExit(f"load.py: {path} must contain {README_START} and {README_END} exactly once each "
                         f"(found {starts} and {ends}); add them where the figures belong")
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    if end < start:
        raise SystemExit(f"load.py: in {path}, {README_END} comes before {README_START}")
    return start, end


def readme_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| server | users | duration | requests ok | errors | throughput req/s | p50 ms | p95 ms | p99 ms | peak RSS MB |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        lat = r["latency_s"]
        errors = str(r["errors"]) + (f" (+{r['unfinished']} cut off)" if r["unfinished"] else "")
        lines.append(f"| {row_name(r)} | {r['users']} | {r['duration_s']:g} s | {r['ok']} | {errors} | "
                     f"{r['throughput_rps']:.2f} | {fmt(lat['p50'], 1e3)} | {fmt(lat['p95'], 1e3)} | "
                     f"{fmt(lat['p99'], 1e3)} | {fmt(r.get('server_peak_rss_mb'))} |")
    return lines


def readme_block(name: str, command: str, rows: list[dict[str, Any]], targets: list[str], notes: list[str],
                 busy_at_start: float | None) -> str:
    """One named block: what was run, where, the table and the targets."""
    busy = ", ".join(f"{row_name(r)} {r['host_busy_before_pct']:.0f}%" for r in rows
                     if r.get("host_busy_before_pct") is not None)
    title = {"normal": "Normal load", "flood": "During a flood"}.get(name, name)
    lines = [f"<!-- load:block {name} -->",
             f"**{title}** ({datetime.date.today().isoformat()}, {machine_line()}; host busy before: "
             f"at start {fmt(pct(busy_at_start))}%{', ' + busy if busy else ''}):",
             f"`{command}`", ""]
    lines += readme_table(rows)
    lines.append("")
    lines += [f"- {line}" for line in [*notes, *targets]]
    lines.append(f"<!-- load:block-end {name} -->")
    return "\n".join(lines)


def write_readme(path: str, name: str, block: str) -> None:
    """Replace block `name` between the markers (keeping the other blocks); nothing else changes."""
    file = Path(path)
    text = file.read_text()  # read again now: others may have edited it during the run
    start, end = readme_region(text, path)
    blocks = {m.group(1): m.group(0) for m in
              re.finditer(r"<!-- load:block (\S+) -->\n.*?<!-- load:block-end \1 -->", text[start:end], re.S)}
    blocks[name] = block
    order = [b for b in README_BLOCKS if b in blocks] + sorted(b for b in blocks if b not in README_BLOCKS)
    region = ("\n### Load benchmark\n\n"
              "`benchmarks/load.py`: light users each upload, call and wait for the result through the HTTP API, "
              "then think (3 s by default); *app* is `python app.py`, *bare* a Gradio app with the same inputs and queue settings "
              "whose function does nothing (served by the same `app.launch()`). Latencies are of successful requests, "
              "from upload to result. With 100 users thinking 3 s the offered load is at most ~33 requests/s: a "
              "ratio near 1 means the app keeps up with it, as the bare app does.\n\n"
              + "\n\n".join(blocks[b] for b in order) + "\n")
    temp = file.with_name(f".{file.name}.load_tmp")
    temp.write_text(text[:start] + region + text[end:])
    os.replace(temp, file)
    print(f"README: block {name!r} written between the markers in {path}")


# ----------------------------------------------------------------------------- CLI

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100, help="simulated users (default 100)")
    parser.add_argument("--duration", type=float, default=60.0, help="measured window, seconds (default 60)")
    parser.add_argument("--endpoint", default="/classify_image", help="api_name, e.g. /classify_image")
    parser.add_argument("--file", default=DEFAULT_FILE, help="file sent as the first input ('' for none)")
    parser.add_argument("--extra", default=None, help='JSON list of the other inputs (default \'["fashion"]\' '
                        "for /classify_image, else [])")
    parser.add_argument("--url", default=None, help="an app already running (loopback only); default: start app.py")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-app baseline")
    parser.add_argument("--bare-only", action="store_true", help="only the bare-app baseline")
    parser.add_argument("--think", type=float, default=3.0, help="seconds between a user's requests (default 3)")
    parser.add_argument("--jitter", type=float, default=0.2, help="think time varies by +/- this fraction (default 0.2)")
    parser.add_argument("--ramp", type=float, default=None, help="users start spread over this many seconds "
                        "(default min(5, duration/10))")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request limit, seconds (default 60)")
    parser.add_argument("--warmup", type=int, default=1, help="sequential requests before measuring (default 1)")
    parser.add_argument("--distinct", action="store_true", help="each user uploads its own copy of the image "
                        "(one pixel changed) instead of the same bytes as every other user")
    parser.add_argument("--settle", type=float, default=120.0, help="after the warm-up, wait at most this many "
                        "seconds for the server's background start-up work to finish (default 120; 0: don't)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", dest="json_out", default=None, help="write the figures to this file")
    flood = parser.add_argument_group("flood mode", "extra users hammering another endpoint of the real app "
                                      "while the measured users run")
    flood.add_argument("--flood", choices=sorted(FLOOD_PRESETS), default=None,
                       help="preset: worst-forecast = 50 users on /forecast, 20,000 daily points, auto, horizon 120, "
                       "season 366 (the --flood-* flags below override it)")
    flood.add_argument("--flood-endpoint", default=None, help="api_name the flood users call (enables flood mode)")
    flood.add_argument("--flood-users", type=int, default=None, help="flood users (preset: 50)")
    flood.add_argument("--flood-file", default=None, help="file the flood sends as its first input ('' for none; "
                       "'generate:worst-forecast' = the generated 20,000-point CSV)")
    flood.add_argument("--flood-extra", default=None, help="JSON list of the flood's other inputs")
    flood.add_argument("--flood-think", type=float, default=0.1, help="pause between a flood user's requests "
                       "(default 0.1 s)")
    flood.add_argument("--flood-lead", type=float, default=5.0, help="the flood starts this many seconds before "
                       "the measured window (default 5)")
    flood.add_argument("--flood-timeout", type=float, default=120.0, help="per flood request limit (default 120 s)")
    flood.add_argument("--flood-warmup", type=int, default=1, help="sequential flood requests before measuring "
                       "(starts the worker pool; default 1)")
    flood.add_argument("--flood-target-ms", type=float, default=2000.0, help="p95 target of the main endpoint "
                       "during the flood (default 2000 ms)")
    readme = parser.add_argument_group("README")
    readme.add_argument("--readme", default=None, help="write the figures between the load markers of this file")
    readme.add_argument("--readme-block", default=None, help="named block to replace inside the markers "
                        "(default: 'flood' in flood mode, else 'normal'); other blocks are kept")
    args = parser.parse_args(argv)
    args.flood_mode = bool(args.flood or args.flood_endpoint)
    if args.no_bare and args.bare_only:
        parser.error("--no-bare and --bare-only exclude each other")
    if args.flood_mode and args.bare_only:
        parser.error("flood mode runs against the real app: it excludes --bare-only")
    if args.users < 1 or args.duration <= 0 or args.timeout <= 0:
        parser.error("--users, --duration and --timeout must be positive")
    if args.flood_users is not None and args.flood_users < 1:
        parser.error("--flood-users must be positive")
    if args.flood_think < 0 or args.flood_lead < 0 or args.flood_timeout <= 0:
        parser.error("--flood-think and --flood-lead must be >= 0, --flood-timeout positive")
    if args.readme_block is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", args.readme_block):
        parser.error("--readme-block: letters, digits, '-' and '_' only")
    if args.readme is not None:
        if not Path(args.readme).is_file():
            parser.error(f"--readme: no file {args.readme}")
        readme_region(Path(args.readme).read_text(), args.readme)  # fail before measuring, not after
    if args.url is not None:
        args.url = check_loopback(args.url)
    return args


def image_variants(name: str, content: bytes, count: int) -> list[bytes]:
    """`count` copies of an image, each with a corner pixel nudged and re-encoded in the same format,
    so no two users upload the same bytes (Gradio stores uploads under a hash of their content)."""
    import io

    from PIL import Image  # Gradio's own dependency

    original = Image.open(io.BytesIO(content))
    fmt = original.format or (Path(name).suffix.lstrip(".").upper() or "PNG")
    original = original.convert(original.mode if original.mode in ("L", "RGB", "RGBA") else "RGB")
    variants = []
    for user in range(count):
        image = original.copy()
        for x, step in enumerate(((user % 255) + 1, user // 255)):
            if step:
                pixel = image.getpixel((x, 0))
                image.putpixel((x, 0), tuple((v + step) % 256 for v in pixel) if isinstance(pixel, tuple)
                               else (pixel + step) % 256)
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        variants.append(buffer.getvalue())
    if len(set(variants)) < count:
        raise SystemExit("load.py: --distinct could not make a distinct copy of the file per user")
    return variants


def load_config(args: argparse.Namespace) -> LoadConfig:
    api_name = args.endpoint.strip("/")
    extra_text = args.extra if args.extra is not None else ('["fashion"]' if api_name == "classify_image" else "[]")
    extra = json.loads(extra_text)
    if not isinstance(extra, list):
        raise SystemExit("load.py: --extra must be a JSON list")
    file_name = file_bytes = None
    if args.file:
        path = Path(args.file)
        path = path if path.is_absolute() or path.exists() else REPO_ROOT / path
        file_name, file_bytes = path.name, path.read_bytes()
    ramp = args.ramp if args.ramp is not None else min(5.0, args.duration / 10)
    variants = None
    if args.distinct:
        if file_bytes is None or file_name is None:
            raise SystemExit("load.py: --distinct needs --file")
        variants = image_variants(file_name, file_bytes, args.users)
    return LoadConfig(api_name, file_name, file_bytes, variants, extra, args.users, args.duration, args.think,
                      args.jitter, ramp, args.timeout, args.seed)


def worst_case_forecast_csv(path: Path, points: int = 20_000, seed: int = 0) -> Path:
    """The worst input /forecast accepts: `points` daily values (its MAX_POINTS rows), a noisy trend
    with weekly and yearly seasonality, as date,value."""
    import numpy as np  # the app's own dependencies
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.arange(points)
    values = (500 + 0.02 * t + 25 * np.sin(2 * np.pi * t / 7) + 60 * np.sin(2 * np.pi * t / 365.25)
              + rng.normal(0, 8, points))
    frame = pd.DataFrame({"date": pd.date_range("1970-01-01", periods=points, freq="D").strftime("%Y-%m-%d"),
                          "value": values.round(3)})
    frame.to_csv(path, index=False)
    return path


def flood_config(args: argparse.Namespace, cfg: LoadConfig, work_dir: Path) -> LoadConfig | None:
    """The flood users' config (None outside flood mode): the preset, overridden by explicit flags."""
    if not args.flood_mode:
        return None
    preset = FLOOD_PRESETS.get(args.flood or "", {})
    endpoint = args.flood_endpoint or preset.get("endpoint")
    users = args.flood_users or preset.get("users", 50)
    file_arg = args.flood_file if args.flood_file is not None else preset.get("file", "")
    extra = json.loads(args.flood_extra) if args.flood_extra is not None else preset.get("extra", [])
    if not isinstance(extra, list):
        raise SystemExit("load.py: --flood-extra must be a JSON list")
    file_name = file_bytes = None
    if file_arg == "generate:worst-forecast":
        path = worst_case_forecast_csv(work_dir / "worst_case_daily_20000.csv")
        file_name, file_bytes = path.name, path.read_bytes()
    elif file_arg:
        path = Path(file_arg)
        path = path if path.is_absolute() or path.exists() else REPO_ROOT / path
        file_name, file_bytes = path.name, path.read_bytes()
    return LoadConfig(str(endpoint).strip("/"), file_name, file_bytes, None, extra, users, cfg.duration,
                      args.flood_think, cfg.jitter, min(1.0, args.flood_lead), args.flood_timeout, cfg.seed)


def settings_line(external: bool) -> str:
    """The queue settings the servers started here read from this environment (core.settings.Settings)."""
    sys.path.insert(0, str(REPO_ROOT))
    from core.settings import Settings

    s = Settings.from_env()
    return (f"queue max_size={s.queue_max_size}, concurrency_limit={s.concurrency_limit}, "
            f"max_file_size={s.max_file_size}, worker_processes={s.worker_processes}, "
            f"worker_backlog={s.worker_backlog}, time_budget_s={s.time_budget_s:g} (core.settings.Settings from this environment, which both servers "
            f"started here inherit{'; the server at --url may use others' if external else ''})")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    cfg = load_config(args)
    log_dir = Path(tempfile.mkdtemp(prefix="load_bench_"))
    flood = flood_config(args, cfg, log_dir)
    print(f"load: {cfg.users} users, {cfg.duration:g} s window, think {cfg.think:g} s +/-{100 * cfg.jitter:.0f}%, "
          f"ramp {cfg.ramp:g} s, timeout {cfg.timeout:g} s; /{cfg.api_name} with "
          f"{cfg.file_name or 'no file'} ({len(cfg.file_bytes or b'')} bytes"
          f"{', one distinct copy per user' if cfg.variants else ', same bytes for every user'}) + {json.dumps(cfg.extra)}")
    if flood is not None:
        print(f"flood: {flood.users} users on /{flood.api_name} with {flood.file_name or 'no file'} "
              f"({len(flood.file_bytes or b'')} bytes) + {json.dumps(flood.extra)}, think {flood.think:g} s, "
              f"timeout {flood.timeout:g} s, from {args.flood_lead:g} s before the window; on the app only"
              + ("" if args.no_bare else ": the bare app runs WITHOUT a flood (it has no such endpoint)"))
    print(settings_line(args.url is not None))
    busy_at_start = host_busy_now(2.0)
    print(f"host: {machine_line()}; {fmt(pct(busy_at_start))}% busy before starting (load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}){'; busiest: ' + '; '.join(BUSIEST) if BUSIEST else ''}",
          flush=True)
    runs = []
    if not args.bare_only:
        runs.append(benchmark_server("app", ["app.py"], args.url, cfg, args.warmup, log_dir, flood,
                                     args.flood_warmup, args.flood_lead, "during flood" if flood else "",
                                     args.settle))
    if not args.no_bare:
        bare_argv = ["benchmarks/bare_app.py", "--serve", "--like", f"/{cfg.api_name}"]
        runs.append(benchmark_server("bare", bare_argv, None, cfg, args.warmup, log_dir,
                                     note="no flood" if flood else "", settle_s=args.settle))
    rows = all_rows(runs, cfg.duration)
    print_table(rows)
    targets = target_lines(rows, cfg.api_name, flood is not None, args.flood_target_ms)
    print()
    for line in targets:
        print(line)
    print(f"(server logs: {log_dir})")
    if args.json_out:
        config = {k: v for k, v in asdict(cfg).items() if k not in ("file_bytes", "variants")}
        config["distinct_files"] = cfg.variants is not None
        flood_json = None
        if flood is not None:
            flood_json = {k: v for k, v in asdict(flood).items() if k not in ("file_bytes", "variants")}
            flood_json["lead_s"] = args.flood_lead
        Path(args.json_out).write_text(json.dumps({"config": config, "flood": flood_json, "runs": rows,
                                                   "ratio_app_over_bare": ratio(rows), "targets": targets,
                                                   "host_busy_at_start_pct": pct(busy_at_start)}, indent=2))
        print(f"figures written to {args.json_out}")
    if args.readme:
        name = args.readme_block or ("flood" if flood is not None else "normal")
        command = shlex.join(["python", "benchmarks/load.py", *argv])
        notes = [f"think {cfg.think:g} s (+/-{100 * cfg.jitter:.0f}%), /{cfg.api_name} with {cfg.file_name} "
                 f"+ {json.dumps(cfg.extra)}"]
        if flood is not None:
            flood_row = next(r for r in rows if r["note"] == "flood")
            err = flood_row["error_latency_s"]
            top = "; ".join(f"{count} x \"{short(message, 90)}\"" for message, count in
                            list(flood_row["error_messages"].items())[:2])
            notes.append(f"flood: {flood.users} users send /{flood.api_name} with {flood.file_name} "
                         f"+ {json.dumps(flood.extra)} back to back ({flood.think:g} s apart), from "
                         f"{args.flood_lead:g} s before the window; {flood_row['ok']} completed, "
                         f"{flood_row['errors']} errors (answered in p50 {fmt(err['p50'], 1e3)} ms)"
                         + (f": {top}" if top else "") + ("; the bare app runs without a flood" if not args.no_bare
                                                          else "; bare app skipped"))
        write_readme(args.readme, name, readme_block(name, command, rows, targets, notes, busy_at_start))


if __name__ == "__main__":
    main()
