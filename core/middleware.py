"""HTTP protections for the whole app, as plain ASGI middleware (installed by app.launch).

* `BodyLimit`: one byte limit (MAX_FILE_SIZE plus a small allowance for form fields and JSON)
  for every request body: uploads (however many files one request carries), API calls and
  queue joins (where `data:` URLs travel). Declared lengths are refused before reading; chunked
  bodies are counted as they stream. An upload also carries at most MAX_FILES_PER_REQUEST files
  (Gradio accepts 1,000, each a file and a folder on disk).
* `SecurityHeaders`: Content-Security-Policy (what Gradio's front end needs and nothing else:
  no third-party origin, so the browser stays offline too), X-Content-Type-Options, framing
  rules and Referrer-Policy on every response.
* `SameOriginWrites`: a browser request that changes state (POST, PUT, PATCH, DELETE) from
  another site is refused (no cross-site uploads or queue joins). API clients send no Origin
  header and are not affected. On a Hugging Face Space (SPACE_ID set) the Space's own
  origins are accepted and huggingface.co may frame the app.
"""
from __future__ import annotations

import os
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FORM_ALLOWANCE = 64 * 1024  # multipart boundaries, headers and JSON around the payload
SPACE_FRAME_ANCESTORS = "https://huggingface.co https://*.hf.space"


def on_space() -> bool:
    """True when running as a Hugging Face Space (which embeds the app in an iframe)."""
    return bool(os.environ.get("SPACE_ID"))


async def _plain_response(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class _PartCounter:
    """Counts the parts of a multipart body as it streams (a boundary may straddle two chunks)."""

    def __init__(self, content_type: bytes) -> None:
        boundary = content_type.partition(b"boundary=")[2].split(b";")[0].strip().strip(b'"')
        self.marker = b"--" + boundary if boundary else b""
        self.tail = b""
        self.markers = 0

    def feed(self, chunk: bytes) -> int:
        """Parts seen so far (the closing boundary is not a part)."""
        if self.marker:
            data = self.tail + chunk
            self.markers += data.count(self.marker)
            keep = len(self.marker) - 1  # too short to hold a whole marker: nothing is counted twice
            self.tail = data[-keep:] if keep else b""
        return max(0, self.markers - 1)


class BodyLimit:
    """Refuse request bodies larger than `max_bytes` (+ FORM_ALLOWANCE), and multipart uploads
    of more than `max_files` parts, with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_files: int = 8) -> None:
        self.app = app
        self.limit = int(max_bytes) + FORM_ALLOWANCE
        self.max_bytes = int(max_bytes)
        self.max_files = int(max_files)

    def _message(self) -> str:
        return (f"Request too large: the limit is {self.max_bytes / 1024**2:.0f} MB and {self.max_files} files per "
                "request, files included. Send fewer or smaller files.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _plain_response(send, 413, self._message())
            return
        content_type = headers.get(b"content-type", b"")
        parts = _PartCounter(content_type) if content_type.lower().startswith(b"multipart/") else None
        received, started = 0, False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.limit or (parts is not None and parts.feed(chunk) > self.max_files):
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _plain_response(send, 413, self._message())


def content_security_policy(frame_ancestors: str) -> str:
    """The CSP Gradio's front end works with: its own scripts and styles (inline ones included:
    Gradio injects its config and theme inline), images and media from itself, data: and blob:
    (previews, canvases, audio), and nothing from any other origin."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",   # Gradio's inline bootstrap; its front end evaluates code
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


class SecurityHeaders:
    """Add the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, space: bool | None = None) -> None:
        self.app = app
        space = on_space() if space is None else space
        headers = {
            b"content-security-policy": content_security_policy(
                f"'self' {SPACE_FRAME_ANCESTORS}" if space else "'self'").encode(),
            b"x-content-type-options": b"nosniff",
            b"referrer-policy": b"no-referrer",
        }
        if not space:  # X-Frame-Options cannot name huggingface.co; frame-ancestors covers browsers that know CSP
            headers[b"x-frame-options"] = b"SAMEORIGIN"
        self.headers = list(headers.items())
        self.names = set(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def same_origin(origin: str, host: str, space: bool) -> bool:
    """Whether a browser's Origin header names this server (or, on a Space, a Space origin)."""
    parts = urlsplit(origin)
    if parts.netloc and parts.netloc.lower() == host.lower():
        return True
    return space and parts.scheme == "https" and (parts.hostname or "").endswith(".hf.space")


class SameOriginWrites:
    """Refuse state-changing browser requests whose Origin is another site (403)."""

    SAFE = {"GET", "HEAD", "OPTIONS"}

    def __init__(self, app: ASGIApp, space: bool | None = None) -> None:
        self.app = app
        self.space = on_space() if space is None else space

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in self.SAFE:
            headers = dict(scope.get("headers") or [])
            origin = headers.get(b"origin", b"").decode("latin-1")
            host = headers.get(b"host", b"").decode("latin-1")
            if origin and not same_origin(origin, host, self.space):  # "null" (sandboxed page) is refused too
                await _plain_response(send, 403, "Cross-origin requests that change state are refused. "
                                                 "Use the app's own page or an API client (gradio_client).")
                return
        await self.app(scope, receive, send)
