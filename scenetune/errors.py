"""Errors a user can act on: one line saying what is wrong and how to fix it."""


class ScenetuneError(Exception):
    """Printed by the CLI as one line, without a traceback."""
