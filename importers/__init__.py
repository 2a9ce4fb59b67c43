"""Imports of published datasets into bronze, as runs like a crawl (importers.melon: Kakao Arena's Melon)."""
