"""Stands in as ``__main__.__file__`` of a pytest-xdist worker (see conftest.py); deliberately empty.

A process pool started with "spawn" from a test re-runs this file as its children's main module.
"""
