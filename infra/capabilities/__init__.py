"""One construct per capability. Each builds its part of :data:`dawra.topology.TOPOLOGY`."""
