"""Forecasting, health scoring and insight rules. Plain Python + numpy; never imports Textual."""
