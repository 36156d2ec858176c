"""Where gestures come from and what the gesture network sees: capture, OSC in, synthetic
strokes, polar steps and windows."""
