"""Tests of the embedded dialogue engine."""
