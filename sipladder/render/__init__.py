"""Renderers: one small backend per output format, each drawing a :mod:`sipladder.layout` layout."""
