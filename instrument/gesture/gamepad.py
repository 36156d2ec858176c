"""A gamepad or joystick through pygame (SDL): axes, hats and buttons as a stream's channels.

Channels, in order: ``axis1``.. (-1..1), ``hat1_x``, ``hat1_y``.. (-1, 0 or 1), then
``button1``.. (0/1, kind ``button``). Every joystick event changes one of them and the
stream's sample is the whole state after it. Events of another device, of an axis, hat or
button beyond the device's counts, or with a non-finite value are counted and dropped.

It needs no window: without a display, SDL's ``dummy`` video driver gives pygame its event
queue, and joystick events arrive through it all the same.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from instrument.errors import BadInput, DeviceError
from instrument.formats.channels import BUTTON, VALUE, Channel

MAX_CONTROLS = 64                 # axes, hats or buttons of one device we take at most


class GamepadDecoder:
    """pygame joystick events -> the state of every channel.

    Args:
        axes, hats, buttons: How many the device has (what SDL reports).
        instance_id: Only events of this device (None: of any device).

    Attributes:
        channels, values (float64 [C]), counts {"ok", "ignored", "bad"}.
    """

    def __init__(self, axes: int, hats: int, buttons: int, instance_id: int | None = None):
        for name, n in (("axes", axes), ("hats", hats), ("buttons", buttons)):
            if not isinstance(n, int) or not 0 <= n <= MAX_CONTROLS:
                raise BadInput(f"a gamepad with {n!r} {name} is not supported (0..{MAX_CONTROLS})")
        if axes + hats + buttons == 0:
            raise DeviceError("the gamepad reports no axes, hats or buttons")
        self.axes, self.hats, self.buttons, self.instance_id = axes, hats, buttons, instance_id
        self.channels = tuple(
            [Channel(f"axis{i + 1}", VALUE, "", -1.0, 1.0) for i in range(axes)]
            + [Channel(f"hat{i + 1}_{xy}", VALUE, "", -1.0, 1.0) for i in range(hats)
               for xy in ("x", "y")]
            + [Channel(f"button{i + 1}", BUTTON) for i in range(buttons)])
        self.values = np.zeros(len(self.channels))
        self.counts = {"ok": 0, "ignored": 0, "bad": 0}
        import pygame

        self._types = {pygame.JOYAXISMOTION: self._axis, pygame.JOYHATMOTION: self._hat,
                       pygame.JOYBUTTONDOWN: self._button, pygame.JOYBUTTONUP: self._button}
        self._down = pygame.JOYBUTTONDOWN

    @property
    def event_types(self) -> list[int]:
        return list(self._types)

    def decode(self, event) -> bool:
        """Apply one pygame event; True when it changed the state (one sample)."""
        handler = self._types.get(getattr(event, "type", None))
        if handler is None:
            self.counts["ignored"] += 1
            return False
        device = getattr(event, "instance_id", getattr(event, "joy", None))
        if self.instance_id is not None and device != self.instance_id:
            self.counts["ignored"] += 1
            return False
        try:
            ok = handler(event)
        except (AttributeError, TypeError, ValueError):
            ok = None
        if ok is None:
            self.counts["bad"] += 1
            return False
        self.counts["ok"] += 1
        return True

    def _axis(self, event):
        value = float(event.value)
        if not (0 <= event.axis < self.axes and math.isfinite(value)):
            return None
        self.values[event.axis] = min(max(value, -1.0), 1.0)
        return True

    def _hat(self, event):
        x, y = event.value
        if not (0 <= event.hat < self.hats and x in (-1, 0, 1) and y in (-1, 0, 1)):
            return None
        base = self.axes + 2 * event.hat
        self.values[base], self.values[base + 1] = x, y
        return True

    def _button(self, event):
        if not 0 <= event.button < self.buttons:
            return None
        self.values[self.axes + 2 * self.hats + event.button] = float(event.type == self._down)
        return True


def init_event_queue() -> None:
    """pygame's event queue without a window: SDL's dummy video driver when no display."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    pygame.display.init()
    pygame.joystick.init()


class GamepadSource:
    """The ``index``-th gamepad or joystick SDL sees, as a stream source polled for samples.

    Args:
        index: Which device (0 = the first).
        clock: Time source of the samples (seconds).
        decoder: A GamepadDecoder to use instead of one sized from the device (tests that
            inject events without a device).

    Raises:
        DeviceError: One line when there is no such device.
    """

    def __init__(self, index: int = 0, clock=time.perf_counter,
                 decoder: GamepadDecoder | None = None):
        init_event_queue()
        import pygame

        self.clock = clock
        self.joystick = None
        if decoder is None:
            count = pygame.joystick.get_count()
            if not 0 <= index < count:
                raise DeviceError(f"no gamepad or joystick {index + 1} found (SDL sees {count})",
                                  "plug it in (and check that it shows in /dev/input/js*), "
                                  "or pick another with --gamepad N")
            self.joystick = pygame.joystick.Joystick(index)
            self.joystick.init()
            j = self.joystick
            decoder = GamepadDecoder(min(j.get_numaxes(), MAX_CONTROLS),
                                     min(j.get_numhats(), MAX_CONTROLS),
                                     min(j.get_numbuttons(), MAX_CONTROLS), j.get_instance_id())
        self.name = self.joystick.get_name() if self.joystick is not None else "events"
        self.decoder = decoder
        self.channels = decoder.channels

    def start(self) -> "GamepadSource":
        """Nothing to start: messages flow from the moment it is open."""
        return self

    @property
    def counts(self) -> dict:
        return self.decoder.counts

    def poll(self) -> list:
        """The state after the events since the last poll, as [(t, values)] (one sample:
        events read together share one time, and only the state after them counts), or []."""
        import pygame

        t = self.clock()
        changed = False
        for event in pygame.event.get(self.decoder.event_types):
            changed |= self.decoder.decode(event)
        pygame.event.pump()   # keep SDL's queue flowing (other events are not ours)
        return [(t, self.decoder.values.copy())] if changed else []

    def close(self) -> None:
        """Release the device (idempotent)."""
        if self.joystick is not None:
            self.joystick.quit()
            self.joystick = None

    def __enter__(self) -> "GamepadSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
