"""Tests of `hackatimed.activity`."""
