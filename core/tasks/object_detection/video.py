"""Video in and out for the detection tab: probe, decode a few frames per second, encode H.264.

FFmpeg comes from the `imageio-ffmpeg` wheel (a static build with libx264), so no system
package is needed. A video is probed (duration, frame rate, size from its header) and refused
before any frame is decoded when it is too long; frames are decoded at ANALYSIS_FPS at most and
downscaled to MAX_SIDE, which bounds the work of one request whatever was uploaded.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError

ANALYSIS_FPS = 10.0  # frames per second that are analysed (and written to the annotated video)
MAX_SIDE = 960       # frames are downscaled so that their longer side is at most this


@dataclass(frozen=True)
class VideoInfo:
    """What a video's header says, and the frames that analysing it will give."""

    duration_s: float
    fps: float          # of the source
    size: tuple[int, int]  # of the source, width x height
    out_fps: float      # frames analysed per second
    out_size: tuple[int, int]  # of the analysed frames (even sides, as H.264 wants)

    @property
    def expected_frames(self) -> int:
        return max(1, round(self.duration_s * self.out_fps))

    @property
    def scale(self) -> float:
        """Source pixels per analysed-frame pixel."""
        return self.size[0] / self.out_size[0]


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def probe(path: str | Path, max_seconds: float) -> VideoInfo:
    """Read the header of the video at `path`; an InputError when it cannot be read, has no
    picture, or lasts longer than `max_seconds`."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        if "does not contain any stream" in str(exc):  # a container holding sound (or nothing) only
            raise InputError("This file has no video picture: upload a video.") from exc
        raise InputError("Could not read this video: upload an MP4, WebM, MOV or AVI file that plays.") from exc
    finally:
        reader.close()
    width, height = (int(v) for v in meta.get("size") or (0, 0))
    duration, fps = float(meta.get("duration") or 0.0), float(meta.get("fps") or 0.0)
    if width < 16 or height < 16 or fps <= 0:
        raise InputError("This file has no video picture (or one under 16x16 pixels): upload a video.")
    if duration > max_seconds:
        raise InputError(f"The video lasts {duration:.0f} s; the limit is {max_seconds:.0f} s. Trim it and upload it again.")
    shrink = min(1.0, MAX_SIDE / max(width, height))
    return VideoInfo(duration, fps, (width, height), min(fps, ANALYSIS_FPS), (_even(width * shrink), _even(height * shrink)))


def frames(path: str | Path, info: VideoInfo) -> Iterator[np.ndarray]:
    """The analysed frames of the video (RGB uint8, info.out_size, info.out_fps per second)."""
    import imageio_ffmpeg

    width, height = info.out_size
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", output_params=[
        "-vf", f"fps={info.out_fps:g},scale={width}:{height}"])
    try:
        next(reader)  # the header
        for raw in reader:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
    except (OSError, RuntimeError) as exc:
        raise InputError("The video could not be decoded to the end: upload a file that plays.") from exc
    finally:
        reader.close()


class H264Writer:
    """Frames to an H.264 MP4 (yuv420p, fast start) that every browser plays."""

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float) -> None:
        import imageio_ffmpeg

        self.path = Path(path)
        self._writer = imageio_ffmpeg.write_frames(
            str(self.path), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
            quality=None, macro_block_size=2, output_params=["-preset", "veryfast", "-crf", "26", "-movflags", "+faststart"])
        self._writer.send(None)  # start ffmpeg

    def write(self, frame: np.ndarray) -> None:
        self._writer.send(np.ascontiguousarray(frame, dtype=np.uint8))

    def close(self) -> Path:
        self._writer.close()
        return self.path
