"""VectorOS TUI: revenue intelligence for B2B sales reps, in the terminal."""

__version__ = "0.1.0"
