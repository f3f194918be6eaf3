"""A bare Gradio app for the load benchmark's baseline: the same input components as one endpoint
of the real app, the same queue and upload settings, and a function that does nothing heavy.

`benchmarks/load.py` starts it by itself; to serve it by hand:

    GRADIO_SERVER_PORT=7861 python benchmarks/bare_app.py --serve --like /classify_image

Without `--serve` it prints this note and exits (so `make benchmark`, which runs every
benchmarks/*.py with no arguments, does not block on it).

How it mirrors the real app:
- inputs: it builds the real app's Blocks (`app.build_app()`, which loads no model), finds the
  endpoint by api_name and re-creates each input component from its own config (same class, same
  `type`, `format`...), so uploads are preprocessed exactly as in the real app;
- the endpoint keeps the real one's api_name, concurrency_limit and queue flag;
- it launches through the real `app.launch()`, i.e. the same `core.settings.Settings` (queue
  max_size, default concurrency limit, max_file_size, server name/port from GRADIO_SERVER_PORT).
The output is one gr.JSON: {"ok": true, "n_inputs": ..., "path_len": ...}.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import app as real_app  # noqa: E402  (applies the offline defaults before gradio is imported)
import gradio as gr  # noqa: E402
from gradio.components import Component  # noqa: E402


def find_endpoint(demo: gr.Blocks, api_name: str) -> Any:
    """The real app's BlockFunction serving `api_name` (leading slash optional)."""
    name = api_name.lstrip("/")
    for fn in demo.fns.values():
        if fn.api_name == name:
            return fn
    known = sorted(str(fn.api_name) for fn in demo.fns.values() if fn.api_name)
    raise SystemExit(f"bare_app: no endpoint /{name} in the real app; known: {', '.join(known)}")


def clone_component(component: Component) -> Component:
    """A fresh, unrendered component of the same class built from the original's config."""
    kwargs = component.recover_kwargs(component.get_config())
    return type(component)(**kwargs)


def bare_fn(*args: Any) -> dict[str, Any]:
    """Does nothing heavy: reports what it received."""
    first = args[0] if args else None
    return {"ok": True, "n_inputs": len(args), "path_len": len(first) if isinstance(first, str) else None}


def build_bare(api_name: str) -> gr.Blocks:
    """Blocks with clones of the endpoint's inputs, one JSON output, same api_name and limits."""
    endpoint = find_endpoint(real_app.build_app(), api_name)
    with gr.Blocks(analytics_enabled=False, title="bare benchmark app") as demo:
        inputs = [clone_component(c) for c in endpoint.inputs]  # rendered here by the context
        output = gr.JSON(label="bare result")
        button = gr.Button("Run")
        button.click(bare_fn, inputs, output, api_name=endpoint.api_name,
                     concurrency_limit=endpoint.concurrency_limit, queue=endpoint.queue)
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="build and serve the bare app (blocks until stopped)")
    parser.add_argument("--like", default="/classify_image", help="endpoint of the real app to mirror")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.serve:
        print("bare_app.py: baseline server for benchmarks/load.py; nothing to measure on its own. "
              "Serve it with --serve [--like /classify_image].")
        return
    demo = build_bare(args.like)
    real_app.launch(demo)


if __name__ == "__main__":
    main()
