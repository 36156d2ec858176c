"""instrument: a gesture-to-sound performance instrument learned with stacked autoencoders.

Importing this package imports no torch, pyo or pygame; only the modules that need them do.
"""

__version__ = "0.1.0"
