"""Sync with the team's shared REST backend, in either of its dialects. No Textual imports."""
