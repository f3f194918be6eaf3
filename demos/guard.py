"""The one guard every event's inputs pass before Gradio opens, fetches or decodes a file.

`app.PortfolioApp.validate_inputs` calls `guard_inputs` for every event of every tab, on the raw
JSON values a browser or an API client sent. A file reference is any object with a "path" or
"url" key, wherever it sits in a value (an image, a sketchpad's layers, a list of files...). Each
one must be:

* a local file inside Gradio's upload folder or the shipped examples (symlinks resolved), no
  larger than MAX_FILE_SIZE: no other server path is ever opened;
* or a `data:` URL no larger than MAX_FILE_SIZE once decoded; it is written to the upload folder
  and replaced by that path, so the checks below apply to it too;
* never a remote http(s) URL unless ALLOW_NETWORK=1 (the app is offline by default).

Image inputs also have their pixel count read from the header (MAX_IMAGE_PIXELS) and sketchpad
values their layer count (MAX_EDITOR_LAYERS); one event carries at most MAX_FILES_PER_REQUEST files.
"""
from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from pathlib import Path
from typing import Any, Iterator, Sequence

import gradio as gr
from gradio import processing_utils
from gradio.utils import get_upload_folder
from pydantic import ValidationError

from core import images
from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.settings import Settings

IMAGE_COMPONENTS = (gr.Image, gr.ImageEditor, gr.Gallery)
_DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*?(?P<b64>;base64)?,", re.IGNORECASE)


def _mb(n: int) -> str:
    return f"{n / 1024**2:.0f} MB"


def allowed_roots() -> list[Path]:
    """Folders a request may point into: Gradio's upload/cache folder and the shipped examples."""
    return [Path(get_upload_folder()).resolve(), EXAMPLES_DIR.resolve()]


def file_references(value: Any) -> Iterator[dict]:
    """Every dict with a "path" or "url" key inside `value` (nested dicts and lists)."""
    if isinstance(value, dict):
        if "path" in value or "url" in value:
            yield value
            return
        for item in value.values():
            yield from file_references(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from file_references(item)


def _is_remote(text: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://|^//", text.strip(), re.IGNORECASE))


def local_path(path: str, settings: Settings) -> Path:
    """The resolved file `path` points to, if it is a regular file inside an allowed root."""
    try:
        resolved = Path(path).resolve()
    except (ValueError, OSError) as exc:  # e.g. an embedded NUL byte
        raise InputError("That is not a valid file path; upload the file (gradio_client: handle_file(path)).") from exc
    if not any(resolved == root or root in resolved.parents for root in allowed_roots()):
        raise InputError("Files must be uploaded first: this server only opens files that were uploaded to it "
                         "(gradio_client: handle_file(path)) or its own examples.")
    if not resolved.is_file():
        raise InputError("The uploaded file is no longer on the server (uploads expire); upload it again.")
    size = resolved.stat().st_size
    if size > settings.max_bytes:
        raise InputError(f"The file is {_mb(size)}; the limit is {settings.max_file_size}. Upload a smaller file.")
    return resolved


def save_data_url(url: str, settings: Settings) -> Path:
    """Decode a base64 `data:` URL (size checked before decoding) into the upload folder."""
    match = _DATA_URL.match(url)
    if not match or not match.group("b64"):
        raise InputError("Only base64 data: URLs are accepted; better, upload the file (gradio_client: handle_file).")
    payload = url[match.end():]
    if len(payload) * 3 // 4 > settings.max_bytes:
        raise InputError(f"The data: URL holds more than {settings.max_file_size}; upload a smaller file.")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError("The data: URL is not valid base64; upload the file instead.") from exc
    extension = mimetypes.guess_extension(match.group("mime") or "") or ""
    return Path(processing_utils.save_bytes_to_cache(data, f"upload{extension}", get_upload_folder()))


def check_reference(ref: dict, settings: Settings) -> Path:
    """Validate one file reference in place; returns the local file it now points to.

    A data: URL is replaced by the file it was saved to; a remote URL is refused offline."""
    path, url = ref.get("path"), ref.get("url")
    if isinstance(url, str) and url.startswith("data:") and not path:
        saved = save_data_url(url, settings)
        ref["path"], ref["url"] = str(saved), None
        path = str(saved)
    if not isinstance(path, str) or not path:
        if isinstance(url, str) and _is_remote(url):
            raise _remote_refused()
        raise InputError("No file received: upload a file first.")
    if _is_remote(path):
        if settings.allow_network:
            return Path(path)
        raise _remote_refused()
    if isinstance(url, str) and url.startswith("data:"):
        ref["url"] = None  # the path wins; Gradio would otherwise decode the URL instead
    return local_path(path, settings)


def _remote_refused() -> InputError:
    return InputError("This app runs offline and does not fetch URLs. Download the file and upload it "
                      "(gradio_client: handle_file(path)); ALLOW_NETWORK=1 on the server lifts this.")


def _check_editor_layers(value: Any, settings: Settings) -> None:
    layers = value.get("layers") if isinstance(value, dict) else None
    if isinstance(layers, list) and len(layers) > settings.max_editor_layers:
        raise InputError(f"The drawing has {len(layers)} layers; at most {settings.max_editor_layers} are accepted. "
                         "Merge or delete layers and try again.")


def _check_shape(component: Any, value: Any) -> None:
    """A value must fit the component's data model (e.g. a sketch is a dict of layers), with a
    short message instead of the validator's report."""
    model = getattr(component, "data_model", None)
    if value is None or model is None:
        return
    try:
        model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "value"
        name = getattr(component, "label", None) or type(component).__name__
        raise InputError(f"The input {name!r} has the wrong shape ({where}: {first.get('msg', 'invalid')}). "
                         "client.view_api() shows the expected format.") from None


def guard_inputs(components: Sequence[Any], inputs: Sequence[Any], settings: Settings | None = None) -> None:
    """Check every file reference in one event's raw `inputs` (modifying data: URLs in place)."""
    settings = settings or Settings.from_env()
    count = 0
    for component, value in zip(components, inputs):
        _check_shape(component, value)
        if isinstance(component, gr.ImageEditor):
            _check_editor_layers(value, settings)
        for ref in file_references(value):
            count += 1
            if count > settings.max_files_per_request:
                raise InputError(f"Too many files in one request (limit {settings.max_files_per_request}).")
            path = check_reference(ref, settings)
            if isinstance(component, IMAGE_COMPONENTS) and path.is_file():
                width, height = images.header_size(path)
                if width * height > settings.max_image_pixels:
                    raise InputError(images.too_many_pixels_message(width, height, settings.max_image_pixels))
