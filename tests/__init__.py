"""The tests, one folder per package of `hackatimed`; the helpers they share sit here."""
