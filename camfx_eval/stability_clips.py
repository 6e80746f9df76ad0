"""Clips for the stability metric (camfx.vision.stability), built from real footage: the keyed
woman of ``portrait_720.mp4`` over a photo of a room, with camera noise and an H.264
round trip, and optionally a pan, a change of light or an object appearing."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from camfx.vision.imaging import cover
from camfx_eval.evaluation import key_alpha


@dataclass
class StabilityClip:
    name: str
    frames: list[np.ndarray]  # BGR uint8, after camera noise and an H.264 round trip
    fps: float
    change: int | None = None  # the frame where the room changes, if it does
    region: np.ndarray | None = None  # where it changes (bool, frame size)
    pan: int = 0  # px the camera moves right each frame


def camera_noise(image: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Sensor-like noise: mostly in brightness, a little in colour, slightly blurred by
    demosaicing, so that compression keeps some of it as a real camera's does."""
    h, w = image.shape[:2]
    luma = rng.standard_normal((h, w, 1), dtype=np.float32) * sigma
    chroma = rng.standard_normal((h, w, 3), dtype=np.float32) * (sigma / 2)
    noise = cv2.GaussianBlur(luma + chroma, (3, 3), 0.6)
    return cv2.add(image.astype(np.float32), noise, dtype=cv2.CV_8U)


def h264_round_trip(frames: list[np.ndarray], fps: float, crf: int = 18) -> list[np.ndarray]:
    """The frames as a webcam's H.264 stream would deliver them (encoded and decoded)."""
    import io

    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(round(fps)))
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast", "tune": "zerolatency"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def place(person: np.ndarray, room: np.ndarray) -> np.ndarray:
    """The keyed person over `room`, standing on its bottom edge, centred."""
    alpha = key_alpha(person)[..., None]
    h, w = person.shape[:2]
    out = room.copy()
    left = (out.shape[1] - w) // 2
    region = out[-h:, left : left + w].astype(np.float32)
    out[-h:, left : left + w] = (person * alpha + region * (1 - alpha)).astype(np.uint8)
    return out


def build_clip(
    kind: str,
    people: list[np.ndarray],
    room: np.ndarray,
    size: tuple[int, int] = (1280, 720),
    fps: float = 30.0,
    noise: float = 2.5,
    seed: int = 0,
    thing: np.ndarray | None = None,
) -> StabilityClip:
    """A clip of the person moving in front of `room`, seen by a fixed camera.

    kind: ``still`` (nothing else moves), ``pan`` (the camera pans right, 2 px a
    frame), ``light`` (the room's light drops by a quarter halfway), ``object``
    (`thing` appears in the room's upper left halfway).
    """
    width, height = size
    count = len(people)
    change = count // 2 if kind in ("light", "object") else None
    pan = 2 if kind == "pan" else 0
    wide = cover(room, (width + pan * count, height)) if pan else cover(room, size)
    region = None
    if kind == "object":
        if thing is None:
            raise ValueError("the object clip needs a thing to paste")
        th, tw = height // 3, width // 5
        region = np.zeros((height, width), bool)
        region[height // 10 : height // 10 + th, width // 50 : width // 50 + tw] = True
        pasted = wide.copy()
        pasted[region] = cover(thing, (tw, th)).reshape(-1, 3)
    rng = np.random.default_rng(seed)
    frames = []
    for i, person in enumerate(people):
        scene = wide[:, i * pan : i * pan + width] if pan else wide
        if kind == "object" and i >= change:
            scene = pasted
        if kind == "light" and i >= change:
            scene = cv2.convertScaleAbs(scene, alpha=0.75)
        frames.append(camera_noise(place(person, scene), rng, noise))
    if kind == "light":
        region = np.ones((height, width), bool)
    return StabilityClip(kind, h264_round_trip(frames, fps), fps, change, region, pan)
