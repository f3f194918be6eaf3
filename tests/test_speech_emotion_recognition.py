"""Task 07: the eSpeak NG binding and the synthetic corpus (deterministic, prosody per emotion, split
by voice), the features, the RAVDESS / CREMA-D / TESS loaders on fake trees, both models as served
(the baseline against scikit-learn, the CNN's distribution and timeline), the audio limits, a quick
training run, and /recognize_emotion through gradio_client. Runs on the committed example clips
(assets/examples/speech_emotion_recognition/) and on audio generated here."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import soundfile

from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_model
from core.tasks.speech_emotion_recognition import corpus, features
from core.tasks.speech_emotion_recognition.corpus import EMOTIONS

FIXTURES = EXAMPLES_DIR / "speech_emotion_recognition"
RATE = features.SAMPLE_RATE


def _write(path, samples, rate=RATE):
    soundfile.write(str(path), samples, rate, subtype="PCM_16")
    return path


def _yin_median(samples: np.ndarray) -> float:
    import librosa

    f0 = librosa.yin(samples, fmin=65, fmax=500, sr=RATE, frame_length=1024, hop_length=256)
    return float(np.median(f0[(f0 > 70) & (f0 < 480)]))


# ----------------------------------------------------------------------------- synthesis and corpus

def test_espeak_is_deterministic_in_any_order_and_speaks_at_its_own_rate():
    from core.tasks.speech_emotion_recognition.espeak import Prosody, sample_rate, synthesize

    first, rate = synthesize("The sea was calm.", "en-us+f3")
    synthesize("Something else entirely, said by another voice.", "en-gb-scotland+m3", Prosody(pitch=80))
    again, _ = synthesize("The sea was calm.", "en-us+f3")
    assert rate == sample_rate() == 22_050
    assert np.array_equal(first, again)  # the library's static state does not leak between utterances
    assert 0.5 < len(first) / rate < 3 and 0.05 < np.abs(first).max() <= 1
    slow, _ = synthesize("The sea was calm.", "en-us+f3", Prosody(rate=100))
    assert len(slow) > 1.4 * len(first)


def test_each_clip_is_rendered_the_same_way_every_time_as_a_three_second_window():
    spec = corpus.plan("train", 5)[3]
    window, meta = corpus.render(spec)
    again, _ = corpus.render(spec)
    assert window.dtype == np.float32 and window.shape == (features.WINDOW_SAMPLES,)
    assert np.array_equal(window, again) and np.abs(window).max() <= 1
    assert meta["emotion"] == spec.emotion and meta["voice"] in corpus.voice_split()["train"]
    assert corpus.plan("train", 5) == corpus.plan("train", 5)  # the plan is seeded too


def test_a_changed_spec_changes_the_clip():
    spec = corpus.plan("validation", 2)[0]
    other = dataclasses.replace(spec, emotion="sad" if spec.emotion != "sad" else "happy")
    assert not np.array_equal(corpus.render(spec)[0], corpus.render(other)[0])


def test_emotion_profiles_change_pitch_and_speaking_rate_as_intended():
    """Same voices and sentences, five emotions: sad is lower and slower than neutral, fearful and happy
    higher, fearful faster (medians over a few voices, so one odd clip cannot decide)."""
    voices = ("m3", "f2", "Mike")
    pitch, length = {}, {}
    for emotion in EMOTIONS:
        clips = [corpus.speech(corpus.ClipSpec(i, "train", emotion, voice, "en-us", "The old ship sailed on across the "
                                               "quiet grey water.", seed=100 + i))[0]
                 for i, voice in enumerate(voices)]
        assert all(c.dtype == np.float32 and c.ndim == 1 for c in clips)
        pitch[emotion] = np.median([_yin_median(c) for c in clips])
        length[emotion] = np.median([len(c) / RATE for c in clips])
    assert pitch["sad"] < pitch["neutral"] < pitch["happy"] and pitch["neutral"] < pitch["fearful"]
    assert length["sad"] > length["neutral"] > length["fearful"]


def test_voices_and_sentences_never_cross_splits():
    from core.tasks.speech_emotion_recognition.sentences import is_speakable, load

    split = corpus.voice_split()
    assert not set(split["train"]) & set(split["test"]) and not set(split["train"]) & set(split["validation"])
    assert not set(split["validation"]) & set(split["test"])
    assert set(split["train"]) | set(split["validation"]) | set(split["test"]) == set(corpus.FEMALE) | set(corpus.MALE)
    for voices in split.values():  # both genders everywhere
        assert set(voices) & set(corpus.FEMALE) and set(voices) & set(corpus.MALE)
    sentences = load()
    assert not set(sentences["train"]) & (set(sentences["validation"]) | set(sentences["test"]))
    assert all(is_speakable(s) for part in sentences.values() for s in part)
    plans = {name: corpus.plan(name, 40) for name in split}
    for name, specs in plans.items():
        assert {s.voice for s in specs} <= set(split[name]) and {s.sentence for s in specs} <= set(sentences[name])
        assert [sum(s.emotion == e for s in specs) for e in EMOTIONS] == [8] * 5  # balanced


def test_sentence_filter_keeps_short_plain_prose_only():
    from core.tasks.speech_emotion_recognition.sentences import is_speakable

    assert is_speakable("The sea was calm and grey.")
    assert not is_speakable("Adams, and Mr.")  # a sentence cut at an abbreviation
    assert not is_speakable("Chapter Twelve.") and not is_speakable("He paid 300 dollars.")
    assert not is_speakable("Go.") and not is_speakable(" ".join(["word"] * 14) + ".")


def test_augmentations_keep_length_and_do_what_they_say():
    from core.tasks.speech_emotion_recognition import augment

    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    noisy = augment.add_noise(tone, rng, snr_db=10)
    snr = 10 * np.log10(np.mean(tone ** 2) / np.mean((noisy - tone) ** 2))
    assert snr == pytest.approx(10, abs=0.5)
    room = augment.reverberate(tone, rng, rt60=0.5, rate=RATE)
    assert room.shape == tone.shape and np.sqrt(np.mean(room ** 2)) == pytest.approx(np.sqrt(np.mean(tone ** 2)), rel=1e-3)
    ir = augment.impulse_response(rng, 0.5, RATE)
    tail = ir[int(0.1 * RATE):]
    assert np.abs(tail[: 800]).mean() > 5 * np.abs(tail[-800:]).mean()  # it decays
    assert len(augment.change_speed(tone, 1.25)) == pytest.approx(RATE / 1.25, abs=2)


# ----------------------------------------------------------------------------- features

def test_feature_shapes_and_level_invariance():
    samples, _ = soundfile.read(FIXTURES / "angry.wav", dtype="float32")
    chunk = features.analysis_windows(samples)
    assert len(chunk) == 1 and chunk[0][2].shape == (features.WINDOW_SAMPLES,)
    mel = features.log_mel(np.stack([chunk[0][2], 0.05 * chunk[0][2]]))
    assert mel.shape == (2, features.N_MELS, features.FRAMES) and mel.dtype == np.float32
    assert mel.max() == pytest.approx(1.0) and mel.min() >= -1.0
    assert np.abs(mel[0] - mel[1]).max() < 1e-3  # a quieter recording gives the same input
    stats = features.prosodic_stats(chunk[0][2])
    assert stats.shape == (len(features.STAT_NAMES),) and np.isfinite(stats).all()
    assert np.allclose(stats, features.prosodic_stats(0.05 * chunk[0][2]), rtol=1e-3, atol=1e-3)


def test_windows_cover_a_long_recording_and_centre_a_short_one():
    long = np.random.default_rng(0).normal(0, 0.1, int(7.3 * RATE)).astype(np.float32)
    chunk = features.windows(long)
    starts = [a for a, _, _ in chunk]
    assert starts[0] == 0 and chunk[-1][1] == pytest.approx(7.3) and np.allclose(np.diff(starts[:-1]), 1.0)
    covered = np.zeros(len(long), bool)
    for a, _, w in chunk:
        covered[int(round(a * RATE)):int(round(a * RATE)) + len(w)] = True
        assert len(w) == features.WINDOW_SAMPLES
    assert covered.all()
    short = np.ones(RATE, np.float32)
    (start, end, window), = features.windows(short)
    assert (start, end) == (0.0, 1.0) and window[:RATE].sum() == 0 and window[RATE: 2 * RATE].sum() == RATE


# ----------------------------------------------------------------------------- real data sets (fake trees)

def _fake_tree(root, seconds: float = 1.2):
    """Correctly named files of the three data sets (short tones), plus files that must be ignored."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE

    def clip(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        f0 = rng.uniform(100, 250)
        _write(path, (0.2 * np.sin(2 * np.pi * f0 * t) * (1 + 0.5 * np.sin(2 * np.pi * 4 * t))).astype(np.float32))

    for actor in ("01", "02", "03", "04"):
        for code in ("01", "02", "03", "04", "05", "06", "07"):
            clip(root / "ravdess" / f"Actor_{actor}" / f"03-01-{code}-01-01-01-{actor}.wav")
        clip(root / "ravdess" / f"Actor_{actor}" / f"03-02-03-01-01-01-{actor}.wav")  # song: dropped
    for actor in ("1001", "1002", "1003"):
        for code in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD"):
            clip(root / "crema" / f"{actor}_DFA_{code}_XX.wav")
    for speaker in ("OAF", "YAF"):
        for emotion in ("angry", "disgust", "Fear", "happy", "neutral", "ps", "sad"):
            clip(root / "tess" / f"{speaker}_{emotion}" / f"{speaker}_back_{emotion.lower()}.wav")
    (root / "notes.txt").write_text("not audio")
    clip(root / "other" / "my_recording.wav")  # not a known naming scheme: ignored


def test_real_data_set_names_are_parsed_and_mapped(tmp_path):
    from core.tasks.speech_emotion_recognition.real_datasets import find_clips, parse

    ravdess = parse(tmp_path / "03-01-02-02-01-02-12.wav")
    assert (ravdess.emotion, ravdess.original, ravdess.speaker, ravdess.dataset) == ("neutral", "calm", "ravdess:12",
                                                                                       "ravdess")
    assert parse(tmp_path / "03-01-07-01-01-01-12.wav") is None  # disgust
    assert parse(tmp_path / "03-02-05-01-01-01-12.wav") is None  # song
    crema = parse(tmp_path / "1091_WSI_FEA_HI.wav")
    assert (crema.emotion, crema.speaker) == ("fearful", "crema-d:1091")
    assert parse(tmp_path / "1091_WSI_DIS_HI.wav") is None
    tess = parse(tmp_path / "YAF_germ_fear.wav")
    assert (tess.emotion, tess.speaker) == ("fearful", "tess:YAF") and parse(tmp_path / "OAF_bite_ps.wav") is None
    assert parse(tmp_path / "OA_bite_neutral.wav").speaker == "tess:OAF"  # TESS's own typo
    _fake_tree(tmp_path)
    clips = find_clips(tmp_path)
    by_set = {name: [c for c in clips if c.dataset == name] for name in ("ravdess", "crema-d", "tess")}
    assert [len(by_set[n]) for n in by_set] == [4 * 6, 3 * 5, 2 * 5]
    assert {c.emotion for c in clips} == set(EMOTIONS)
    assert sum(c.original == "calm" for c in by_set["ravdess"]) == 4
    with pytest.raises(FileNotFoundError, match="No RAVDESS"):
        find_clips(tmp_path / "other")


def test_real_data_is_split_by_speaker(tmp_path):
    from core.tasks.speech_emotion_recognition.real_datasets import find_clips, split_by_speaker

    _fake_tree(tmp_path)
    parts = split_by_speaker(find_clips(tmp_path))
    speakers = {name: {c.speaker for c in part} for name, part in parts.items()}
    assert all(speakers.values())
    assert not speakers["train"] & speakers["test"] and not speakers["train"] & speakers["validation"]
    assert not speakers["validation"] & speakers["test"]
    assert {"tess:OAF", "tess:YAF"} <= speakers["train"] | speakers["test"]  # two speakers: one each side
    only_tess = [c for c in find_clips(tmp_path) if c.dataset == "tess"]
    with pytest.raises(ValueError, match="at least 3 speakers"):
        split_by_speaker(only_tess)


def test_one_command_retrains_on_a_real_data_folder(tmp_path):
    from core.tasks.speech_emotion_recognition.train import train

    data = tmp_path / "datasets"
    _fake_tree(data)
    (data / "crema" / "1003_IEO_SAD_HI.wav").write_bytes(b"")  # a broken download: skipped, not fatal
    out = tmp_path / "out"
    metrics = train(out / "models", out / "cards", quick=True, data_dir=data)
    config = json.loads((out / "models" / "config.json").read_text())
    assert config["synthetic"] is False and "ravdess" in config["trained_on"]
    assert not metrics["synthetic"] and "unseen speakers" in metrics["headline"]["split"]
    test_speakers = {row[0] for row in metrics["variants"]["cnn"]["tables"][2]["rows"]}
    assert test_speakers and all(":" in s for s in test_speakers)
    card = (out / "cards" / "README.md").read_text()
    assert "Real acted emotional speech" in card and "Synthetic speech." not in card


# ----------------------------------------------------------------------------- models

def test_the_served_baseline_matches_scikit_learn(tmp_path):
    from core.tasks.speech_emotion_recognition import baseline

    rng = np.random.default_rng(0)
    stats = rng.normal(size=(200, len(features.STAT_NAMES))) * rng.uniform(0.1, 50, len(features.STAT_NAMES))
    labels = np.arange(200) % 5
    stats[:, 3] += labels * 2.0  # something to learn
    pipeline = baseline.fit(stats, labels, c=0.5)
    baseline.save(pipeline, tmp_path)
    served = baseline.LinearBaseline(tmp_path)
    new = rng.normal(size=(30, len(features.STAT_NAMES))) * 10
    assert np.allclose(served.probabilities(new), pipeline.predict_proba(new), atol=1e-10)
    assert np.allclose(served.probabilities(stats[:1]), pipeline.predict_proba(stats[:1]), atol=1e-10)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """A seconds-long run of the whole recipe (synthesis, both models, evaluation, card)."""
    from core.tasks.speech_emotion_recognition.train import train

    root = tmp_path_factory.mktemp("ser")
    metrics = train(root / "models" / "speech_emotion_recognition", root / "cards" / "speech_emotion_recognition",
                    quick=True)
    return root, metrics


def test_quick_training_exports_both_models_and_writes_an_honest_card(quick_run):
    from safetensors.torch import load_file

    root, metrics = quick_run
    out = root / "models" / "speech_emotion_recognition"
    assert sorted(p.name for p in out.iterdir()) == ["cnn.safetensors", "cnn_config.json", "config.json",
                                                     "mfcc_baseline.npz"]
    assert load_file(str(out / "cnn.safetensors")) and (out / "cnn.safetensors").stat().st_size < 5e6
    assert set(metrics["variants"]) == {"cnn", "mfcc"} and metrics["headline"]["variant"] == "cnn"
    test_clips = metrics["variants"]["cnn"]["data"]["splits"]["test"]
    for block in metrics["variants"].values():
        assert sum(map(sum, block["confusion_matrix"]["matrix"])) == test_clips
        assert {f"accuracy_{e}" for e in EMOTIONS} <= set(block["metrics"]) and block["model"]["latency_ms"] > 0
    voices = metrics["variants"]["cnn"]["data"]["voice_names"]
    assert not set(voices["test"]) & set(voices["train"])
    card = (root / "cards" / "speech_emotion_recognition" / "README.md").read_text()
    assert "Quick smoke run" in card and "Synthetic speech" in card and "--data DIR" in card
    assert "never heard in training" in card


def test_the_evaluation_scores_what_the_app_serves(quick_run, tmp_path):
    """A test clip's stored features (training / evaluation path) give the same probabilities as the
    adapter reading the clip from a WAV file (the app's path), up to 16-bit rounding."""
    from core.tasks.speech_emotion_recognition.adapter import load
    from core.tasks.speech_emotion_recognition.data import featurise

    root, _ = quick_run
    spec = corpus.plan("test", 3)[1]
    window, meta = corpus.render(spec)
    stored = featurise([(window, meta)])
    path = _write(tmp_path / "clip.wav", window)
    for variant in ("cnn", "mfcc"):
        served = load(variant, root / "models" / "speech_emotion_recognition")
        offline = served.feature_probabilities(stored.mel.astype(np.float32) if variant == "cnn" else stored.stats)[0]
        online = served.recognize(str(path))["predictions"]
        assert {p["label"]: p["score"] for p in online} == pytest.approx(dict(zip(EMOTIONS, offline)), abs=0.02)


@pytest.mark.parametrize("variant", ["cnn", "mfcc"])
def test_a_clip_gets_a_distribution_over_the_five_emotions(variant):
    manifest = json.loads((FIXTURES / "examples.json").read_text())
    shortest = min((m for m in manifest if m["seconds"] < 3), key=lambda m: m["seconds"])  # one window
    result = get_model("speech_emotion_recognition", variant).recognize(str(FIXTURES / shortest["file"]))
    assert [p["label"] for p in result["predictions"]] != [] and {p["label"] for p in result["predictions"]} == set(EMOTIONS)
    scores = [p["score"] for p in result["predictions"]]
    assert sum(scores) == pytest.approx(1, abs=1e-3) and scores == sorted(scores, reverse=True)
    assert result["model"] == variant and len(result["timeline"]) == 1 and result["notes"]
    assert result["timeline"][0]["predictions"] == result["predictions"]  # one window: the clip is that window
    assert "display" not in result


def test_the_timeline_covers_a_long_recording_and_marks_silence(tmp_path):
    served = get_model("speech_emotion_recognition", "cnn")
    samples, rate = soundfile.read(FIXTURES / "emotion_changes.flac", dtype="float32")
    gap = np.zeros(6 * rate, np.float32)
    path = _write(tmp_path / "with_pause.wav", np.concatenate([samples, gap, samples]), rate)
    result = served.recognize(str(path), display=True)
    timeline = result["timeline"]
    duration = result["duration_s"]
    assert duration == pytest.approx(2 * len(samples) / rate + 6, abs=0.01)
    assert timeline[0]["start"] <= result["speech_start_s"] + 1e-6 and timeline[-1]["end"] == pytest.approx(
        result["speech_end_s"], abs=0.01)
    starts = [w["start"] for w in timeline]
    assert np.allclose(np.diff(starts[:-1]), 1.0, atol=0.01) and starts[-1] - starts[-2] <= 1.0 + 1e-6
    assert all(w["end"] - w["start"] == pytest.approx(3.0, abs=0.01) for w in timeline)
    silent = [w for w in timeline if w["silent"]]
    assert silent and all(w["label"] is None and w["predictions"] == [] for w in silent)
    pad = 0.3 + 0.05  # the example's own silence before and after its speech (make_examples: PAD_S)
    assert all(len(samples) / rate - pad < w["start"] and w["end"] < len(samples) / rate + 6 + pad for w in silent)
    voiced = [w for w in timeline if not w["silent"]]
    mean = np.mean([[next(p["score"] for p in w["predictions"] if p["label"] == e) for e in EMOTIONS] for w in voiced], 0)
    assert {p["label"]: p["score"] for p in result["predictions"]} == pytest.approx(dict(zip(EMOTIONS, mean)), abs=1e-3)
    display = result["display"]
    assert len(display["waveform"]["t"]) <= 1500 and display["spectrogram"]["db"].shape[0] == features.N_MELS


def test_a_very_long_recording_is_thinned_to_the_window_budget(tmp_path):
    from core.tasks.speech_emotion_recognition.adapter import MAX_WINDOWS

    served = get_model("speech_emotion_recognition", "cnn")
    noise = np.random.default_rng(1).normal(0, 0.05, (MAX_WINDOWS + 40) * RATE).astype(np.float32)
    result = served.recognize(str(_write(tmp_path / "long.wav", noise)))
    assert len(result["timeline"]) == MAX_WINDOWS and result["timeline"][-1]["end"] == pytest.approx(result["duration_s"])
    assert any("windows were analysed" in note for note in result["notes"])


def test_bad_audio_gets_clear_messages(tmp_path, monkeypatch):
    served = get_model("speech_emotion_recognition", "mfcc")
    silence = _write(tmp_path / "silence.wav", np.zeros(2 * RATE, np.float32))
    with pytest.raises(InputError, match="silent"):
        served.recognize(str(silence))
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        served.recognize(str(empty))
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio at all " * 50)
    with pytest.raises(InputError, match="not audio"):
        served.recognize(str(text))
    with pytest.raises(InputError, match="No audio"):
        served.recognize(None)
    monkeypatch.setenv("MAX_AUDIO_SECONDS", "5")
    with pytest.raises(InputError, match="limit is"):  # refused from the header, before decoding
        served.recognize(str(FIXTURES / "emotion_changes.flac"))


def test_the_examples_are_what_their_manifest_says():
    manifest = json.loads((FIXTURES / "examples.json").read_text())
    test_voices = corpus.voice_split()["test"]
    for item in manifest:
        info = soundfile.info(str(FIXTURES / item["file"]))
        assert info.samplerate == RATE and info.duration == pytest.approx(item["seconds"], abs=0.01)
        assert item["voice"] in test_voices
    assert [m["emotion"] for m in manifest[:5]] == list(EMOTIONS) and len(manifest[5]["segments"]) == 5


# ----------------------------------------------------------------------------- API (the shipped models)

def test_api_recognize_emotion_returns_predictions_and_a_timeline(client):
    from gradio_client import handle_file

    *_, result = client.predict(audio=handle_file(str(FIXTURES / "emotion_changes.flac")), api_name="/recognize_emotion")
    assert result["model"] == "cnn" and {p["label"] for p in result["predictions"]} == set(EMOTIONS)
    assert len(result["timeline"]) > 10 and {"start", "end", "label", "score", "predictions"} <= set(result["timeline"][0])
    assert "display" not in result
    *_, baseline = client.predict(audio=handle_file(str(FIXTURES / "sad.wav")), model="mfcc",
                                  api_name="/recognize_emotion")
    assert baseline["model"] == "mfcc" and len(baseline["timeline"]) >= 1


def test_api_bad_audio_gets_clear_errors(client, tmp_path):
    from gradio_client import handle_file

    text = tmp_path / "song.wav"
    text.write_text("la la la " * 100)
    with pytest.raises(Exception, match="not audio"):
        client.predict(audio=handle_file(str(text)), api_name="/recognize_emotion")
    silence = _write(tmp_path / "quiet.wav", np.zeros(RATE, np.float32))
    with pytest.raises(Exception, match="silent"):
        client.predict(audio=handle_file(str(silence)), api_name="/recognize_emotion")
    with pytest.raises(Exception, match="not in the list of choices|Unknown model"):
        client.predict(audio=handle_file(str(FIXTURES / "sad.wav")), model="svm", api_name="/recognize_emotion")
