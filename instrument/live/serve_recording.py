"""Recording examples for ``instrument serve`` (startRecording .. stopRecording).

A take is one file in the project's ``recordings/``: a pointer recording (version 1) for
2-wide inputs played as x, y, a version-2 stream recording with one ``value`` channel per
input otherwise (named by setInputNames when given, ``in1``, ``in2``, ... if not). It grows
as ``take-NNNN.jsonl.part`` (every line flushed) and is moved into place when it stops.
"""

from __future__ import annotations

import contextlib

POINTER_SIZE = (800, 600)         # OSC x, y in 0..1 -> this pointer plane (as perform)


class ServeRecording:
    """The recording half of :class:`instrument.live.serve.Service` (a mixin)."""

    def start_recording(self) -> None:
        """Examples from now on go into a new take in the project's recordings/."""
        with self._lock:
            self.recording_wanted = True
            if self.writer is None and self.width is not None:
                self._open_take()

    def _open_take(self) -> None:
        # The file opens once the stream's width is known (the first input, or the model).
        from instrument.errors import InstrumentError

        path = self.project.next_take()
        try:
            self.writer = self._open_writer(path)
        except InstrumentError as err:
            self.log(f"serve: cannot record ({first_line(err)})")
            self.recording_wanted = False
            return
        self.take_t0 = None
        self.log(f"serve: recording examples into {path}")

    def _open_writer(self, path: str):
        names = self.project.names()["inputs"]
        if self.width == 2 and not self._stream_model():
            from instrument.formats.recording import RecordingWriter

            return RecordingWriter(path, *POINTER_SIZE, source="osc",
                                   **({"input_names": names} if names else {}))
        from instrument.formats.channels import Channel
        from instrument.formats.recording_v2 import StreamWriter

        labels = names if len(names) == self.width else [f"in{i + 1}" for i in
                                                          range(self.width)]
        return StreamWriter(path, [Channel(label) for label in labels], source="osc")

    def _stream_model(self) -> bool:
        return getattr(self.runtime, "stream_spec", None) is not None

    def _record(self, t: float, values: tuple) -> None:
        from instrument.errors import InstrumentError

        if self.take_t0 is None:
            self.take_t0 = t
        try:
            if hasattr(self.writer, "channels"):
                self.writer.add(t - self.take_t0, values)
            else:
                self.writer.add(t - self.take_t0, values[0] * POINTER_SIZE[0],
                                values[1] * POINTER_SIZE[1])
        except InstrumentError as err:     # disk full: stop recording, keep what was written
            self.log(f"serve: recording stopped ({first_line(err)})")
            writer, self.writer = self.writer, None
            close_quietly(writer)

    def stop_recording(self) -> None:
        """Finish the take (moved into place atomically)."""
        with self._lock:
            writer, self.writer = self.writer, None
            self.recording_wanted = False
        if writer is not None:
            close_quietly(writer)
            if getattr(writer, "count", None) == 0:
                # Only the header we wrote: an empty take would make training fail later.
                import os

                with contextlib.suppress(OSError):
                    os.remove(writer.path)
                self.log("serve: no inputs arrived while recording; nothing kept")
                return
            self.log(f"serve: recorded {writer.path} ({writer.count} inputs)")



def fm_table():
    """The FM parameter table (names and count of setOutputNames)."""
    from instrument.sound.params import PARAM_TABLE

    return PARAM_TABLE


def first_line(err: BaseException) -> str:
    """An error as one short log line."""
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__


def close_quietly(writer) -> None:
    """Close a recording writer; a failure was already logged when it happened."""
    from instrument.errors import InstrumentError

    try:
        writer.close()
    except InstrumentError:
        pass
