"""Step Functions: start an order's execution (named after the order) and hand back task tokens."""

from __future__ import annotations

import json

from dawra.adapters import aws


class Lifecycle:
    def __init__(self, state_machine_arn: str | None, client=None):
        self.state_machine_arn = state_machine_arn
        self._client = client

    @property
    def client(self):
        return self._client or aws.client("stepfunctions")

    def start(self, order_id: str) -> str:
        """Start the order's execution; starting it again with the same input is a no-op (same name, same input)."""
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=order_id, input=json.dumps({"order_id": order_id}))
            return response["executionArn"]
        except self.client.exceptions.ExecutionAlreadyExists:
            return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{order_id}"

    def resume(self, task_token: str, output: dict) -> bool:
        """SendTaskSuccess; False when the task is already over (token used or timed out)."""
        try:
            self.client.send_task_success(taskToken=task_token, output=json.dumps(output))
            return True
        except (self.client.exceptions.TaskTimedOut, self.client.exceptions.InvalidToken):
            return False
