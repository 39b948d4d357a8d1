"""Sync with the team's shared REST backend (later issue). No Textual."""
