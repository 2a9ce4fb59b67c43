"""Scrapy settings of the Genie crawler: ``base`` (shared), ``dev`` and ``prod``.

Chosen by SCRAPY_SETTINGS_MODULE (scrapy.cfg defaults to crawlers.settings.dev).
Values that differ between machines come from scenetune.settings.
"""
