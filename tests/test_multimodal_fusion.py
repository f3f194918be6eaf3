"""Task 12 (multimodal fusion): data split, pictures, the fusion model's masking, the whole recipe on
a committed 45-emoji copy of the npm data, the served model on the committed examples (unseen test
emoji), its explanations, bad inputs, concurrency, and /fuse through gradio_client."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_task
from core.tasks.multimodal_fusion import data
from core.tasks.multimodal_fusion.data import CATEGORIES, Emoji

FIXTURE_NPM = Path(__file__).parent / "fixtures" / "multimodal_fusion" / "npm"
EXAMPLES = EXAMPLES_DIR / "multimodal_fusion"
MANIFEST = json.loads((EXAMPLES / "examples.json").read_text(encoding="utf-8"))


def _example(caption_start: str) -> dict:
    return next(e for e in MANIFEST if e["caption"].split(" ", 1)[1].startswith(caption_start))


def _emoji(label: str, category: str = "People & Body", subcategory: str = "person-activity") -> Emoji:
    return Emoji(code=label, char="?", label=label, category=category, subcategory=subcategory, texts=(label,),
                 keywords=(), images=("x.png",))


@pytest.fixture(scope="module")
def served():
    from core.tasks.multimodal_fusion.adapter import load

    return load("fusion", get_task("multimodal_fusion").model_dir)


# ----------------------------------------------------------------------------- data
def test_people_who_differ_only_by_who_or_direction_share_a_group():
    names = ["man running", "woman running", "person running", "person running: facing right", "family: man, woman, boy"]
    groups = {_emoji(n).group for n in names[:4]}
    assert len(groups) == 1
    assert _emoji(names[4]).group != _emoji(names[0]).group
    assert _emoji("cow", "Animals & Nature", "animal-mammal").group != _emoji("pig", "Animals & Nature", "animal-mammal").group


def test_the_split_keeps_groups_whole_and_every_category_in_every_split():
    items = [_emoji(f"{who} {verb}", category, f"{category}-sub")
             for category in CATEGORIES for verb in ("a", "b", "c", "d", "e", "f", "g", "h")
             for who in ("man", "woman")]
    parts = data.split(items)
    assert sum(len(p) for p in parts.values()) == len(items)
    where = {}
    for name, part in parts.items():
        for item in part:
            assert where.setdefault(item.group, name) == name  # a group never straddles two splits
    for name in parts:
        assert {i.category for i in parts[name]} == set(CATEGORIES)
    assert data.split(items) == parts  # seeded


def test_the_fixture_loads_with_labels_texts_keywords_and_pictures():
    items = data.load_items(FIXTURE_NPM)
    assert len(items) == 45 and {i.category for i in items} == set(CATEGORIES)
    for item in items:
        assert item.texts[0] == item.label and item.keywords
        assert (data.image_folder(FIXTURE_NPM) / item.images[0]).exists()
    texts = data.training_texts(items[0], np.random.default_rng(0), 8)
    assert texts[: len(items[0].texts)] == list(items[0].texts) and len(texts) <= 8


def test_a_folder_without_the_packages_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="emoji.json"):
        data.load_items(tmp_path)


# ----------------------------------------------------------------------------- pictures
def test_pictures_become_64_px_on_white_whatever_their_shape():
    from core.tasks.multimodal_fusion.pictures import to_model_input

    transparent = Image.new("RGBA", (40, 100), (0, 0, 0, 0))
    transparent.paste((255, 0, 0, 255), (10, 40, 30, 60))
    picture = to_model_input(transparent)
    assert picture.shape == (64, 64, 3) and picture.dtype == np.float32
    assert np.allclose(picture[0, 0], 1.0) and np.allclose(picture[32, 32], [1.0, 0.0, 0.0], atol=0.05)


def test_augmentation_is_seeded_and_stays_in_range():
    import torch

    from core.tasks.multimodal_fusion.pictures import augment, load_rgba

    rgba = torch.from_numpy(np.stack([load_rgba(data.image_folder(FIXTURE_NPM) / i.images[0])
                                      for i in data.load_items(FIXTURE_NPM)[:8]]))
    a = augment(rgba, torch.Generator().manual_seed(3))
    b = augment(rgba, torch.Generator().manual_seed(3))
    c = augment(rgba, torch.Generator().manual_seed(4))
    assert a.shape == (8, 3, 64, 64) and torch.equal(a, b) and not torch.equal(a, c)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0


# ----------------------------------------------------------------------------- model
def test_absent_modalities_get_no_weight_and_cannot_change_the_answer():
    import torch

    from core.tasks.multimodal_fusion.model import FusionModel

    torch.manual_seed(0)
    model = FusionModel().eval()
    n = 7
    present = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=torch.bool)
    image, text, audio = torch.randn(n, 3, 64, 64), torch.randn(n, 384), torch.randn(n, 768)
    with torch.no_grad():
        out = model(image, text, audio, present)
        other = model(torch.randn(n, 3, 64, 64), torch.randn(n, 384), torch.randn(n, 768), present)
    weights = out["weights"]
    assert torch.allclose(weights.sum(1), torch.ones(n)) and bool((weights[~present] == 0).all())
    assert bool((weights[present] > 0).all())
    # the image-only row does not move when only text and audio change, and so on
    with torch.no_grad():
        same_image = model(image, torch.randn(n, 384), torch.randn(n, 768), present)
    assert torch.allclose(out["logits"][0], same_image["logits"][0])
    assert not torch.allclose(out["logits"][6], other["logits"][6])


# ----------------------------------------------------------------------------- the whole recipe
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """The whole recipe (speech synthesis, both encoders, training, evaluation, card) on the fixture."""
    from core.tasks.multimodal_fusion.train import train

    root = tmp_path_factory.mktemp("fusion")
    npm = root / "npm"
    import shutil

    shutil.copytree(FIXTURE_NPM, npm)
    metrics = train(root / "models" / "multimodal_fusion", root / "cards" / "multimodal_fusion", quick=True, data_dir=npm)
    return root, metrics


def test_quick_training_exports_safetensors_and_writes_an_honest_card(quick_run):
    root, metrics = quick_run
    out = root / "models" / "multimodal_fusion"
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "fusion.safetensors", "fusion_config.json"]
    block = metrics["variants"]["fusion"]
    assert block["data"]["splits"] == {"train": 27, "validation": 9, "test": 9}
    assert sum(map(sum, block["confusion_matrix"]["matrix"])) == 18  # 9 test emoji x 2 spoken clips
    for subset in ("image", "text", "audio", "image_text", "image_audio", "text_audio"):
        assert 0 <= block["metrics"][f"accuracy_{subset}"] <= 1
    assert block["metrics"]["fusion_gain_low"] <= block["metrics"]["fusion_gain"] <= block["metrics"]["fusion_gain_high"]
    voices = block["data"]["voices"]
    assert not set(voices["test"]) & set(voices["train"])
    card = (root / "cards" / "multimodal_fusion" / "README.md").read_text()
    assert "Quick smoke run" in card and "Synthetic speech" in card and "unseen in every modality" in card
    for figure in metrics["figures"]:
        assert (root / "cards" / "multimodal_fusion" / figure).stat().st_size > 1000


def test_the_evaluation_scores_what_the_app_serves(quick_run, tmp_path):
    """A test sample's stored vectors (the evaluation's path) and the adapter reading the emoji's
    picture file, its label and a WAV of its spoken clip (the app's path) give the same probabilities."""
    from core.tasks.multimodal_fusion.adapter import load
    from core.tasks.multimodal_fusion.corpus import build, spoken_clips
    from core.tasks.multimodal_fusion.train import evaluation_inputs

    root, _ = quick_run
    served = load("fusion", root / "models" / "multimodal_fusion")
    test = build(quick=True, folder=root / "npm")["test"]
    inputs = evaluation_inputs(test)
    k = 0
    item = test.items[inputs["items"][k]]
    picture, clip = tmp_path / "emoji.png", tmp_path / "said.wav"
    Image.open(data.image_folder(root / "npm") / item.images[0]).save(picture)
    said, _, speech = spoken_clips("test", item)[0]
    soundfile.write(clip, speech, 16_000, subtype="FLOAT")
    stored, _ = served.probabilities(inputs["pictures"][k:k + 1].transpose(0, 2, 3, 1), inputs["text"][k:k + 1],
                                     inputs["audio"][k:k + 1], np.ones((1, 3), bool))
    from_files = served.fuse(str(picture), said, str(clip))
    scores = {p["label"]: p["score"] for p in from_files["predictions"]}
    assert np.allclose([scores[c] for c in CATEGORIES], stored[0], atol=2e-3)


# ----------------------------------------------------------------------------- the served model
def test_the_examples_are_unseen_emoji_and_their_files_are_there():
    assert len(MANIFEST) >= 4
    for entry in MANIFEST:
        assert entry["category"] in CATEGORIES and entry["inputs"]
        for key in ("image", "audio"):
            if key in entry["inputs"]:
                assert (EXAMPLES / entry[key]).stat().st_size > 500


def test_all_three_inputs_give_categories_weights_ablation_and_explanations(served):
    entry = _example("all three")
    result = served.fuse(str(EXAMPLES / entry["image"]), entry["text"], str(EXAMPLES / entry["audio"]))
    assert result["predictions"][0]["label"] == entry["category"]
    assert [p["label"] for p in result["predictions"]] and sorted(p["label"] for p in result["predictions"]) == sorted(CATEGORIES)
    assert np.isclose(sum(p["score"] for p in result["predictions"]), 1, atol=1e-3)
    assert result["inputs"] == ["image", "text", "audio"]
    assert np.isclose(sum(result["modality_weights"].values()), 1, atol=1e-3)
    assert set(result["ablation"]) == {"image", "text", "audio"}
    for modality, entry_ in result["ablation"].items():
        assert entry_["removed"] == modality and entry_["predictions"]
    assert np.array(result["explanations"]["image"]["grid"]).shape == (8, 8)
    assert [w["token"] for w in result["explanations"]["text"]] == entry["text"].split() or len(entry["text"].split()) == 1
    bands = result["explanations"]["audio"]
    assert bands and all(b["end"] > b["start"] for b in bands)


def test_any_single_input_works_and_absent_ones_weigh_nothing(served):
    picture_only = served.fuse(str(EXAMPLES / _example("picture only")["image"]))
    assert picture_only["inputs"] == ["image"] and picture_only["ablation"] == {}
    assert picture_only["modality_weights"] == {"image": 1.0, "text": 0.0, "audio": 0.0}
    assert picture_only["predictions"][0]["label"] == "Flags"
    spoken = _example("spoken only")
    audio_only = served.fuse(None, "", str(EXAMPLES / spoken["audio"]))
    assert audio_only["inputs"] == ["audio"] and audio_only["modality_weights"]["audio"] == 1.0
    assert audio_only["predictions"][0]["label"] == spoken["category"]
    text_only = served.fuse(text="a red racing car")
    assert text_only["inputs"] == ["text"] and text_only["predictions"][0]["label"] == "Travel & Places"


def test_removing_a_modality_reports_what_the_rest_would_say(served):
    entry = _example("picture + text")
    result = served.fuse(str(EXAMPLES / entry["image"]), entry["text"])
    top = result["predictions"][0]
    for modality in ("image", "text"):
        alone = result["single_modality"]["text" if modality == "image" else "image"]
        without = result["ablation"][modality]
        assert without["label"] == alone["label"] and np.isclose(without["score"], alone["score"], atol=1e-4)
        assert np.isclose(without["confidence_drop"], top["score"] - alone["score_of_fused_label"], atol=2e-4)


def test_bad_inputs_get_clear_messages(served, tmp_path):
    with pytest.raises(InputError, match="at least one input"):
        served.fuse()
    with pytest.raises(InputError, match="at least one input"):
        served.fuse(None, "   ", None)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("this is not a picture")
    with pytest.raises(InputError, match="image"):
        served.fuse(str(not_an_image))
    flat = tmp_path / "flat.png"
    Image.new("RGB", (50, 50), (40, 90, 200)).save(flat)
    with pytest.raises(InputError, match="flat colour"):
        served.fuse(str(flat))
    silence = tmp_path / "silence.wav"
    soundfile.write(silence, np.zeros(16_000, np.float32), 16_000)
    with pytest.raises(InputError, match="silent"):
        served.fuse(text="cat", audio=str(silence))
    with pytest.raises(InputError, match="binary"):
        served.fuse(text="\x00\x01\x02 binary")
    long = served.fuse(text="a red apple " * 30)
    assert any("first 48 tokens" in note for note in long["notes"]) and long["explanations"]["text"] == []


def test_concurrent_requests_with_grad_cam_get_the_answers_they_would_get_alone(served):
    rows = [(str(EXAMPLES / e["image"]), e.get("text"), None) for e in MANIFEST if e.get("image")]
    alone = [served.fuse(*row) for row in rows]
    results: dict[int, dict] = {}

    def worker(k: int) -> None:
        results[k] = served.fuse(*rows[k % len(rows)])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3 * len(rows))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k, result in results.items():
        expected = alone[k % len(rows)]
        assert result["predictions"] == expected["predictions"]
        assert result["explanations"]["image"] == expected["explanations"]["image"]


def test_the_shipped_card_shows_fusion_beating_every_single_modality():
    from core.artifacts import load_metrics

    metrics = load_metrics(get_task("multimodal_fusion").card_dir)
    block = metrics["variants"]["fusion"]["metrics"]
    best_single = max(block["accuracy_image"], block["accuracy_text"], block["accuracy_audio"])
    assert not metrics["quick"] and block["accuracy"] > best_single
    assert block["fusion_gain_low"] > 0  # the gain's bootstrap interval excludes zero
    assert metrics["variants"]["fusion"]["model"]["size_mb"] < 10


# ----------------------------------------------------------------------------- the API
def test_api_fuse_returns_predictions_weights_and_ablation(client):
    from gradio_client import handle_file

    entry = _example("all three")
    *_, result = client.predict(image=handle_file(str(EXAMPLES / entry["image"])), text=entry["text"],
                                audio=handle_file(str(EXAMPLES / entry["audio"])), api_name="/fuse")
    assert result["predictions"][0]["label"] == entry["category"]
    assert set(result["modality_weights"]) == {"image", "text", "audio"} and set(result["ablation"]) == {"image", "text", "audio"}
    *_, text_only = client.predict(text="grinning face", api_name="/fuse")
    assert text_only["inputs"] == ["text"] and text_only["predictions"][0]["label"] == "Smileys & Emotion"


def test_api_fuse_refuses_no_input_and_keeps_serving(client, tmp_path):
    from gradio_client import handle_file

    with pytest.raises(Exception, match="at least one input"):
        client.predict(api_name="/fuse")
    text = tmp_path / "x.wav"
    text.write_text("not audio at all")
    with pytest.raises(Exception, match="(?i)audio"):
        client.predict(text="cat", audio=handle_file(str(text)), api_name="/fuse")
    *_, result = client.predict(text="a slice of pizza", api_name="/fuse")
    assert result["predictions"][0]["label"] == "Food & Drink"
