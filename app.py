"""ML Portfolio: one Gradio app with a tab per implemented task plus a Metrics tab.

Run `python app.py` (or `make run`). Offline by default; set ALLOW_NETWORK=1 to opt in to
network-only model variants.

Everything every tab shares about serving safely lives here and in the modules it names:
the input guard (demos/guard.py), HTTP limits and headers (core/middleware.py), worker pools
for CPU-heavy requests (core/workers.py), Pillow's pixel limit (core/images.py) and the
clean-up of uploaded and generated files (core/housekeeping.py).
"""
from __future__ import annotations

from core.settings import apply_offline_defaults

apply_offline_defaults()  # before gradio and friends are imported

from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402
from gradio.utils import get_upload_folder  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from core import housekeeping, images  # noqa: E402
from core.errors import InputError  # noqa: E402
from core.middleware import BodyLimit, SameOriginWrites, SecurityHeaders  # noqa: E402
from core.registry import CARDS_DIR, EXAMPLES_DIR, TASKS  # noqa: E402
from core.settings import REPO_ROOT, Settings  # noqa: E402
from demos.common import expected_error, logger  # noqa: E402
from demos.guard import guard_inputs  # noqa: E402

TITLE = "ML Portfolio: try every model"
DESCRIPTION = ("Try every model, each trained by this project on a real data set, measured on held-out data "
               "and served offline, with its model card, notebook and API.")
FAVICON = EXAMPLES_DIR.parent / "favicon.png"
STYLE = REPO_ROOT / "demos" / "style.css"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
LINK_PREVIEW = (f'<meta name="description" content="{DESCRIPTION}">'
                f'<meta property="og:title" content="{TITLE}"><meta property="og:description" content="{DESCRIPTION}">'
                '<meta property="og:type" content="website">')


UNREADABLE_FILE = ("Could not read the uploaded file as {kind} (it may be truncated, or not {kind} at all). "
                   "{what_to_do}")
READ_AS = {  # component class name -> (what it should hold, what to do)
    "Image": ("an image", f"Upload a {images.SUPPORTED} file."),
    "Sketchpad": ("a drawing", "Clear the pad and draw again."),
    "ImageEditor": ("an image", f"Upload a {images.SUPPORTED} file."),
    "Audio": ("audio", "Upload a WAV, FLAC, MP3, OGG or M4A file."),
}


def unreadable_input(components: list[Any]) -> gr.Error:
    """The message for an input Gradio could not decode, named after the event's file input."""
    kind, what_to_do = next((READ_AS[type(c).__name__] for c in components if type(c).__name__ in READ_AS),
                            ("the expected type", "Check the file and upload it again."))
    return gr.Error(UNREADABLE_FILE.format(kind=kind, what_to_do=what_to_do), title="Please check your input",
                    print_exception=False)


def theme() -> gr.themes.Base:
    """Gradio's default theme with WCAG AA contrast (4.5:1) for white text on primary buttons."""
    return gr.themes.Default().set(
        button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
        button_primary_border_color="*primary_700", button_primary_border_color_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700", button_primary_border_color_dark="*primary_700",
        body_text_color_subdued="*neutral_600", body_text_color_subdued_dark="*neutral_300")


class PortfolioApp(gr.TabbedInterface):
    """The tabbed app; every event's raw inputs pass the shared guard before Gradio opens a file."""

    def validate_inputs(self, block_fn: Any, inputs: list[Any]) -> None:
        super().validate_inputs(block_fn, inputs)
        try:
            guard_inputs(block_fn.inputs, inputs)
        except InputError as exc:
            raise expected_error(exc, f"the input guard ({block_fn.api_name})") from None

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], state: Any, explicit_call: bool = False) -> Any:
        """Gradio's own input checks (a value outside a slider's range, not among a dropdown's
        choices...) are expected errors too: their message, and one log line, no traceback.
        A file Gradio cannot decode (a truncated image...) gets a message that says what to do,
        never the decoder's exception with server paths, whichever event (or example) sent it."""
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error as exc:
            if exc.print_exception:
                exc.print_exception = False
                logger.info("input refused by Gradio in %s: %s", block_fn.api_name, exc.message)
            raise
        except Exception as exc:  # noqa: BLE001 - decoders raise many types (PIL, soundfile...)
            logger.info("undecodable input in %s: %s: %s", block_fn.api_name, type(exc).__name__, exc)
            raise unreadable_input(block_fn.inputs) from None


def build_app() -> gr.Blocks:
    """The Overview, one tab per registered task (in product order), then Metrics. Loads no model."""
    from demos import metrics as metrics_demo
    from demos import overview

    specs = sorted(TASKS.values(), key=lambda spec: spec.number)
    tabs = [overview.build()] + [spec.build_demo() for spec in specs] + [metrics_demo.build()]
    names = ["Overview"] + [spec.title for spec in specs] + ["Metrics"]
    return PortfolioApp(tabs, names, title=TITLE, analytics_enabled=False)


def _lazy_session_config() -> None:
    """Stop Gradio from building the config of every component for every new session.

    Gradio 6.31's SessionState computes all components' configs when a session starts, only
    for deep links (gr.DeepLinkButton), which this app does not offer. Every API call without a
    session (/gradio_api/call, curl) starts one. With this app's 80 components that was ~4.5 ms of
    CPU under the GIL and ~125 KB kept per session, up to 10,000 sessions (measured once, with
    py-spy on the server under benchmarks/load.py: a fifth of its CPU time). Sessions now start empty; Gradio already adds a component's config
    the first time a request updates its value. Applied once, by `launch`."""
    from gradio.state_holder import SessionState

    if getattr(SessionState.__init__, "lazy_config", False):
        return
    eager_init = SessionState.__init__

    class _WithoutComponents:  # what SessionState.__init__ reads from the app, minus the components
        def __init__(self, blocks: gr.Blocks) -> None:
            self.default_config = blocks.default_config
            self.blocks: dict = {}

    def lazy_init(self: SessionState, blocks: gr.Blocks) -> None:
        eager_init(self, _WithoutComponents(blocks))

    lazy_init.lazy_config = True
    SessionState.__init__ = lazy_init


def _serve_with_torch_threads(threads: int) -> None:
    """Requests already run in parallel threads (CONCURRENCY_LIMIT per event), and the served models
    are small: one torch thread per request beats several threads fighting over the cores
    (benchmarks/image_classification.py times a request with 1 and with 2 threads)."""
    import torch

    torch.set_num_threads(threads)


def launch(demo: gr.Blocks, **overrides) -> None:
    """Launch with the project's safety settings: a bounded queue, per-event concurrency, one
    byte limit per request, security headers, same-origin writes, cache clean-up, no share."""
    settings = Settings.from_env()
    images.configure_pillow(settings.max_image_pixels)
    _serve_with_torch_threads(settings.torch_threads or 1)
    _lazy_session_config()
    ttl = settings.cache_ttl_s
    demo.delete_cache = (max(10, ttl // 4), ttl)  # every ttl/4 s, delete uploads and outputs older than ttl
    demo.queue(max_size=settings.queue_max_size, default_concurrency_limit=settings.concurrency_limit)
    worker_tasks = [spec.name for spec in TASKS.values() if spec.runs_in_worker]
    middleware = [Middleware(SameOriginWrites),
                  Middleware(BodyLimit, max_bytes=settings.max_bytes, max_files=settings.max_files_per_request),
                  Middleware(SecurityHeaders)]
    options = dict(
        server_name=settings.server_name,
        server_port=settings.server_port,
        share=False,
        max_file_size=settings.max_file_size,
        allowed_paths=[str(EXAMPLES_DIR), str(CARDS_DIR), str(NOTEBOOKS_DIR)],  # examples, cards' figures, notebooks
        favicon_path=str(FAVICON),
        head=LINK_PREVIEW,
        theme=theme(),
        css_paths=[STYLE],
        show_error=True,
        ssr_mode=False,  # Python serves every request, so the middleware above sees them all
        state_session_capacity=settings.session_capacity,
        app_kwargs={"middleware": middleware, "lifespan": housekeeping.lifespan(ttl, get_upload_folder(), worker_tasks)},
    )
    options.update(overrides)
    demo.launch(**options)


def main() -> None:
    launch(build_app())


if __name__ == "__main__":
    main()
