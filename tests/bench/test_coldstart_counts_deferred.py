"""The cold-start bench counts what deferring moved (decision 101): a handler's figure includes building every
pydantic validator its import left for later, and the floor's does not pretend to. The library floor (decision 120)
is the floor with the same clients, plus the libraries every function keeps."""

from bench.cold_start import _run, environment, floor_code, handler_code, library_floor_code
from dawra.topology import TOPOLOGY


def test_a_handlers_figure_includes_its_deferred_validators_and_the_floors_has_none():
    function = next(f for f in TOPOLOGY.functions if f.handler.endswith("app.handler") and "allocate" in f.code)
    env = environment(function)
    inside, deferred, process = _run(handler_code(function), env)
    assert 0 < deferred < inside < process  # built (dawra's models defer), and part of the figure compared
    floor_inside, floor_deferred, _ = _run(floor_code(function), env)
    assert floor_deferred == 0.0 and floor_inside > 0


def test_the_library_floor_is_the_floor_with_the_libraries_every_function_keeps():
    function = next(f for f in TOPOLOGY.functions if f.handler.endswith("app.handler") and "allocate" in f.code)
    floor, library = floor_code(function).splitlines(), library_floor_code(function).splitlines()
    assert library[:3] == floor[:3] and library[-1] == floor[-1]  # the same start, clients and measurement
    added = "\n".join(library[3:-1])
    assert "from pydantic import BaseModel" in added and "Logger(); Metrics()" in added
    inside, deferred, _ = _run(library_floor_code(function), environment(function))
    assert inside > 0 and deferred == 0.0


def test_start_lifecycle_cold_starts_without_the_order_aggregate():
    """Decision 125: it reads a timeline event and starts an execution; its import (as the bench measures it, the
    clients created) loads neither the order aggregate nor the ports' domain, while a function that acts on the order
    still does."""
    import subprocess
    import sys

    def loaded(name: str) -> set[str]:
        function = next(f for f in TOPOLOGY.functions if f.name == name)
        code = handler_code(function).replace("print(time.perf_counter() - _t0, time.perf_counter() - _t1)\n", "")
        out = subprocess.run([sys.executable, "-c", code + "print(' '.join(sorted(sys.modules)))\n"],  # noqa: S603
                             env=environment(function), capture_output=True, text=True, check=True)
        return set(out.stdout.split())

    start = loaded("dawra-start-lifecycle")
    assert "dawra.adapters.stepfunctions" in start and "dawra.domain.timeline" in start
    assert not {"dawra.domain.order", "dawra.domain.risk", "dawra.adapters.dynamo.orders"} & start
    assert "dawra.domain.order" in loaded("dawra-ship-order")
