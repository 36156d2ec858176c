"""Subcommands of the `instrument` CLI, one module each (see instrument/cli.py).

Modules here must not import torch, pyo or pygame at module level: import them inside run().
"""
