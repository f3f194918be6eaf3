"""Task 06: Apertium routes (on a fake mode graph) and calls, language detection, the limits of
/translate, the neural model's quick training, export and loading, and the API.

Tests that run Apertium need its Debian packages (packages.txt): they are skipped without them,
except under DATASETS_REQUIRED=1 (CI installs packages.txt), where they fail instead."""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from core.errors import InputError
from core.tasks.machine_translation.adapter import DIFF_LABELS, Neural, round_trip_chrf, translate, word_diff
from core.tasks.machine_translation.apertium import (Apertium, ApertiumMissing, clean, find_route, installed_pairs,
                                                     parse_modes, route_text)
from core.tasks.machine_translation.corpus import sample_pairs, sentences
from core.tasks.machine_translation.detect import detect
from core.tasks.machine_translation.train import QUICK, batch_indices, fit

APERTIUM_MISSING = "needs Apertium and its pairs (apt-get install the apertium-* lines of packages.txt)"
# the installed modes of a full install (names as `apertium -l` prints them), variants included
MODES = ["cat-eng", "cat-eng_US", "cat-fra", "eco-es-fr", "en-eo", "en-eo-bytecode", "en-gl", "eng-cat",
         "eng-cat_valencia", "eng-spa", "eo-en", "es-fr", "es-oc", "es-oc_aran", "es-pt", "es-pt_BR", "fr-es",
         "fra-cat", "gl-en", "ita-spa", "oc-es", "pt-es", "ro-es", "spa-eng", "spa-ita"]


@pytest.fixture
def requires_apertium() -> None:
    if ("en", "es") in installed_pairs():
        return
    if os.environ.get("DATASETS_REQUIRED") == "1":
        pytest.fail(f"DATASETS_REQUIRED=1 but Apertium is missing: {APERTIUM_MISSING}", pytrace=False)
    pytest.skip(APERTIUM_MISSING)


class FakeApertium:
    """An Apertium engine whose "translation" tags the text with each hop (no subprocess)."""

    name = "apertium"

    def __init__(self, available: bool = True) -> None:
        self.engine = Apertium(parse_modes(MODES) if available else {})

    @property
    def available(self) -> bool:
        return bool(self.engine.pairs)

    def translate(self, text, source, target):
        hops = self.engine.route(source, target)
        return f"[{route_text(hops)}] {text}", hops


class FakeNeural(Neural):
    def __init__(self) -> None:
        self.calls = 0

    def translate(self, text, source, target):
        self.check_pair(source, target)
        self.calls += 1
        from core.tasks.machine_translation.apertium import Hop

        return text, [Hop(source, target, "neural")]


def engines(apertium: bool = True):
    made = {"apertium": FakeApertium(apertium), "neural": FakeNeural()}
    return made.__getitem__


# ----------------------------------------------------------------------------- routes

def test_modes_map_to_iso_codes_and_variants_are_left_out():
    pairs = parse_modes(MODES)
    assert pairs[("en", "es")] == "eng-spa" and pairs[("gl", "en")] == "gl-en" and pairs[("it", "es")] == "ita-spa"
    assert "es-pt_BR" not in pairs.values() and "en-eo-bytecode" not in pairs.values()
    assert ("es", "ro") not in pairs and ("ro", "es") in pairs
    assert len(pairs) == 19


@pytest.mark.parametrize("source, target, route", [
    ("en", "es", "en → es"),             # direct
    ("en", "pt", "en → es → pt"),        # one pivot
    ("gl", "it", "gl → en → es → it"),   # two pivots
    ("ro", "en", "ro → es → en"),
    ("en", "fr", "en → es → fr"),        # as short as en → ca → fr: Spanish is the preferred pivot
    ("ca", "fr", "ca → fr"),
])
def test_route_is_the_shortest_chain_of_installed_pairs(source, target, route):
    assert route_text(find_route(parse_modes(MODES), source, target)) == route


def test_no_route_is_an_error_that_lists_the_pairs():
    pairs = parse_modes(MODES)
    assert find_route(pairs, "es", "ro") is None
    assert find_route({("a", "b"): "a-b", ("b", "c"): "b-c"}, "c", "a") is None
    with pytest.raises(InputError, match="nothing is translated into Romanian.*Installed pairs: en → es, ca, gl, eo"):
        Apertium(pairs).route("en", "ro")


def test_apertium_debugging_marks_and_doubled_spaces_are_removed():
    assert clean("Sí,  era #grande @ayer e-mail a@b.com  \n") == "Sí, era grande ayer e-mail a@b.com  \n"


# ----------------------------------------------------------------------------- Apertium itself

@pytest.mark.usefixtures("requires_apertium")
def test_apertium_translates_directly_and_through_a_pivot():
    apertium = Apertium()
    text, hops = apertium.translate("The whale is big.", "en", "es")
    assert "ballena" in text.lower() and [h.mode for h in hops] == ["eng-spa"]
    text, hops = apertium.translate("The whale is big.\nThe sea is blue.", "en", "pt")
    assert route_text(hops) == "en → es → pt" and "baleia" in text.lower() and len(text.split("\n")) == 2


@pytest.mark.usefixtures("requires_apertium")
def test_batch_translation_keeps_one_line_per_sentence():
    from core.tasks.machine_translation.apertium import translate_lines

    lines = ["I like big whales.", "Where is the ship?", "Call me Ishmael."]
    out = translate_lines("eng-spa", lines, chunk=2)
    assert len(out) == 3 and out == [Apertium().translate(line, "en", "es")[0].strip() for line in lines]


# ----------------------------------------------------------------------------- detection

@pytest.mark.parametrize("text, language", [
    ("The committee will meet again next week to discuss the budget.", "en"),
    ("¿Dónde está la estación de tren más cercana?", "es"),
    ("Bonjour, je voudrais réserver une table pour ce soir.", "fr"),
    ("Bună ziua, ce mai faceți astăzi?", "ro"),
])
def test_detection_names_the_language_with_a_confidence(text, language):
    found = detect(text)
    assert found.language == language and 0.5 <= found.confidence <= 1 and not found.unsure
    assert len(found.alternatives) == 2 and all(p <= found.confidence for _, p in found.alternatives)


def test_detection_says_when_it_is_unsure():
    found = detect("ok")
    assert found.unsure and "unsure" in found.describe()


# ----------------------------------------------------------------------------- /translate logic and limits

def test_a_translation_has_route_back_translation_and_round_trip_score():
    result = translate("The committee will meet again next week.", "auto", "pt", "apertium", engines())
    assert result["source"] == "en" and result["detected"]["language"] == "en" and result["detected"]["confidence"] > 0.5
    assert result["route"] == "en → es → pt" and result["back_route"] == "pt → es → en"
    assert result["translation"].startswith("[en → es → pt]") and result["back_translation"].startswith("[pt → es → en]")
    assert 0 < result["round_trip_chrf"] <= 100 and result["engine"] == "apertium" and result["latency_ms"] > 0
    assert json.loads(json.dumps(result)) == result


def test_no_route_back_gives_a_translation_without_round_trip():
    result = translate("Bună ziua, ce mai faceți astăzi?", "auto", "en", "apertium", engines())
    assert result["route"] == "ro → es → en" and result["back_translation"] is None and result["round_trip_chrf"] is None
    assert any("No back-translation" in note and "Romanian" in note for note in result["notes"])


@pytest.mark.parametrize("text, source, target, engine, message", [
    ("", "auto", "es", "auto", "empty"),
    ("   \n", "en", "es", "auto", "empty"),
    ("\x00\x01\x02binary\x00", "en", "es", "auto", "binary"),
    ("Hello there, my friend.", "xx", "es", "auto", "Unknown source language 'xx'"),
    ("Hello there, my friend.", "en", "de", "auto", "Unknown target language 'de'.*es \\(Spanish\\)"),
    ("Hello there, my friend.", "en", "es", "google", "Unknown engine"),
    ("Hello there, my friend.", "en", "en", "auto", "both English"),
    ("The committee will meet again next week to discuss it.", "auto", "en", "auto", "already looks like English"),
    ("Hello there, my friend.", "en", "ro", "apertium", "nothing is translated into Romanian"),
    ("Bonjour, je voudrais une table.", "fr", "en", "neural", "English ↔ Spanish only.*Apertium"),
])
def test_limits_get_clear_messages(text, source, target, engine, message):
    with pytest.raises(InputError, match=message):
        translate(text, source, target, engine, engines())


def test_long_text_is_truncated_and_the_result_says_so(monkeypatch):
    monkeypatch.setenv("MAX_TEXT_CHARS", "100")
    result = translate("The whale is big. " * 20, "en", "es", "apertium", engines())
    assert result["truncated"] and result["characters"] == 100 and result["original_characters"] == 360
    assert any("first 100 of 360 characters" in note for note in result["notes"])


def test_without_apertium_auto_falls_back_to_neural_and_apertium_says_what_to_do():
    result = translate("The whale is big and the sea is blue.", "auto", "es", "auto", engines(apertium=False))
    assert result["engine"] == "neural" and any("not installed" in note for note in result["notes"])
    with pytest.raises(ApertiumMissing, match="not installed.*Choose the Neural engine"):
        translate("The whale is big and the sea is blue.", "en", "es", "apertium", engines(apertium=False))
    with pytest.raises(ApertiumMissing, match="not installed"):
        translate("Bonjour, je voudrais une table pour ce soir.", "auto", "es", "auto", engines(apertium=False))


def test_word_diff_marks_what_the_round_trip_changed():
    diff = word_diff("The whale is very big.", "The whale is large.")
    assert [text for text, _ in diff if _ is None] == ["The whale is "]
    assert ("very big. ", DIFF_LABELS[0]) in diff and ("large. ", DIFF_LABELS[1]) in diff
    assert round_trip_chrf("The whale is big.", "The whale is big.") == 100.0
    assert round_trip_chrf("The whale is big.", "Completely unrelated words here") < 30


# ----------------------------------------------------------------------------- the neural model

def test_sentences_are_cut_at_sentence_ends_and_filtered():
    text = "Call me Ishmael. Some years ago, never mind how long, I went to sea! Yes. \"Is it so?\" He asked me twice."
    assert sentences(text) == ["Some years ago, never mind how long, I went to sea!", "He asked me twice."]


def test_batches_are_reproducible_and_grouped_by_length():
    lengths = np.random.default_rng(0).integers(5, 90, size=1000)
    first = batch_indices(1000, lengths, 8, step=37)
    assert np.array_equal(first, batch_indices(1000, lengths, 8, step=37))  # a resumed run draws the same batch
    assert not np.array_equal(first, batch_indices(1000, lengths, 8, step=38))
    assert np.ptp(lengths[first]) < np.ptp(lengths)  # similar lengths together: less padding


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("mt")
    return fit(QUICK, root=root, corpus=sample_pairs())


def test_quick_training_logs_checkpoints_and_resumes(tiny_run):
    history = json.loads((tiny_run / "history.json").read_text())
    assert [row["step"] for row in history] == [3, 6]
    assert history[-1]["val_loss"] < np.log(QUICK.vocab_size) + 1 and {"chrf_en_es", "bleu_es_en"} <= set(history[-1])
    assert "step 6/6" in (tiny_run / "train.log").read_text()
    assert fit(QUICK, root=tiny_run.parent, resume=True, corpus=sample_pairs()) == tiny_run  # finished: no more steps
    assert json.loads((tiny_run / "history.json").read_text()) == history


@pytest.fixture(scope="module")
def tiny_model(tiny_run):
    from core.tasks.machine_translation.adapter import load
    from core.tasks.machine_translation.evaluate import export

    return load("neural", export(tiny_run, tiny_run / "model"))


def test_export_loads_back_without_pickles_and_is_evaluated(tiny_run, tiny_model):
    from core.tasks.machine_translation.evaluate import evaluate

    model_dir = tiny_run / "model"
    assert sorted(p.name for p in model_dir.iterdir()) == ["config.json", "marian_en_es.safetensors", "tokenizer.json"]
    model = tiny_model.model
    assert model.get_input_embeddings().weight.data_ptr() == model.get_output_embeddings().weight.data_ptr()
    result = evaluate(tiny_run, model_dir, sample_pairs()["test"][:6], quick=True)
    assert set(result["metrics"]) == {"bleu_en_es", "chrf_en_es", "bleu_es_en", "chrf_es_en", "round_trip_chrf",
                                      "apertium_round_trip_chrf"}
    assert all(0 <= v <= 100 for v in result["metrics"].values()) and len(result["sentences"]) == 6


def test_neural_engine_keeps_lines_and_is_the_same_in_parallel(tiny_model):
    text = "The whale is big.\n\nWhere is the ship? Call me Ishmael."
    alone, hops = tiny_model.translate(text, "en", "es")
    assert len(alone.split("\n")) == 3 and alone.split("\n")[1] == "" and hops[0].mode == "neural"
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: tiny_model.translate(text, "en", "es")[0], range(8)))
    assert together == [alone] * 8
    with pytest.raises(InputError, match="English ↔ Spanish only"):
        tiny_model.translate(text, "en", "fr")


# ----------------------------------------------------------------------------- API (the shipped model)

def test_api_translate_returns_the_whole_result(client):
    translation, diff, summary, result = client.predict(text="The whale is big and the sea is blue.", target="es",
                                                        engine="neural", api_name="/translate")
    assert result["engine"] == "neural" and result["route"] == "en → es" and result["translation"] == translation
    assert result["detected"]["language"] == "en" and result["back_translation"] and result["round_trip_chrf"] is not None
    assert result["model"] == "machine_translation/neural" and result["latency_ms"] > 0


@pytest.mark.usefixtures("requires_apertium")
def test_api_translate_with_apertium_and_a_pivot(client):
    result = client.predict(text="The whale is big and the sea is blue.", target="pt", api_name="/translate")[-1]
    assert result["engine"] == "apertium" and result["route"] == "en → es → pt" and "baleia" in result["translation"]
    assert result["back_route"] == "pt → es → en" and 0 < result["round_trip_chrf"] <= 100


def test_api_limits_are_clear_errors(client):
    with pytest.raises(Exception, match="empty"):
        client.predict(text="  ", api_name="/translate")
    with pytest.raises(Exception, match="both Spanish"):
        client.predict(text="Hola amigo", source="es", target="es", api_name="/translate")
    with pytest.raises(Exception, match="English ↔ Spanish only"):
        client.predict(text="Bonjour mes amis", source="fr", target="en", engine="neural", api_name="/translate")
