"""Tests of `hackatimed.delivery`."""
