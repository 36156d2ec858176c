"""The pointer window: pygame events -> pointer samples, and a light live view.

The ONLY module of instrument that imports pygame. :class:`PointerWindow` is used by
``instrument record`` and by the live view of ``instrument perform``: it polls pointer
samples (mouse motion; touch/pen contacts with their pressure, where SDL reports them),
key presses and quit requests, and draws the trail of recent motion, lines of text, an
optional 2-D scatter map with one highlighted point, and a bar meter.

SDL 2 reports pressure only for touch contacts (``FINGERDOWN``/``FINGERMOTION``, 0..1); a
tablet pen moves the mouse pointer and its pressure is not available, so mouse samples have
no pressure. Mouse events that SDL synthesizes from touches are skipped (the touch itself
is recorded).
"""

from __future__ import annotations

import collections
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Sequence

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402  (after the environment tweak above)

from instrument.errors import DisplayError  # noqa: E402

_BACKGROUND = (14, 16, 22)
_TRAIL = (90, 200, 255)
_TEXT = (225, 228, 235)
_DIM = (110, 115, 130)
_HIGHLIGHT = (255, 170, 40)


@dataclass
class PointerSample:
    """One pointer position: ``t`` in seconds on the window clock, x/y pixels from the
    top-left corner, ``pressure`` 0..1 or None, ``buttons`` bit mask (1 left, 2 middle,
    4 right; a touch contact counts as 1)."""

    t: float
    x: float
    y: float
    pressure: float | None = None
    buttons: int = 0


@dataclass
class WindowInput:
    """What happened since the last :meth:`PointerWindow.poll`.

    Attributes:
        samples: Pointer samples in time order.
        keys: Names of keys pressed, as pygame names them ("escape", "space", "h", ...).
        quit: The window was closed.
        resized: The window size changed (see :attr:`PointerWindow.size`).
    """

    samples: list[PointerSample] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    quit: bool = False
    resized: bool = False


def check_display() -> None:
    """Raise DisplayError unless there is a real display to open a window on."""
    driver = os.environ.get("SDL_VIDEODRIVER", "").strip().lower()
    if driver in ("dummy", "offscreen"):
        raise DisplayError(f"SDL_VIDEODRIVER={driver} has no real display to open a window on",
                           "unset SDL_VIDEODRIVER on a desktop, or run under Xvfb "
                           "(xvfb-run instrument ...)")
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        raise DisplayError("no display: neither DISPLAY nor WAYLAND_DISPLAY is set",
                           "run on a desktop, over 'ssh -X', or under Xvfb "
                           "(xvfb-run instrument ...)")


class PointerWindow:
    """A resizable window that turns pointer events into samples and shows a live view.

    Args:
        width, height: Initial window size in pixels.
        title: Window title.
        trail_seconds: How much recent motion the trail shows.
        allow_dummy: Skip :func:`check_display` (tests drawing on SDL's dummy driver).

    Sample times are seconds on the window's clock (:meth:`now`, 0 when the window opened).
    """

    def __init__(self, width: int = 960, height: int = 640, title: str = "instrument",
                 trail_seconds: float = 1.5, allow_dummy: bool = False):
        self._want = (int(width), int(height))
        self.title = title
        self.trail_seconds = float(trail_seconds)
        self.allow_dummy = allow_dummy
        self._screen = None
        self._trail: collections.deque = collections.deque(maxlen=4096)
        self._scatter_key = None
        self._scatter_surface = None
        self._last_poll = 0.0
        self._t0 = 0.0
        self._font = None

    # --- lifetime -----------------------------------------------------------------
    def open(self) -> "PointerWindow":
        """Open the window (DisplayError when there is no display)."""
        if not self.allow_dummy:
            check_display()
        try:
            pygame.display.init()
            pygame.font.init()
            self._screen = pygame.display.set_mode(self._want, pygame.RESIZABLE)
        except pygame.error as err:
            pygame.display.quit()
            raise DisplayError(f"cannot open a window: {err}",
                               "check DISPLAY / WAYLAND_DISPLAY, or run under Xvfb") from None
        pygame.display.set_caption(self.title)
        self._font = pygame.font.Font(None, 22)
        self._t0 = time.perf_counter()
        self._last_poll = 0.0
        pygame.event.clear()
        return self

    def close(self) -> None:
        """Close the window (safe to call twice)."""
        if self._screen is not None:
            self._screen = None
            pygame.display.quit()

    def __enter__(self) -> "PointerWindow":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- input --------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the window opened: the clock of sample times."""
        return time.perf_counter() - self._t0

    @property
    def size(self) -> tuple[int, int]:
        """Current window size in pixels (it changes when the user resizes the window)."""
        if self._screen is None:
            return self._want
        return self._screen.get_size()

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    def poll(self) -> WindowInput:
        """Take every pending event; never blocks.

        SDL events carry no usable timestamp here, so the samples of one poll are spread
        evenly between the previous poll and now (poll often: every few milliseconds).
        """
        now = self.now()
        result = WindowInput()
        raw = []
        width, height = self.size
        for event in pygame.event.get():
            kind = event.type
            if kind == pygame.MOUSEMOTION:
                if getattr(event, "touch", False):
                    continue                      # SDL's copy of a touch: keep the touch
                b = event.buttons
                raw.append((event.pos[0], event.pos[1], None, b[0] | b[1] << 1 | b[2] << 2))
            elif kind in (pygame.FINGERDOWN, pygame.FINGERMOTION):
                raw.append((event.x * width, event.y * height, float(event.pressure), 1))
            elif kind == pygame.KEYDOWN:
                result.keys.append(pygame.key.name(event.key))
            elif kind == pygame.QUIT:
                result.quit = True
            elif kind in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
                result.resized = True
                self._scatter_key = None
        if raw:
            span = max(now - self._last_poll, 1e-6)
            n = len(raw)
            for k, (x, y, p, b) in enumerate(raw):
                t = self._last_poll + span * (k + 1) / n
                result.samples.append(PointerSample(t, float(x), float(y), p, b))
                self._trail.append((t, float(x), float(y)))
        self._last_poll = now
        return result

    def add_trail(self, t: float, x: float, y: float) -> None:
        """Show a sample that did not come from this window (e.g. a replayed file, OSC)
        in the trail; ``t`` on any clock that increases."""
        self._trail.append((float(t), float(x), float(y)))

    # --- drawing ------------------------------------------------------------------
    def draw(self, lines: Sequence[str] = (), scatter=None, highlight: int | None = None,
             meter: tuple[float, float, str] | None = None) -> None:
        """Redraw the view and show it. Cheap enough for 30-60 frames per second.

        Args:
            lines: Text lines, top left.
            scatter: Optional points in 0..1 (N x 2, x right, y up), drawn as a map in the
                lower right; it is rendered once and cached while the same array is passed.
            highlight: Index of the point of ``scatter`` to highlight.
            meter: Optional (value, full_scale, label): a bar, e.g. latency in ms.
        """
        if self._screen is None:
            return
        screen = self._screen
        screen.fill(_BACKGROUND)
        self._draw_trail(screen)
        if scatter is not None:
            self._draw_scatter(screen, scatter, highlight)
        y = 8
        for line in lines:
            screen.blit(self._font.render(str(line), True, _TEXT), (10, y))
            y += 22
        if meter is not None:
            self._draw_meter(screen, *meter, top=y + 4)
        pygame.display.flip()

    def _draw_trail(self, screen) -> None:
        if len(self._trail) < 2:
            return
        now = self._trail[-1][0]
        while self._trail and now - self._trail[0][0] > self.trail_seconds:
            self._trail.popleft()
        points = list(self._trail)
        # Older parts fade: a few polylines, each in its own shade.
        buckets = 6
        for b in range(buckets):
            lo = now - self.trail_seconds * (buckets - b) / buckets
            hi = now - self.trail_seconds * (buckets - b - 1) / buckets
            seg = [(x, y) for t, x, y in points if lo <= t <= hi]
            if len(seg) >= 2:
                shade = (b + 1) / buckets
                colour = tuple(int(c * shade + bg * (1 - shade))
                               for c, bg in zip(_TRAIL, _BACKGROUND))
                pygame.draw.lines(screen, colour, False, seg, 3)

    def _map_rect(self, screen):
        w, h = screen.get_size()
        side = max(60, min(w, h) // 3)
        return pygame.Rect(w - side - 10, h - side - 10, side, side)

    def _draw_scatter(self, screen, scatter, highlight) -> None:
        rect = self._map_rect(screen)
        key = (id(scatter), len(scatter), rect.size)
        if key != self._scatter_key:
            surface = pygame.Surface(rect.size)
            surface.fill((24, 27, 36))
            side = rect.width - 1
            for px, py in scatter:
                surface.set_at((int(px * side), int((1 - py) * side)), _DIM)
            self._scatter_surface, self._scatter_key = surface, key
        screen.blit(self._scatter_surface, rect.topleft)
        pygame.draw.rect(screen, _DIM, rect, 1)
        if highlight is not None and 0 <= highlight < len(scatter):
            px, py = scatter[highlight]
            side = rect.width - 1
            centre = (rect.left + int(px * side), rect.top + int((1 - py) * side))
            pygame.draw.circle(screen, _HIGHLIGHT, centre, 5, 2)

    def _draw_meter(self, screen, value: float, full: float, label: str, top: int) -> None:
        width = 200
        share = 0.0 if not full or full <= 0 else max(0.0, min(1.0, value / full))
        pygame.draw.rect(screen, _DIM, (10, top, width, 12), 1)
        colour = _TRAIL if share < 0.8 else _HIGHLIGHT
        pygame.draw.rect(screen, colour, (11, top + 1, int((width - 2) * share), 10))
        screen.blit(self._font.render(str(label), True, _TEXT), (width + 20, top - 3))

    def screenshot(self, path: str) -> None:
        """Save the current view as an image (PNG by extension), atomically."""
        if self._screen is not None:
            from instrument.formats.safe_io import atomic_write

            with atomic_write(path, binary=True, what="screenshot") as handle:
                pygame.image.save(self._screen, handle, os.path.basename(path))  # type by name
