"""Opt-in variant "hub": a small public pretrained language model from the Hugging Face Hub.

Not shipped, and the app never downloads it. One explicit command installs it into the cache:

    ALLOW_NETWORK=1 .venv/bin/python -m core.tasks.text_generation.hub           # distilgpt2, about 350 MB
    .venv/bin/python -m core.tasks.text_generation.hub --from DIR                # a GPT-2-family folder you have

Only safetensors weights, config.json and tokenizer.json are copied (nothing is unpickled). Until
then the variant is shown as unavailable, with this module's instructions as the reason.
"""
from __future__ import annotations

from pathlib import Path

from core import hub_models
from core.settings import apply_offline_defaults, cache_dir

apply_offline_defaults()

REPO = "distilbert/distilgpt2"  # Apache-2.0, 82 M parameters, GPT-2 architecture and tokenizer
FILES = ("config.json", "model.safetensors", "tokenizer.json")


def hub_dir() -> Path:
    return cache_dir() / "text_generation" / "hub"


def available() -> bool:
    return all((hub_dir() / name).exists() for name in FILES)


def unavailable_reason() -> str:
    return ("The Hub variant (distilgpt2, a public 82 M-parameter GPT-2 pretrained on web text) is not installed on "
            "this machine, and the app does not download anything by itself. To install it once: "
            "`ALLOW_NETWORK=1 .venv/bin/python -m core.tasks.text_generation.hub` (about 350 MB), or `--from DIR` with "
            "a GPT-2-family folder you already have. Meanwhile use the model trained here.")


def fetch(folder: Path) -> Path:
    """Download the three files from the Hub into `folder` (network opt-in)."""
    return hub_models.fetch(REPO, FILES, folder)


def install(source: Path) -> Path:
    """Copy a GPT-2-family model folder (safetensors + config + tokenizer.json) into the cache, atomically;
    it must load as a GPT-2 first."""
    from transformers import GPT2LMHeadModel

    missing = hub_models.missing_files(source, FILES)
    if missing:
        raise SystemExit(f"{source} lacks {', '.join(missing)} (safetensors weights are required).")
    GPT2LMHeadModel.from_pretrained(str(source), use_safetensors=True)  # refuses anything that is not a GPT-2
    return hub_models.copy_into_cache(source, FILES, hub_dir())


def load_model():
    """(model, tokenizer) of the installed Hub variant, from safetensors."""
    from tokenizers import Tokenizer
    from transformers import GPT2LMHeadModel

    model = GPT2LMHeadModel.from_pretrained(str(hub_dir()), use_safetensors=True)
    return model.float().eval(), Tokenizer.from_file(str(hub_dir() / "tokenizer.json"))


def main(argv: list[str] | None = None) -> None:
    hub_models.installer_main(argv, __doc__.split("\n\n")[0], "a GPT-2-family model folder already on this machine",
                              install, fetch, "Hub variant")


if __name__ == "__main__":
    main()
