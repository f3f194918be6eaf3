"""What an attacker tries against the public API, through raw HTTP as well as gradio_client:
server paths, remote URLs, data: URLs, oversized and decompression-bomb images, too many
sketch layers, oversized bodies, cross-origin writes; and the headers every response carries."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

from core.registry import EXAMPLES_DIR
from core.settings import REPO_ROOT, Settings

EXAMPLE = EXAMPLES_DIR / "image_classification" / "fashion_on_white_sandal.jpg"
SERVER_FILE = REPO_ROOT / "model_cards" / "time_series_forecasting" / "figures" / "held_out_mase.png"


def call(app_url: str, api: str, data: list, headers: dict | None = None) -> tuple[str, dict | list | str]:
    """POST /gradio_api/call/<api> and read the event stream: ("complete", outputs) or ("error", message)."""
    base = app_url.rstrip("/")
    response = httpx.post(f"{base}/gradio_api/call/{api}", json={"data": data}, headers=headers or {}, timeout=60)
    if response.status_code != 200:
        return f"http {response.status_code}", response.text
    event_id = response.json()["event_id"]
    event, payload = None, None
    with httpx.stream("GET", f"{base}/gradio_api/call/{api}/{event_id}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line.split(":", 1)[1])
                break
    if event == "error":
        return "error", (payload or {}).get("error") if isinstance(payload, dict) else payload
    return event, payload


def upload(app_url: str, name: str, content: bytes, headers: dict | None = None) -> httpx.Response:
    return httpx.post(app_url.rstrip("/") + "/gradio_api/upload", files=[("files", (name, content))],
                      headers=headers or {}, timeout=60)


def file_value(path: str, meta: bool = True) -> dict:
    value = {"path": path}
    if meta:
        value["meta"] = {"_type": "gradio.FileData"}
    return value


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ----------------------------------------------------------------------------- server files

@pytest.mark.parametrize("meta", [False, True], ids=["no-meta", "meta"])
def test_a_request_cannot_open_a_server_file_outside_uploads(app_url, meta):
    """Gradio's image data model does not require `meta`, so a bare path used to be opened as is."""
    event, message = call(app_url, "classify_image", [file_value(str(SERVER_FILE), meta), "digits"])
    assert event == "error" and "uploaded" in message, message
    traversal = str(EXAMPLES_DIR / ".." / ".." / "model_cards" / "time_series_forecasting" / "figures" / "held_out_mase.png")
    event, message = call(app_url, "classify_image", [file_value(traversal, meta), "digits"])
    assert event == "error" and "uploaded" in message, message


def test_a_symlink_in_the_upload_folder_cannot_point_outside(app_url):
    from gradio.utils import get_upload_folder

    link = Path(get_upload_folder()) / "test_guard_link.png"
    link.unlink(missing_ok=True)
    link.symlink_to(SERVER_FILE)
    try:
        event, message = call(app_url, "classify_image", [file_value(str(link)), "fashion"])
        assert event == "error" and "uploaded" in message, message
    finally:
        link.unlink()


def test_uploaded_files_and_shipped_examples_are_accepted(app_url):
    path = upload(app_url, "sandal.jpg", EXAMPLE.read_bytes()).json()[0]
    event, outputs = call(app_url, "classify_image", [file_value(path), "fashion"])
    assert event == "complete" and outputs[-1]["predictions"][0]["label"] == "Sandal"
    event, outputs = call(app_url, "classify_image", [file_value(str(EXAMPLE), meta=False), "fashion"])
    assert event == "complete" and outputs[-1]["predictions"][0]["label"] == "Sandal"


# ----------------------------------------------------------------------------- URLs

@pytest.mark.parametrize("value", [
    {"path": "https://example.com/sandal.jpg", "meta": {"_type": "gradio.FileData"}},
    {"url": "https://example.com/sandal.jpg", "meta": {"_type": "gradio.FileData"}},
    {"path": "http://192.0.2.1/sandal.jpg"},
], ids=["path", "url", "no-meta"])
def test_remote_urls_are_refused_offline_without_a_fetch(app_url, value):
    """The conftest guard would turn any attempted fetch into a NetworkAccessError (a server error)."""
    event, message = call(app_url, "classify_image", [value, "fashion"])
    assert event == "error" and "offline" in message and "upload" in message, message


def test_data_urls_are_decoded_once_within_the_limits(app_url):
    url = "data:image/jpeg;base64," + base64.b64encode(EXAMPLE.read_bytes()).decode()
    event, outputs = call(app_url, "classify_image", [{"url": url}, "fashion"])
    assert event == "complete" and outputs[-1]["predictions"][0]["label"] == "Sandal"
    bomb = "data:image/png;base64," + base64.b64encode(png_bytes(Image.new("L", (9000, 9000), 255))).decode()
    event, message = call(app_url, "classify_image", [{"url": bomb}, "fashion"])
    assert event == "error" and "megapixels" in message, message
    event, message = call(app_url, "classify_image", [{"url": "data:image/png;base64,@@not-base64@@"}, "fashion"])
    assert event == "error" and "base64" in message, message


# ----------------------------------------------------------------------------- sizes

def test_a_body_larger_than_the_limit_is_refused_whatever_carries_it(app_url):
    limit = Settings.from_env().max_bytes
    oversized = "data:image/png;base64," + "A" * (limit + 256 * 1024)
    response = httpx.post(app_url.rstrip("/") + "/gradio_api/call/classify_image",
                          json={"data": [{"url": oversized}, "fashion"]}, timeout=60)
    assert response.status_code == 413 and "limit" in response.text
    many = [("files", (f"f{i}.bin", b"\0" * (limit // 4))) for i in range(6)]  # each file alone is under the limit
    response = httpx.post(app_url.rstrip("/") + "/gradio_api/upload", files=many, timeout=60)
    assert response.status_code == 413, (response.text[:300], response.request.headers)


def test_one_upload_carries_a_bounded_number_of_files(app_url):
    """Gradio accepts 1,000 files per upload request, each a file and a folder on disk."""
    limit = Settings.from_env().max_files_per_request
    response = httpx.post(app_url.rstrip("/") + "/gradio_api/upload", timeout=60,
                          files=[("files", (f"f{i}.txt", b"x")) for i in range(limit + 1)])
    assert response.status_code == 413 and "files" in response.text
    response = httpx.post(app_url.rstrip("/") + "/gradio_api/upload", timeout=60,
                          files=[("files", (f"f{i}.txt", b"x")) for i in range(limit)])
    assert response.status_code == 200 and len(response.json()) == limit


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_multipart_parts_are_counted_across_chunks(chunk):
    from core.middleware import _PartCounter

    body = httpx.Request("POST", "http://x/", files=[("files", (f"f{i}", b"--data--" * 30)) for i in range(5)])
    content = body.read()
    counter = _PartCounter(body.headers["content-type"].encode())
    counts = [counter.feed(content[i:i + chunk]) for i in range(0, len(content), chunk)]
    assert counts[-1] == 5


def test_a_decompression_bomb_upload_is_refused_before_decoding(app_url):
    """13000x13000 one-colour PNG: ~190 KB on disk, 169 megapixels (0.5 GB as RGB) once decoded."""
    path = upload(app_url, "bomb.png", png_bytes(Image.new("L", (13000, 13000), 255))).json()[0]
    event, message = call(app_url, "classify_image", [file_value(path), "fashion"])
    assert event == "error" and "megapixels" in message, message


def test_the_sketchpad_accepts_a_bounded_number_of_layers(app_url):
    limit = Settings.from_env().max_editor_layers
    layer = upload(app_url, "layer.png", png_bytes(Image.new("RGBA", (400, 400), (0, 0, 0, 0)))).json()[0]
    sketch = {"background": None, "composite": None, "layers": [file_value(layer)] * (limit + 1)}
    event, message = call(app_url, "classify_sketch", [sketch])
    assert event == "error" and "layers" in message, message


# ----------------------------------------------------------------------------- headers and origins

def test_security_headers_on_pages_and_api(app_url):
    for path in ("/", "/config", "/gradio_api/info"):
        headers = httpx.get(app_url.rstrip("/") + path, timeout=30).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert headers["referrer-policy"] == "no-referrer"


def test_cross_origin_uploads_and_calls_are_refused(app_url):
    evil = {"Origin": "https://evil.example"}
    assert upload(app_url, "sandal.jpg", EXAMPLE.read_bytes(), headers=evil).status_code == 403
    assert upload(app_url, "sandal.jpg", EXAMPLE.read_bytes(), headers={"Origin": "null"}).status_code == 403
    event, _ = call(app_url, "classify_image", [file_value(str(EXAMPLE)), "fashion"], headers=evil)
    assert event == "http 403"
    same = {"Origin": app_url.rstrip("/")}
    assert upload(app_url, "sandal.jpg", EXAMPLE.read_bytes(), headers=same).status_code == 200


def test_on_a_space_huggingface_may_frame_the_app():
    from core.middleware import SecurityHeaders, same_origin

    headers = dict(SecurityHeaders(app=None, space=True).headers)
    assert b"https://huggingface.co" in headers[b"content-security-policy"] and b"x-frame-options" not in headers
    assert same_origin("https://user-app.hf.space", "internal:7860", space=True)
    assert not same_origin("https://user-app.hf.space", "internal:7860", space=False)


@pytest.mark.parametrize("api, data, message", [
    ("classify_image", [{"path": 123}, "fashion"], "wrong shape"),
    ("classify_image", [{"path": "assets/\x00examples"}, "fashion"], "not a valid file path"),
    ("classify_sketch", ["a string, not a sketch"], "wrong shape"),
    ("classify_sketch", [{"layers": "x", "composite": None, "background": None}], "wrong shape"),
])
def test_hand_crafted_values_get_short_clear_messages(app_url, api, data, message):
    event, text = call(app_url, api, data)
    assert event == "error" and message in text and "pydantic" not in text, text
    assert call(app_url, "classify_image", [file_value(str(EXAMPLE), meta=False), "fashion"])[0] == "complete"


def test_expected_errors_are_logged_without_a_traceback(app_url, capfd):
    """A flood of bad or refused requests must not fill the log (and the CPU) with tracebacks."""
    capfd.readouterr()
    assert call(app_url, "classify_image", [file_value(str(SERVER_FILE)), "fashion"])[0] == "error"  # the guard
    path = upload(app_url, "notes.png", b"not an image at all").json()[0]
    assert call(app_url, "classify_image", [file_value(path), "fashion"])[0] == "error"
    assert call(app_url, "forecast", [None, "air_passengers", "", "", "auto", 500, 0])[0] == "error"  # the tab
    assert "Traceback" not in capfd.readouterr().err
