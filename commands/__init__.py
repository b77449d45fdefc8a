"""Slash-command capabilities, one module each, every one with a ``register(app)``."""
