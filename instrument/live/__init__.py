"""Playing: the control loop, the session that wires it, its view and exit summary, and offline render."""
