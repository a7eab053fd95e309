"""dlgrade: grade deep-learning notebooks safely, a whole class at a time."""

__version__ = "0.1.0"
