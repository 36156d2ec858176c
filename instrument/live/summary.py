"""What a performance prints when it ends: the summary paragraph and the latency table.

Read from a finished :class:`instrument.live.loop.ControlLoop` (counters and latency rings),
its OSC ends and voices; nothing here changes them.
"""

from __future__ import annotations

from instrument.live.loop import ControlLoop


def osc_targets_text(osc_out) -> str:
    return ", ".join(f"{h}:{p}" for h, p in osc_out.targets)


def fixed_latency_note(voice, latency_s: float) -> str:
    """One line on the constant latency chosen, against what the audio stream needs."""
    needed = voice.on_time_delay
    text = f"Fixed latency {latency_s * 1e3:.1f} ms: every change is heard that long after " \
           "its input"
    if needed is not None and latency_s < needed:
        text += (f"; this stream needs at least {needed * 1e3:.1f} ms (one block plus its "
                 "output latency), so some changes will be late (counted)")
    return text + "."


def summary(loop: ControlLoop, osc_out=None, osc_in=None, seconds: float | None = None,
            voices=()) -> str:
    """The one-paragraph report printed on exit."""
    lat = loop.latency.percentiles()
    parts = [f"{loop.frames} control frames ({loop.sample_frames} from pointer samples, "
             f"{loop.still_frames} while still)"
             + (f" in {seconds:.1f} s" if seconds is not None else "")]
    rejected = loop.tracker.rejected + (osc_in.rejected if osc_in is not None else 0)
    parts.append(f"{loop.dropped_still} still frames skipped because they were late (the "
                 f"loop was busy; skipped rather than sent in a burst), {rejected} bad pointer "
                 "samples ignored")
    if osc_in is not None:
        bad = ", ".join(f"{count} {kind.replace('_', ' ')}"
                        for kind, count in osc_in.counts.items() if count and kind != "ok")
        parts.append(f"OSC in on UDP {osc_in.port}: {osc_in.counts['ok']} good packets"
                     + (f", rejected: {bad}" if bad else ""))
    if osc_out is not None:
        errors = osc_out.error_count
        text = f"OSC out to {osc_targets_text(osc_out)}: {osc_out.packets} packets sent, " \
               f"{errors} errors"
        if osc_out.errors["refused"]:
            text += f" ({osc_out.errors['refused']} refused: no program listening there)"
        parts.append(text)
    late = sum(getattr(voice, "late_changes", 0) for voice in voices)
    if loop.fixed_latency is not None:
        parts.append(f"fixed latency {loop.fixed_latency * 1e3:.1f} ms, {late} changes late")
    if lat["n"]:
        parts.append(f"control latency (from a pointer sample arriving to its control frame "
                     f"sent to every output): half the frames within {lat['p50'] * 1e3:.3f} ms "
                     f"(p50), 99 in 100 within {lat['p99'] * 1e3:.3f} ms (p99), the slowest "
                     f"{lat['max'] * 1e3:.3f} ms; the audio device's buffer comes on top")
    else:
        parts.append("no pointer input, so no latency measured")
    return "Performance: " + "; ".join(parts) + "."


def latency_table(loop: ControlLoop, audio_block_s: float | None = None) -> str:
    """The ``--latency-report`` table (milliseconds)."""
    rows = [("input -> control frame sent", loop.latency.percentiles()),
            ("still frame: due -> sent", loop.still_lateness.percentiles())]
    lines = ["milliseconds; p50: half the frames were faster, p95/p99: all but 1 in 20 / 1 in "
             "100, max: the slowest; n: frames measured",
             f"{'path':34s} {'n':>7s} {'p50':>8s} {'p95':>8s} {'p99':>8s} {'max':>8s}"]
    for name, p in rows:
        cells = " ".join(f"{p[k] * 1e3:8.3f}" for k in ("p50", "p95", "p99", "max"))
        lines.append(f"{name:34s} {p['n']:7d} {cells}")
    if audio_block_s is not None:
        lines.append(f"audio adds one block of {audio_block_s * 1e3:.2f} ms plus the device's "
                     "own buffering (see benchmarks/latency.py)")
    return "\n".join(lines)
