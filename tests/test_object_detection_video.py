"""Task 02 on video: probing and limits, the annotated H.264 output, and /detect_objects_video."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.tasks.object_detection.scenes import CLASSES
from core.tasks.object_detection.video import ANALYSIS_FPS, H264Writer, frames, probe

EXAMPLE = EXAMPLES_DIR / "object_detection" / "pan_9014.mp4"  # 3 s, 15 fps, 480x272, committed


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture(scope="module")
def long_video(tmp_path_factory) -> Path:
    """A 70-second video (tiny: 32x32 at 1 frame per second), over the 60 s default limit."""
    writer = H264Writer(tmp_path_factory.mktemp("video") / "long.mp4", (32, 32), 1)
    for i in range(70):
        writer.write(np.full((32, 32, 3), i * 3, dtype=np.uint8))
    return writer.close()


@pytest.fixture(scope="module")
def sound_only(tmp_path_factory) -> Path:
    """An MP4 with one second of silence and no picture at all."""
    path = tmp_path_factory.mktemp("video") / "sound_only.mp4"
    subprocess.run([_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1", str(path)],
                   check=True)
    return path


def test_probe_reads_the_header_and_plans_the_analysed_frames():
    info = probe(EXAMPLE, max_seconds=60)
    assert info.size == (480, 272) and info.fps == 15 and abs(info.duration_s - 3.0) < 0.1
    assert info.out_fps == ANALYSIS_FPS and info.expected_frames == 30
    decoded = list(frames(EXAMPLE, info))
    assert len(decoded) == 30 and decoded[0].shape == (272, 480, 3) and decoded[0].dtype == np.uint8


def test_probe_refuses_long_unreadable_and_pictureless_files(long_video, sound_only, tmp_path):
    with pytest.raises(InputError, match="lasts 70 s; the limit is 60 s"):
        probe(long_video, max_seconds=60)
    assert probe(long_video, max_seconds=120).expected_frames == 70  # 1 fps source: every frame
    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(InputError, match="Could not read this video"):
        probe(garbage, max_seconds=60)
    with pytest.raises(InputError, match="no video picture"):
        probe(sound_only, max_seconds=60)


def test_writer_makes_h264_that_browsers_play(tmp_path):
    import imageio_ffmpeg

    writer = H264Writer(tmp_path / "out.mp4", (64, 48), 10)
    for i in range(5):
        writer.write(np.full((48, 64, 3), 40 * i, dtype=np.uint8))
    reader = imageio_ffmpeg.read_frames(str(writer.close()))
    meta = next(reader)
    reader.close()
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p") and meta["size"] == (64, 48)


def test_frames_of_a_large_video_are_downscaled_to_even_sides(tmp_path):
    writer = H264Writer(tmp_path / "wide.mp4", (1920, 1080), 2)
    for _ in range(2):
        writer.write(np.zeros((1080, 1920, 3), dtype=np.uint8))
    info = probe(writer.close(), max_seconds=60)
    assert info.out_size == (960, 540) and info.scale == 2.0


# ----------------------------------------------------------------------------- API

def _video(path: Path) -> dict:
    from gradio_client import handle_file

    return handle_file(str(path))


def test_api_detect_objects_video(client):
    summary, annotated, counts, download, payload = client.predict(video=_video(EXAMPLE), conf=0.25,
                                                                   api_name="/detect_objects_video")
    assert payload["model"] == "object_detection/scenes" and payload["video_size"] == [480, 272]
    assert [f["index"] for f in payload["frames"]] == list(range(30))
    assert payload["frames"][10]["time_s"] == pytest.approx(1.0)
    found = [d for f in payload["frames"] for d in f["detections"]]
    assert len(found) >= 30  # the panned scene holds 9 objects, most of them in view at any time
    for detection in found:
        x1, y1, x2, y2 = detection["box"]
        assert detection["label"] in CLASSES and 0 <= x1 < x2 <= 480 and 0 <= y1 < y2 <= 272
    assert "30 frames analysed" in summary
    assert probe(Path(download), 60).expected_frames == 30
    only = client.predict(video=_video(EXAMPLE), classes=["airplane"], api_name="/detect_objects_video")[-1]
    assert {d["label"] for f in only["frames"] for d in f["detections"]} == {"airplane"}


@pytest.mark.parametrize("kind, message", [("long", "the limit is 60 s"), ("sound", "no video picture"),
                                           ("garbage", "Could not read this video")])
def test_api_bad_videos_get_clear_errors_and_the_app_keeps_serving(client, long_video, sound_only, tmp_path, kind,
                                                                 message):
    path = {"long": long_video, "sound": sound_only}.get(kind)
    if path is None:
        path = tmp_path / "broken.mp4"
        path.write_bytes(b"this is no video" * 100)
    with pytest.raises(Exception, match=message):
        client.predict(video=_video(path), api_name="/detect_objects_video")
    assert client.predict(video=_video(EXAMPLE), api_name="/detect_objects_video")[-1]["frames"]
