"""OSC out: each control frame to Wekinator's /wek/outputs and the named /instrument/* addresses.

Contract (DESIGN.md): to 127.0.0.1:12000 by default, ``/wek/outputs`` with every synth
parameter as float32 in 0..1 in parameter-table order, ``/instrument/params`` with the same
values in physical units, ``/instrument/sound`` with the bank index (int32).
"""

from __future__ import annotations

import errno
import socket
import struct
import time
from typing import Iterable

import numpy as np

from instrument.errors import BadInput
from instrument.formats.osc import OUTPUTS_ADDRESS, PARAMS_ADDRESS, SOUND_ADDRESS, message_prefix
from instrument.formats.osc_bundle import encode_bundle, ntp_timetag

# --- OSC out --------------------------------------------------------------------------------

class _FrameMessage:
    """A pre-built message whose float arguments are rewritten in place for every frame."""

    def __init__(self, address: str, n_floats: int):
        prefix = message_prefix(address, "f" * n_floats)
        self.buffer = bytearray(prefix + b"\0" * (4 * n_floats))
        # A big-endian float32 view onto the argument bytes: assigning to it encodes.
        self.values = np.frombuffer(self.buffer, dtype=">f4", count=n_floats, offset=len(prefix))


class OscOut:
    """Sends each control frame to one or more OSC receivers (Pd, SuperCollider, Max, ...).

    Every frame is three UDP packets per target: /wek/outputs (0..1, table order),
    /instrument/params (physical units) and /instrument/sound (bank index). Sockets are
    connected and non-blocking: a missing receiver (ECONNREFUSED after the kernel got an
    ICMP port-unreachable) or a full send buffer is counted in ``errors``, never raised.

    With ``bundle_latency`` (``--osc-bundles``) every frame is instead one OSC bundle per
    target holding the three messages, time-tagged with the frame's input time plus
    ``bundle_latency`` seconds (NTP, the system clock), so a scheduling receiver applies every
    frame exactly that long after its input, without network or thread jitter.

    Args:
        targets: (host, port) pairs; hosts are resolved once, here.
        table: The parameter table (anything with ``names``) fixing the argument count.
        bundle_latency: None: three plain messages per frame; seconds: one bundle per frame.

    Raises:
        BadInput: A host cannot be resolved or a port is out of range.
    """

    def __init__(self, targets: Iterable[tuple[str, int]], table,
                 bundle_latency: float | None = None):
        self.targets = [(str(host), int(port)) for host, port in targets]
        if not self.targets:
            raise BadInput("no OSC target given", "give at least one HOST:PORT, e.g. "
                           "127.0.0.1:12000")
        n = len(table.names)
        self._outputs = _FrameMessage(OUTPUTS_ADDRESS, n)
        self._params = _FrameMessage(PARAMS_ADDRESS, n)
        self._sound = bytearray(message_prefix(SOUND_ADDRESS, "i") + b"\0" * 4)
        self._sound_offset = len(self._sound) - 4
        self._unit = np.zeros(n, dtype=np.float32)
        self.bundle_latency = None if bundle_latency is None else float(bundle_latency)
        if self.bundle_latency is not None and not 0.0 <= self.bundle_latency <= 10.0:
            raise BadInput(f"OSC bundle latency {bundle_latency!r} s is not in 0..10 s",
                           "use a few milliseconds, e.g. --osc-bundles 10")
        # perf_counter -> system clock, fixed once: time tags keep perf_counter's smoothness.
        self._wall_offset = time.time() - time.perf_counter()
        self.frames = 0
        self.packets = 0
        self.errors = {"refused": 0, "busy": 0, "other": 0}
        self.errors_by_target = [0] * len(self.targets)
        self._sockets = [self._connect(host, port) for host, port in self.targets]
        # index -> /instrument/slice packet (output/slice_osc.py), set for audio-bank models
        self.slice_message = None

    @staticmethod
    def _connect(host: str, port: int) -> socket.socket:
        if not 1 <= port <= 65535:
            raise BadInput(f"OSC port {port} is not in 1..65535", "use e.g. 127.0.0.1:12000")
        try:
            found = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_DGRAM)
        except (socket.gaierror, UnicodeError) as err:
            raise BadInput(f"cannot resolve OSC host {host!r} ({err})",
                           "use an IP address or a known host name, e.g. 127.0.0.1") from None
        # IPv4 first: "localhost" also resolves to ::1, where most synths do not listen.
        family, _, _, _, address = min(found, key=lambda a: a[0] != socket.AF_INET)
        sock = socket.socket(family, socket.SOCK_DGRAM)
        if family == socket.AF_INET:
            # A broadcast address (255.255.255.255, a subnet's x.x.x.255) is sent to only with
            # SO_BROADCAST; the user named it, so every receiver on the network gets the frames.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setblocking(False)
        try:
            # Connected UDP: the kernel reports a missing receiver as ECONNREFUSED on a later send.
            sock.connect(address)
        except OSError as err:
            sock.close()
            raise BadInput(f"cannot send OSC to {host}:{port} ({err.strerror or err})",
                           "check the address, or that this machine has a network there") from None
        return sock

    def send_frame(self, sound_index: int, params_unit, params_physical,
                   at: float | None = None) -> int:
        """Send one control frame to every target.

        Args:
            sound_index: Bank index of the sound playing.
            params_unit: Parameters in 0..1 (clipped to 0..1 on the way out), table order.
            params_physical: The same parameters in physical units.
            at: ``time.perf_counter()`` of the frame's input (bundles are tagged with it
                plus the latency); None: now.

        Returns:
            Number of packets that failed (0 when every receiver got everything).
        """
        np.clip(params_unit, 0.0, 1.0, out=self._unit)
        self._outputs.values[:] = self._unit
        self._params.values[:] = params_physical
        struct.pack_into(">i", self._sound, self._sound_offset, int(sound_index))
        packets = (self._outputs.buffer, self._params.buffer, self._sound)
        if self.slice_message is not None:  # audio-bank models: /instrument/slice too
            packets += (self.slice_message(int(sound_index)),)
        if self.bundle_latency is not None:
            when = (time.perf_counter() if at is None else at) + self._wall_offset
            packets = (encode_bundle(ntp_timetag(when + self.bundle_latency), packets),)
        failed = 0
        for number, sock in enumerate(self._sockets):
            for packet in packets:
                try:
                    sock.send(packet)
                    self.packets += 1
                except OSError as err:
                    failed += 1
                    self.errors_by_target[number] += 1
                    if err.errno == errno.ECONNREFUSED:
                        self.errors["refused"] += 1
                    elif err.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS):
                        self.errors["busy"] += 1
                    else:
                        self.errors["other"] += 1
        self.frames += 1
        return failed

    @property
    def error_count(self) -> int:
        """Packets not sent, all kinds together."""
        return sum(self.errors.values())

    def close(self) -> None:
        """Close every socket (idempotent)."""
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> "OscOut":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
