"""Micro-benchmarks against a loopback server (``python -m benchmarks``); results go to docs/benchmarks.md."""
