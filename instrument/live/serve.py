"""``instrument serve``: a headless service that can stand in for Wekinator.

One UDP port (6448, on 127.0.0.1 unless another address is asked for) takes ``/wek/inputs``
of any width and Wekinator's ``/wekinator/control/*`` messages; control frames go out as
``perform`` sends them (OSC ``/wek/outputs`` to 127.0.0.1:12000, optionally MIDI). Inputs
make frames at once on the receiving thread (the live loop of :mod:`instrument.live.loop`).
Training runs in a child process (:mod:`instrument.live.serve_training`); the model in play
keeps playing until the new one is loaded, then :meth:`ControlLoop.swap_runtime` swaps them
between two frames. The project folder is :mod:`instrument.live.serve_project`.

A sender can never stop the service: bad packets are counted by kind, unknown control
messages are counted and logged once per address.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from instrument.formats.osc_control import MAX_PACKET, messages
from instrument.live.serve_models import ServeModels
from instrument.live.serve_project import Project, check_names
from instrument.live.serve_recording import POINTER_SIZE, ServeRecording, first_line, fm_table

CONTROL = "/wekinator/control/"
INPUTS = "/wek/inputs"
ABSURD = 1e9                      # beyond this no controller is sane (NaN/inf too)
MAX_UNKNOWN_NAMES = 64            # distinct unknown addresses remembered (memory stays flat)
REJECTS = ("not_osc", "too_large", "wrong_address", "wrong_types", "wrong_width",
           "non_finite", "absurd", "no_values")
# Wekinator's own control messages, and the spellings older clients send, -> our action.
ALIASES = {
    "startRecording": "start_recording", "stopRecording": "stop_recording",
    "startDtwRecording": "start_recording", "stopDtwRecording": "stop_recording",
    "train": "train", "cancelTrain": "cancel_train",
    "startRunning": "start_running", "stopRunning": "stop_running",
    "enableModelRunning": "start_running", "disableModelRunning": "stop_running",
    "deleteAllExamples": "delete_examples",
    "setInputNames": "input_names", "setOutputNames": "output_names",
    # Accepted and ignored: this instrument learns its own mapping, so there are no
    # per-output examples or models to select.
    "enableModelRecording": "ignored", "disableModelRecording": "ignored",
    "outputs": "ignored", "selectInputsForOutput": "ignored",
    "deleteExamplesForOutput": "ignored",
}


@dataclass
class ServeOptions:
    """What ``instrument serve`` was asked to do (see its --help)."""

    project: str = "instrument-project"
    model: str | None = None           # a model to start with when the project has none
    host: str = "127.0.0.1"
    port: int = 6448
    osc: list = field(default_factory=lambda: [("127.0.0.1", 12000)])
    osc_bundles_s: float | None = None
    midi: dict | None = None
    inputs: int | None = None          # None: from the model, else from the first packet
    train_sounds: int = 1000
    train_epochs: int = 10
    run_at_start: bool = True          # play as soon as a model is loaded


class Service(ServeRecording, ServeModels):
    """The service's state; :meth:`handle_datagram` is everything a packet can do.

    Args:
        opts: The options.
        print_fn: Where log lines go (stdout: the journal under systemd).
        clock: ``time.perf_counter`` (tests inject arrival times into handle_datagram).
        still_frames: Run the still-frame clock thread (tests drive frames by samples only).
    """

    def __init__(self, opts: ServeOptions, print_fn=print, clock=time.perf_counter,
                 still_frames: bool = True):
        from instrument.live.serve_training import Trainer

        self.opts, self.log, self.clock = opts, print_fn, clock
        self.still_frames = still_frames
        self.project = Project(opts.project)
        self.counts = {"inputs": 0, **{kind: 0 for kind in REJECTS}}
        self.controls: dict[str, int] = {}
        self.unknown: dict[str, int] = {}
        self.unknown_total = 0
        self.width = opts.inputs
        self.runtime = self.loop = self.osc_out = self.midi = self.clock_thread = None
        self.model_path: str | None = None
        self.running = False
        self.t0 = clock()
        self.writer = None
        self.take_t0 = 0.0
        self.last_sample: tuple[float, tuple] | None = None
        self.swaps: list[dict] = []      # {"t", "gap_s", "model", "seconds"}
        self._frame_t: float | None = None
        self._pending_swap: dict | None = None
        self.wants_running = opts.run_at_start    # startRunning/stopRunning last asked for
        self._lock = threading.RLock()
        self.trainer = Trainer(self._trained, self._train_failed, opts.train_sounds,
                               opts.train_epochs)
        self._train_out: str | None = None
        self._reply = None
        self.recording_wanted = False
        self.last_train_seconds: float | None = None

    # --- start and stop ----------------------------------------------------------------------

    def open(self) -> "Service":
        """Open OSC out (and MIDI), load the project's last model (or --model)."""
        import socket

        self._reply = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._reply.setblocking(False)
        path, why = self.project.current_model()
        if why:
            self.log(f"serve: {why}; starting without it")
        path = path or self.opts.model
        if path:
            try:
                self._swap(self._load(path), path)
                self.log(f"serve: playing {path}")
            except Exception as err:  # noqa: BLE001 - a broken model must not stop the start
                self.log(f"serve: cannot load model {path} ({first_line(err)}); waiting for "
                         "training")
        if self.runtime is not None and self.wants_running:
            self.start_running()
        return self

    def close(self) -> None:
        """Stop training, the clock and every sink; finish an open recording (idempotent)."""
        self.trainer.cancel()
        self.trainer.join(15)
        self.stop_running(asked=False)
        self.stop_recording()
        if self.midi is not None:
            self.midi.close()
        if self.osc_out is not None:
            self.osc_out.close()
        if self._reply is not None:
            self._reply.close()

    # --- packets -----------------------------------------------------------------------------

    def handle_datagram(self, dgram: bytes, arrival: float) -> None:
        """One UDP datagram (message or bundle), arrived at ``clock()`` time ``arrival``."""
        if len(dgram) > MAX_PACKET:
            self.counts["too_large"] += 1
            return
        parsed = messages(dgram)
        if parsed is None:
            self.counts["not_osc"] += 1
            return
        for address, args in parsed:
            if address == INPUTS:
                self._inputs(args, arrival)
            elif address.startswith(CONTROL):
                self.control(address[len(CONTROL):], args)
            else:
                self.counts["wrong_address"] += 1

    def _inputs(self, args: tuple, arrival: float) -> None:
        if not args:
            self.counts["no_values"] += 1
            return
        # The common packet (floats, finite, sane) is checked in one pass; any other goes the
        # long way, which names what is wrong with it.
        plain = _plain_floats(args)
        if not plain and not all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                 for a in args):
            self.counts["wrong_types"] += 1
            return
        with self._lock:
            if self.width is None:
                self.width = len(args)
                self.log(f"serve: inputs are {self.width} values wide (from the first packet)")
            if len(args) != self.width:
                self.counts["wrong_width"] += 1
                return
            if plain:
                values = tuple(args)
            else:
                values = tuple(float(a) for a in args)
                if not all(math.isfinite(v) for v in values):
                    self.counts["non_finite"] += 1
                    return
                if any(abs(v) > ABSURD for v in values):
                    self.counts["absurd"] += 1
                    return
            if self._pointer() and any(not -1.0 <= v <= 2.0 for v in values):
                self.counts["absurd"] += 1
                return
            t = arrival - self.t0
            if self.last_sample is not None and t <= self.last_sample[0]:
                t = self.last_sample[0] + 1e-6   # same clock tick: keep time strictly rising
            self.last_sample = (t, values)
            self.counts["inputs"] += 1
            if self.recording_wanted and self.writer is None:
                self._open_take()
            if self.writer is not None:
                self._record(t, values)
            loop = self.loop if self.running else None
        if loop is not None:
            if self._pointer():
                loop.sample(t, values[0] * POINTER_SIZE[0], values[1] * POINTER_SIZE[1], arrival)
            else:
                loop.sample_stream(t, values, arrival)

    def _pointer(self) -> bool:
        spec = getattr(self.runtime, "stream_spec", None) if self.runtime is not None else None
        return spec is None and self.width == 2

    # --- control messages --------------------------------------------------------------------

    def control(self, name: str, args: tuple = ()) -> None:
        """One ``/wekinator/control/NAME`` message; unknown ones are counted and logged once."""
        action = ALIASES.get(name)
        if action is None:
            self.unknown_total += 1
            if name in self.unknown:
                self.unknown[name] += 1
            elif len(self.unknown) < MAX_UNKNOWN_NAMES:
                self.unknown[name] = 1
                self.log(f"serve: unknown control message {CONTROL}{name[:80]} ignored "
                         "(counted; see README 'Replacing Wekinator')")
            return
        self.controls[name] = self.controls.get(name, 0) + 1
        if action == "ignored":
            return
        if action in ("input_names", "output_names"):
            self._names(action, args)
            return
        getattr(self, action)()

    def train(self) -> None:
        """Train on every example in the background; playing goes on meanwhile."""
        files = self.project.recordings()
        if not files:
            self._send_failed("no examples to train on: send startRecording, inputs, "
                              "stopRecording first")
            return
        out = self.project.next_model()
        if self.trainer.start(files, out):
            self._train_out = out
            self.log(f"serve: training on {len(files)} example file(s) into {out}")
        else:
            self.log("serve: already training (send cancelTrain to stop it)")

    def cancel_train(self) -> None:
        """Stop a training in progress (nothing is left behind)."""
        if self.trainer.cancel():
            self.log("serve: training cancelled")

    def start_running(self) -> None:
        """Send outputs from now on (when a model is loaded)."""
        from instrument.live.loop import StillClock

        with self._lock:
            self.wants_running = True
            if self.running or self.loop is None:
                if self.loop is None:
                    self.log("serve: no model yet: train first (it runs once trained)")
                return
            self.running = True
            self.loop.swap_runtime(self.runtime, self._new_tracker(self.runtime))
            if self.still_frames:
                self.clock_thread = StillClock(self.loop, self.t0,
                                               1.0 / self.runtime.gesture_config.rate_hz
                                               ).start()

    def stop_running(self, asked: bool = True) -> None:
        """Stop sending outputs (inputs are still recorded when recording)."""
        with self._lock:
            if asked:
                self.wants_running = False
            self.running = False
            clock, self.clock_thread = self.clock_thread, None
        if clock is not None:
            clock.stop()

    def delete_examples(self) -> None:
        """Move every example aside into the project (never deleted)."""
        self.stop_recording()
        count, folder = self.project.set_examples_aside()
        if count:
            self.log(f"serve: {count} example file(s) moved to {folder} (move them back into "
                     f"{self.project.recordings_dir} to undo)")

    def _names(self, action: str, args: tuple) -> None:
        from instrument.errors import InstrumentError

        which = "inputs" if action == "input_names" else "outputs"
        expected = self.width if which == "inputs" else len(fm_table().names)
        try:
            names = check_names(args, expected)
            self.project.set_names(which, names)
        except InstrumentError as err:
            self.log(f"serve: set{which.title()[:-1]}Names ignored: {first_line(err)}")


def _plain_floats(args) -> bool:
    """True when every value is a float inside ±ABSURD (NaN fails the comparison)."""
    for a in args:
        if type(a) is not float or not -ABSURD <= a <= ABSURD:
            return False
    return True


def bind(host: str, port: int):
    """The service's UDP socket, or one BadInput line (port in use, privileged, bad host)."""
    import errno
    import socket

    from instrument.errors import BadInput

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, int(port)))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise BadInput(f"UDP port {port} is already in use (Wekinator or another "
                           "instrument listening?)", "quit it or pick another --port") from None
        raise BadInput(f"cannot listen on {host}:{port} ({err.strerror})",
                       "use a port above 1023 and an address of this machine") from None
    except (OverflowError, socket.gaierror) as err:
        sock.close()
        raise BadInput(f"cannot listen on {host}:{port} ({err})",
                       "use e.g. --host 127.0.0.1 --port 6448") from None
    sock.settimeout(0.1)
    return sock


def run_service(opts: ServeOptions, stop: threading.Event, print_fn=print,
                seconds: float | None = None) -> Service:
    """Serve until ``stop`` is set (SIGTERM, Ctrl-C) or ``seconds`` have passed.

    Returns:
        The closed service (its counts make the exit summary).
    """
    import sys

    from instrument.live.loop import SWITCH_INTERVAL_S

    sock = bind(opts.host, opts.port)
    # An input waits for the GIL at most 0.5 ms while the still clock runs Python (as perform).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    service = Service(opts, print_fn)
    where = ("from this machine only" if opts.host.startswith("127.") else "open to the network")
    try:
        service.open()
        print_fn(f"serve: listening on UDP {opts.host}:{sock.getsockname()[1]} ({where}), "
                 f"sending to {', '.join(f'{h}:{p}' for h, p in opts.osc)}; project "
                 f"{service.project.root}")
        deadline = None if seconds is None else time.perf_counter() + seconds
        while not stop.is_set():
            if deadline is not None and time.perf_counter() >= deadline:
                break
            try:
                dgram = sock.recv(MAX_PACKET + 1)
            except (TimeoutError, OSError):
                continue
            service.handle_datagram(dgram, time.perf_counter())
    except KeyboardInterrupt:
        pass                         # Ctrl-C: a clean stop, like SIGTERM
    finally:
        sock.close()
        service.close()
    return service


def summary(service: Service) -> str:
    """The line printed when the service stops."""
    loop = service.loop
    frames = "no model played" if loop is None else (
        f"{loop.frames} control frames ({loop.sample_frames} from inputs, {loop.still_frames} "
        f"while still, {loop.dropped_still} still frames dropped)")
    rejected = {k: v for k, v in service.counts.items() if k != "inputs" and v}
    if loop is not None and loop.latency.count:
        lat = loop.latency.percentiles((50, 99))
        frames += (f"; control latency input->sent p50 {lat['p50'] * 1000:.3f} ms, p99 "
                   f"{lat['p99'] * 1000:.3f} ms")
    swaps = "; ".join(f"swapped to {s['model']} between frames {s['gap_s'] * 1000:.1f} ms apart"
                      for s in service.swaps if s.get("gap_s") is not None)
    return (f"serve: {service.counts['inputs']} inputs, {frames}; ignored "
            f"{sum(rejected.values())} packets {rejected or ''}; control messages "
            f"{sum(service.controls.values())}, unknown {service.unknown_total}"
            + (f"; {swaps}" if swaps else "") + ".")
