"""The cold-start bench counts what deferring moved (decision 101): a handler's figure includes building every
pydantic validator its import left for later, and the floor's does not pretend to."""

from bench.cold_start import _run, environment, floor_code, handler_code
from dawra.topology import TOPOLOGY


def test_a_handlers_figure_includes_its_deferred_validators_and_the_floors_has_none():
    function = next(f for f in TOPOLOGY.functions if f.handler.endswith("app.handler") and "allocate" in f.code)
    env = environment(function)
    inside, deferred, process = _run(handler_code(function), env)
    assert 0 < deferred < inside < process  # built (dawra's models defer), and part of the figure compared
    floor_inside, floor_deferred, _ = _run(floor_code(function), env)
    assert floor_deferred == 0.0 and floor_inside > 0
