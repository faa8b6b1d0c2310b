"""stepbricks' pytest plugin (registered through the `pytest11` entry point).

Session-scoped, warm fixtures: the simulator is started once per test session.
"""
