"""Placement logging's use cases over the ports of `uow.py`: `entries` (the time ledger), `registry`
and `funding` (the registry's funding inputs). Each takes a command and a unit of work and returns a
domain result or a typed refusal; none imports a driver or a web framework
(`tests/unit/placement_logging/test_usecases.py` holds that)."""
