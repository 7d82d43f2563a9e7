"""Tests of `hackatimed.commands`."""
