"""Tests of `hackatimed.config`."""
