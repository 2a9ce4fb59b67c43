"""A local, Genie-shaped demo site with deterministic content, planted faults and ground truth.

- ``demo_site.catalogue.generate(seed, scale, revision)`` -> Catalogue (playlists, songs, covers' params)
- ``demo_site.server.DemoSite(...)`` -> the HTTP server (context manager)
- ``demo_site.faults.FaultPlan`` -> which faults are planted
See README.md in this folder.
"""
