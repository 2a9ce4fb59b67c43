"""Errors a user can act on: one line saying what is wrong and how to fix it."""


class ScenetuneError(Exception):
    """Printed by the CLI as one line, without a traceback."""


class NotRetryable(ScenetuneError):
    """Trying again cannot help (bad configuration, data that failed its audit):
    an Airflow task fails at once instead of spending its retries."""


class ConfigurationError(NotRetryable):
    """A setting or a prerequisite of this machine is wrong; the message names the fix."""
