"""An order committed is an order whose lifecycle runs (decision 114).

Checkout commits the order with its `order_confirmed` event and answers; the lifecycle is started from that commit
(the Orders stream's record of the event, dawra-start-lifecycle), not on checkout's request path. So a checkout whose
StartExecution would have failed after its commit, and whose client never retried, no longer leaves an order no
workflow runs: the stream retries the start until it holds. The execution is named after the order: a record
delivered twice, or a start retried after its answer was lost, starts it once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dawra.ports import Workflow


class StartLifecycle:
    def __init__(self, workflow: Workflow):
        self.workflow = workflow

    def __call__(self, order_id: str) -> None:
        """Start the order's lifecycle (a no-op when it runs or ran). A transient failure raises: the record is
        retried."""
        self.workflow.start(order_id)
