"""The team backend (`vectoros serve`): the documented REST API over the store.

FastAPI and uvicorn are the optional ``server`` extra; only :mod:`.tokens` (used by the
CLI to issue tokens) imports without them.
"""
