"""Where control frames go: the pyo voice, the sounddevice voice, audio-device checks, OSC out."""
