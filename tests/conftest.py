"""The root conftest: registers the shared fixtures of `support.fixtures` for every module.

Only here: pytest loads plugins named in ``pytest_plugins`` from the root conftest alone.
"""

pytest_plugins = ["support.fixtures"]
