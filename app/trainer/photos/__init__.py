"""Datasets as a library: safe ingest, checks, face crops, captions (no web app imports)."""
