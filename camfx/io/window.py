"""The window: frames scaled to fit, a small overlay, an optional help card, key events.

pygame-ce (SDL) is used rather than OpenCV's imshow: OpenCV's GUI build and the
headless one camfx uses for image work both own `cv2` and must not be installed
together, and SDL runs on desktops, under Xvfb and with its dummy driver.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from camfx.errors import CamfxError

WHITE = (255, 255, 255)
PANEL = (0, 0, 0, 160)


class Window:
    """A resizable window. Use as a context manager; call ``events`` often."""

    def __init__(self, title: str = "camfx", size: tuple[int, int] = (1280, 720)) -> None:
        self.title = title
        self.size = size
        self.fullscreen = False
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

    def events(self) -> list[str]:
        """Keys pressed since the last call (pygame's names), and "quit" if closed."""
        import pygame

        keys = []
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                keys.append("quit")
            elif event.type == pygame.KEYDOWN:
                keys.append(
                    event.unicode
                    if event.unicode in "+-=" and event.unicode
                    else pygame.key.name(event.key)
                )
            elif event.type == pygame.VIDEORESIZE and not self.fullscreen:
                self.size = (event.w, event.h)
        return keys

    def toggle_fullscreen(self) -> None:
        import pygame

        self.fullscreen = not self.fullscreen
        if self.fullscreen:
            self._screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        else:
            self._screen = pygame.display.set_mode(self.size, pygame.RESIZABLE)

    def show(
        self,
        image: np.ndarray,
        overlay: Sequence[str] = (),
        card: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Draw a BGR frame scaled into the window, overlay lines top left, a card centred."""
        import pygame

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
        if overlay:
            self._draw_panel([(line, "") for line in overlay], centred=False)
        if card:
            self._draw_panel(card, centred=True)
        pygame.display.flip()

    def _draw_panel(self, rows: Sequence[tuple[str, str]], centred: bool) -> None:
        """Rows of (left, right) text on a dark translucent panel, scaled down when wider or
        taller than the window (a 320 px window cut off the help card's keys)."""
        import pygame

        lefts = [self._font.render(a, True, WHITE) for a, _ in rows]
        rights = [self._font.render(b, True, WHITE) if b else None for _, b in rows]
        left_w = max(r.get_width() for r in lefts)
        right_w = max((r.get_width() for r in rights if r), default=0)
        gap = 24 if right_w else 0
        line_h = max(r.get_height() for r in lefts)
        width, height = left_w + gap + right_w + 24, line_h * len(rows) + 16
        panel = pygame.Surface((width, height), pygame.SRCALPHA)
        panel.fill(PANEL)
        for i, (left, right) in enumerate(zip(lefts, rights, strict=True)):
            panel.blit(left, (12, 8 + i * line_h))
            if right is not None:
                panel.blit(right, (12 + left_w + gap, 8 + i * line_h))
        win_w, win_h = self._screen.get_size()
        margin = 8 if centred else 16  # the overlay sits 8 px from the corner
        scale = min(1.0, (win_w - margin) / width, (win_h - margin) / height)
        if scale < 1.0:
            width, height = max(1, round(width * scale)), max(1, round(height * scale))
            panel = pygame.transform.smoothscale(panel, (width, height))
        x, y = ((win_w - width) // 2, (win_h - height) // 2) if centred else (8, 8)
        self._screen.blit(panel, (x, y))

    def close(self) -> None:
        import pygame

        if self._screen is not None:
            pygame.display.quit()
            self._screen = None

    def __exit__(self, *exc: object) -> None:
        self.close()
