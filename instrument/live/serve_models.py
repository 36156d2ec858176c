"""Models in ``instrument serve``: load, swap between two frames, report training.

The first model opens OSC out (its parameter table sets the message size) and the control
loop; later ones are swapped in by :meth:`instrument.live.loop.ControlLoop.swap_runtime`.
A model that reads its input differently (a stream model's normalisation, another gesture
config) gets a new tracker seeded with the last input, so still frames go on at once.
Every swap records the gesture time between the last frame of the old model and the first
of the new (``Service.swaps``): the frames never stop for longer than the input's own gaps.
"""

from __future__ import annotations

import time

from instrument.live.serve_recording import POINTER_SIZE, first_line


class ServeModels:
    """The model half of :class:`instrument.live.serve.Service` (a mixin)."""

    @staticmethod
    def _load(path: str):
        from instrument.runtime import Runtime

        return Runtime.from_bundle(path)

    def _new_tracker(self, runtime):
        spec = getattr(runtime, "stream_spec", None)
        if spec is None:
            from instrument.gesture.tracker import GestureTracker

            tracker = GestureTracker(runtime.gesture_config, *POINTER_SIZE)
        else:
            from instrument.gesture.stream_tracker import StreamTracker

            tracker = StreamTracker(runtime.gesture_config, spec)
        return tracker

    def _swap(self, runtime, path: str) -> None:
        from instrument.live.loop import ControlLoop

        spec = getattr(runtime, "stream_spec", None)
        width = 2 if spec is None else spec.width
        with self._lock:
            if self.width is not None and self.width != width:
                self.log(f"serve: model {path} plays {width} inputs; the inputs were "
                         f"{self.width} wide and are {width} from now on")
            self.width = width
            if self.loop is None:
                from instrument.output.osc import OscOut

                self.osc_out = OscOut(self.opts.osc, runtime.table,
                                      bundle_latency=self.opts.osc_bundles_s)
                self.loop = ControlLoop(runtime, self._new_tracker(runtime), self.osc_out,
                                        on_frame=self._on_frame)
                self._open_midi(runtime)
            else:
                same = (spec is None and getattr(self.runtime, "stream_spec", None) is None
                        and runtime.gesture_config == self.runtime.gesture_config)
                tracker = None if same else self._seeded(self._new_tracker(runtime))
                self._pending_swap = {"t": None, "gap_s": None, "model": path}
                self.loop.swap_runtime(runtime, tracker)
            self.runtime, self.model_path = runtime, path

    def _seeded(self, tracker):
        # The last input again, so still frames go on at once with the new model.
        if self.last_sample is not None:
            t, values = self.last_sample
            if self._pointer() and len(values) == 2:
                tracker.push(t, values[0] * POINTER_SIZE[0], values[1] * POINTER_SIZE[1])
            elif hasattr(tracker, "width") and len(values) == tracker.width:
                tracker.push(t, values)
        return tracker

    def _open_midi(self, runtime) -> None:
        if self.opts.midi and self.midi is None:
            from instrument.output.midi_out import open_midi_out

            self.midi = open_midi_out(runtime.table, rest_s=runtime.gesture_config.rest_after_s,
                                      **self.opts.midi)

    def _on_frame(self, t: float, sound: int, physical) -> None:
        # Called with the loop's lock held, for every frame.
        pending = self._pending_swap
        if pending is not None:
            # the first frame of the new model and the frame just before it (the old one's)
            pending["t"] = t
            pending["gap_s"] = None if self._frame_t is None else t - self._frame_t
            self.swaps.append(pending)
            self._pending_swap = None
        self._frame_t = t
        if self.midi is not None:
            tracker = self.loop.tracker if self.loop is not None else None
            self.midi.frame(t, None, physical, getattr(tracker, "last_time", None) == t)

    def _trained(self, path: str, seconds: float) -> None:
        from instrument.errors import InstrumentError
        from instrument.live.serve_training import model_metrics

        try:
            runtime = self._load(path)
            self._swap(runtime, path)
        except Exception as err:  # noqa: BLE001 - the old model plays on
            self._send_failed(f"the new model does not play here ({first_line(err)})")
            return
        took = (time.perf_counter() - self.trainer.started_at) if self.trainer.started_at \
            else seconds
        metrics = model_metrics(path)
        try:
            self.project.set_current(path, metrics)
        except InstrumentError as err:   # disk full: it plays, but a restart will not resume it
            self.log(f"serve: cannot remember {path} as the model to resume ({first_line(err)})")
        if self.wants_running and not self.running:
            self.start_running()
        self.log(f"serve: now playing {path} (train -> playing in {took:.1f} s)")
        self.last_train_seconds = took
        self._send("/instrument/trained", [path, "seconds", float(took),
                                           *[x for kv in metrics.items() for x in kv]])

    def _train_failed(self, reason: str) -> None:
        self._send_failed(reason)

    def _send_failed(self, reason: str) -> None:
        self.log(f"serve: training failed: {reason}")
        self._send("/instrument/trainingFailed", [reason[:200]])

    def _send(self, address: str, args: list) -> None:
        """A reply to every OSC target (a receiver that is not there is no error)."""
        from instrument.formats.osc_control import encode_reply

        if self._reply is None:
            return
        packet = encode_reply(address, args)
        for host, port in self.opts.osc:
            try:
                self._reply.sendto(packet, (host, port))
            except OSError:
                pass


