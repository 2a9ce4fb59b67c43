"""The bottom layer: settings, errors, run partitions and file helpers.

Everything else in scenetune imports from here; nothing here imports
anything of scenetune's own.
"""
