"""When the audio will not start: one line that names the flag that fixes it.

The voices say what failed in their own terms (no device, no JACK server, a PortAudio error);
``perform`` knows which flags the user gave, so the advice is chosen here: a running JACK
server with pyo's portaudio backend (which cannot see JACK) -> ``--audio-backend jack``; the
jack backend without a server -> start jackd or drop the flag; and always the way to play
without audio (``--audio none``, OSC only).
"""

from __future__ import annotations


def audio_advice(audio: str, backend: str, jack_is_running: bool) -> str:
    """The fix for a voice that did not start, naming flags.

    Args:
        audio: The ``--audio`` choice ("pyo", "sounddevice").
        backend: The ``--audio-backend`` choice ("portaudio", "jack").
        jack_is_running: Whether a JACK server answers (pyo_voice.jack_running()).
    """
    if audio == "pyo" and backend == "portaudio" and jack_is_running:
        return ("jackd is running: add --audio-backend jack (pyo's own PortAudio does not see "
                "JACK), or --audio sounddevice; or play through OSC only with --audio none")
    if audio == "pyo" and backend == "jack" and not jack_is_running:
        return ("start jackd first (e.g. 'jackd -d alsa', or 'jackd --no-realtime -d dummy' to "
                "test), or drop --audio-backend jack to use the sound card; or play through "
                "OSC only with --audio none")
    if audio == "sounddevice" and not jack_is_running:
        return ("connect a sound card, or start jackd (sounddevice's PortAudio plays through "
                "it); or play through OSC only with --audio none")
    if jack_is_running:
        return ("check the device jackd uses, or try --audio pyo --audio-backend jack; or play "
                "through OSC only with --audio none")
    return ("connect a sound card or start jackd and add --audio-backend jack; or play "
            "through OSC only with --audio none, or render offline with 'instrument render'")


def plain_portaudio(message: str) -> str:
    """A PortAudio error in words first, PortAudio's own text after (never its jargon alone)."""
    text = message.splitlines()[0] if message else "unknown error"
    return f"the sound card could not be opened for output (PortAudio said: {text})"
