"""ML Portfolio: one Gradio app with a tab per implemented task plus a Metrics tab.

Run `python app.py` (or `make run`). Offline by default; set ALLOW_NETWORK=1 to opt in to
network-only model variants.
"""
from __future__ import annotations

from core.settings import apply_offline_defaults

apply_offline_defaults()  # before gradio and friends are imported

import gradio as gr  # noqa: E402

from core.registry import EXAMPLES_DIR, TASKS  # noqa: E402
from core.settings import Settings  # noqa: E402

TITLE = "ML Portfolio: try every model"


def build_app() -> gr.Blocks:
    """One tab per registered task (in product order), then the Metrics tab. Loads no model."""
    from demos import metrics as metrics_demo

    specs = sorted(TASKS.values(), key=lambda spec: spec.number)
    tabs = [spec.build_demo() for spec in specs] + [metrics_demo.build()]
    names = [f"{spec.number:02d} {spec.title}" for spec in specs] + ["Metrics"]
    return gr.TabbedInterface(tabs, names, title=TITLE, analytics_enabled=False)


def launch(demo: gr.Blocks, **overrides) -> None:
    """Launch with the project's safety settings (bounded queue, upload limit, no share)."""
    settings = Settings.from_env()
    demo.queue(max_size=settings.queue_max_size, default_concurrency_limit=settings.concurrency_limit)
    options = dict(
        server_name=settings.server_name,
        server_port=settings.server_port,
        share=False,
        max_file_size=settings.max_file_size,
        allowed_paths=[str(EXAMPLES_DIR)],
        show_error=True,
    )
    options.update(overrides)
    demo.launch(**options)


def main() -> None:
    launch(build_app())


if __name__ == "__main__":
    main()
