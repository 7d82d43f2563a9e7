"""Tests of `hackatimed.detect`."""
