"""Tests of `hackatimed.service`."""
