"""Where finished frames go: an H.264 recording and a window. Each sink is a context manager.

The recorder uses PyAV (FFmpeg's libraries, shipped in the wheel): it writes
H.264 into MP4 without an ffmpeg binary on the user's machine. The window uses
pygame-ce (SDL): it runs under a desktop, under Xvfb, and with SDL's dummy
driver, and needs no GUI build of OpenCV (which would clash with the headless
one camfx uses for image work).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from camfx.errors import CamfxError


class VideoRecorder:
    """Writes BGR frames to an H.264 MP4.

    With ``fps`` the n-th frame written is shown at n / fps (a file rendered frame for
    frame). Live recordings pass each frame's capture time instead, so dropped
    frames keep the clock right.
    """

    def __init__(self, path: Path, size: tuple[int, int], fps: float, crf: int = 20) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise CamfxError(f"cannot record to {self.path}: folder {self.path.parent} not found")
        self.size = (size[0] - size[0] % 2, size[1] - size[1] % 2)  # yuv420p needs even sizes
        self.fps = fps
        self.frames_written = 0
        self._rate = Fraction(fps).limit_denominator(1001)
        self._first_time: float | None = None
        self._last_pts = -1
        self._container = None
        self._stream = None
        self._crf = crf

    def __enter__(self) -> VideoRecorder:
        import av

        try:
            self._container = av.open(str(self.path), mode="w")
        except (OSError, av.FFmpegError) as exc:
            raise CamfxError(f"cannot record to {self.path}: {exc}") from None
        stream = self._container.add_stream("libx264", rate=self._rate)
        stream.width, stream.height = self.size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self._crf), "preset": "veryfast"}
        # A millisecond clock lets live frames carry their real capture times.
        stream.codec_context.time_base = Fraction(1, 1000)
        self._stream = stream
        return self

    def write(self, image: np.ndarray, captured_at: float | None = None) -> None:
        import av

        w, h = self.size
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="bgr24")
        if captured_at is None:
            pts = round(self.frames_written * 1000 / self._rate)
        else:
            if self._first_time is None:
                self._first_time = captured_at
            pts = max(self._last_pts + 1, round((captured_at - self._first_time) * 1000))
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and write the MP4 index: the file is playable after this."""
        if self._container is None:
            return
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def __exit__(self, *exc: object) -> None:
        self.close()


class Window:
    """A resizable window showing frames with a small overlay; ``show`` says whether to go on."""

    QUIT_KEYS = ("q", "escape")

    def __init__(self, title: str = "camfx", size: tuple[int, int] = (1280, 720)) -> None:
        self.title = title
        self.size = size
        self._screen = None
        self._font = None

    def __enter__(self) -> Window:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        # The X11 class names the app for taskbars (and lets tools find the window),
        # whatever script or `python -m` started it.
        os.environ.setdefault("SDL_VIDEO_X11_WMCLASS", "camfx")
        import pygame

        try:
            pygame.display.init()
            pygame.font.init()
            self._screen = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        except pygame.error as exc:
            pygame.quit()
            raise CamfxError(
                f"cannot open a window ({exc}); run with --no-window (e.g. with --record)"
            ) from None
        pygame.display.set_caption(self.title)
        self._font = pygame.font.Font(None, 22)
        return self

    def poll(self) -> bool:
        """Handle window events; False once the user asked to quit."""
        import pygame

        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return False
            if event.type == pygame.KEYDOWN and pygame.key.name(event.key) in self.QUIT_KEYS:
                return False
            if event.type == pygame.VIDEORESIZE:
                self.size = (event.w, event.h)
        return True

    def show(self, image: np.ndarray, overlay: Sequence[str] = ()) -> bool:
        """Draw a BGR frame scaled into the window, with overlay lines; False to quit."""
        import pygame

        if not self.poll():
            return False
        h, w = image.shape[:2]
        rgb = np.ascontiguousarray(image[..., ::-1])
        surface = pygame.image.frombuffer(rgb.tobytes(), (w, h), "RGB")
        win_w, win_h = self._screen.get_size()
        scale = min(win_w / w, win_h / h)
        fit = (max(1, round(w * scale)), max(1, round(h * scale)))
        self._screen.fill((0, 0, 0))
        self._screen.blit(
            pygame.transform.smoothscale(surface, fit),
            ((win_w - fit[0]) // 2, (win_h - fit[1]) // 2),
        )
        self._draw_overlay(overlay)
        pygame.display.flip()
        return True

    def _draw_overlay(self, lines: Sequence[str]) -> None:
        import pygame

        if not lines:
            return
        rendered = [self._font.render(line, True, (255, 255, 255)) for line in lines]
        width = max(r.get_width() for r in rendered) + 12
        height = sum(r.get_height() for r in rendered) + 8
        panel = pygame.Surface((width, height), pygame.SRCALPHA)
        panel.fill((0, 0, 0, 150))
        self._screen.blit(panel, (8, 8))
        y = 12
        for r in rendered:
            self._screen.blit(r, (14, y))
            y += r.get_height()

    def close(self) -> None:
        import pygame

        if self._screen is not None:
            pygame.display.quit()
            self._screen = None

    def __exit__(self, *exc: object) -> None:
        self.close()
