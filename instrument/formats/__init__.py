"""The bytes we read and write: atomic writes, recordings, model bundles, WAV, control
streams, OSC packets."""
