"""Benchmarks, the naive baseline server and load tools: measured against the app, never part of it."""
