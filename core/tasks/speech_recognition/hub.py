"""Opt-in variant "hub": a larger Whisper from the Hugging Face Hub, in CTranslate2 format.

Not shipped, and the app never downloads it. One explicit command installs it into the cache:

    ALLOW_NETWORK=1 .venv/bin/python -m core.tasks.speech_recognition.hub      # Systran/faster-whisper-base.en, ~145 MB
    .venv/bin/python -m core.tasks.speech_recognition.hub --from DIR           # a CTranslate2 Whisper folder you have

Only the four files of a CTranslate2 Whisper are copied (config.json, model.bin, tokenizer.json,
vocabulary.txt; CTranslate2's own format, nothing is unpickled), after checking that faster-whisper
loads them. Until then the variant is shown as unavailable, with this command as the reason.
"""
from __future__ import annotations

from pathlib import Path

from core import hub_models
from core.settings import apply_offline_defaults, cache_dir

apply_offline_defaults()

REPO = "Systran/faster-whisper-base.en"  # MIT (OpenAI Whisper weights), 74 M parameters, English only
FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
COMMAND = "ALLOW_NETWORK=1 .venv/bin/python -m core.tasks.speech_recognition.hub"


def hub_dir() -> Path:
    return cache_dir() / "speech_recognition" / "hub"


def available() -> bool:
    return all((hub_dir() / name).exists() for name in FILES)


def unavailable_reason() -> str:
    return ("The Hub engine (Whisper base.en, 74 M parameters: more accurate than tiny.en, and about twice as "
            "slow) is not installed on this machine, and the app does not download anything by itself. To install it "
            f"once: `{COMMAND}` (about 145 MB), or `--from DIR` with a CTranslate2 Whisper folder you already have. "
            "Meanwhile use Whisper tiny.en or PocketSphinx.")


def fetch(folder: Path) -> Path:
    """Download the four files from the Hub into `folder` (network opt-in)."""
    return hub_models.fetch(REPO, FILES, folder)


def install(source: Path) -> Path:
    """Copy a CTranslate2 Whisper folder into the cache, atomically, once faster-whisper has loaded it."""
    from faster_whisper import WhisperModel

    source = Path(source)
    missing = hub_models.missing_files(source, FILES)
    if missing:
        raise SystemExit(f"{source} lacks {', '.join(missing)}: it is not a CTranslate2 Whisper folder "
                         "(convert one with ct2-transformers-converter, or use faster-whisper's models).")
    try:
        WhisperModel(str(source), device="cpu", compute_type="int8", cpu_threads=1)
    except Exception as exc:  # noqa: BLE001 - CTranslate2 raises several types for a bad model.bin
        raise SystemExit(f"{source} does not load as a CTranslate2 Whisper model: {exc}") from exc
    return hub_models.copy_into_cache(source, FILES, hub_dir())


def main(argv: list[str] | None = None) -> None:
    hub_models.installer_main(argv, __doc__.split("\n\n")[0], "a CTranslate2 Whisper folder already on this machine",
                              install, fetch, "Hub engine")


if __name__ == "__main__":
    main()
