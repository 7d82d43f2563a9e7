"""Tests of `hackatimed.watch`."""
