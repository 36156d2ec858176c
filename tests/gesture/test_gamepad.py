"""gamepad.py: pygame joystick events -> stream channels, under SDL's dummy driver."""

from __future__ import annotations

import math

import pygame
import pytest

from instrument.errors import BadInput, DeviceError
from instrument.gesture.gamepad import GamepadDecoder, GamepadSource, init_event_queue


@pytest.fixture
def queue(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    init_event_queue()
    pygame.event.clear()
    yield
    pygame.event.clear()


def post(kind, **fields):
    pygame.event.post(pygame.event.Event(kind, **fields))


def test_events_through_pygames_queue_become_one_sample_per_poll(queue):
    clock = iter([1.0, 2.0, 3.0]).__next__
    source = GamepadSource(decoder=GamepadDecoder(2, 1, 3, instance_id=0), clock=clock)
    names = [c.name for c in source.channels]
    assert names == ["axis1", "axis2", "hat1_x", "hat1_y", "button1", "button2", "button3"]
    assert [c.kind for c in source.channels][-3:] == ["button"] * 3
    post(pygame.JOYAXISMOTION, instance_id=0, axis=1, value=0.5)
    post(pygame.JOYBUTTONDOWN, instance_id=0, button=2)
    post(pygame.JOYHATMOTION, instance_id=0, hat=0, value=(1, -1))
    post(pygame.KEYDOWN, key=pygame.K_a)                   # not ours: left alone
    assert source.poll() == [(1.0, pytest.approx([0, 0.5, 1, -1, 0, 0, 1]))]
    post(pygame.JOYBUTTONUP, instance_id=0, button=2)
    post(pygame.JOYAXISMOTION, instance_id=0, axis=0, value=-2.0)  # clipped to -1
    [(t, values)] = source.poll()
    assert t == 2.0 and values.tolist() == [-1, 0.5, 1, -1, 0, 0, 0]
    assert source.poll() == []                             # nothing new: no sample
    assert source.counts == {"ok": 5, "ignored": 0, "bad": 0}


def test_bad_and_foreign_events_are_counted(queue):
    source = GamepadSource(decoder=GamepadDecoder(2, 1, 2, instance_id=0))
    post(pygame.JOYAXISMOTION, instance_id=0, axis=5, value=0.5)        # no such axis
    post(pygame.JOYAXISMOTION, instance_id=0, axis=0, value=math.nan)
    post(pygame.JOYHATMOTION, instance_id=0, hat=0, value=(3, 0))
    post(pygame.JOYBUTTONDOWN, instance_id=0, button=9)
    post(pygame.JOYAXISMOTION, instance_id=1, axis=0, value=0.5)        # another pad
    post(pygame.JOYAXISMOTION, instance_id=0)                          # fields missing
    assert source.poll() == []
    assert source.counts == {"ok": 0, "ignored": 1, "bad": 5}
    assert not source.decoder.values.any()


def test_no_gamepad_is_one_line(queue):
    if pygame.joystick.get_count() > 0:
        pytest.skip("a real gamepad is plugged in here")
    with pytest.raises(DeviceError) as err:
        GamepadSource(0)
    assert "no gamepad or joystick 1 found" in str(err.value) and "\n" not in str(err.value)


def test_a_real_gamepad_is_sized_from_sdl(queue):
    if pygame.joystick.get_count() == 0:
        pytest.skip("no gamepad or joystick on this machine (SDL sees none)")
    with GamepadSource(0) as source:
        j = source.joystick
        assert len(source.channels) == j.get_numaxes() + 2 * j.get_numhats() + j.get_numbuttons()


def test_decoder_sizes_are_bounded():
    with pytest.raises(BadInput, match="not supported"):
        GamepadDecoder(65, 0, 0)
    with pytest.raises(DeviceError, match="no axes"):
        GamepadDecoder(0, 0, 0)
