"""Shipped model artifacts and their cards. Installed as the package ``vocmine.models`` (see setup.py)
so that code finds them through ``importlib.resources`` in any kind of install."""
