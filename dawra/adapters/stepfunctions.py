"""Step Functions: the order's workflow, and each return's. Executions are named after the order (the return), so an
order (a return) has only ever one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters import aws
from dawra.adapters.errors import error_code, transient_errors

TASK_OVER = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


class StepFunctionsWorkflow:
    def __init__(self, state_machine_arn: str | None, client: Any = None, return_lifecycle_arn: str | None = None):
        self.state_machine_arn = state_machine_arn
        self.return_lifecycle_arn = return_lifecycle_arn
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("stepfunctions")

    def start(self, order_id: str) -> None:
        self._start(self.state_machine_arn, order_id, {"order_id": order_id})

    def start_return(self, order_id: str, return_id: str) -> None:
        if self.return_lifecycle_arn is None:
            raise ValueError("no return lifecycle state machine is configured")
        self._start(self.return_lifecycle_arn, return_id, {"order_id": order_id, "return_id": return_id})

    def _start(self, state_machine_arn: str | None, name: str, execution_input: dict[str, str]) -> None:
        try:
            with transient_errors("Step Functions StartExecution"):
                self.client.start_execution(stateMachineArn=state_machine_arn, name=name,
                                            input=json.dumps(execution_input))
        except ClientError as error:
            if error_code(error) != "ExecutionAlreadyExists":  # started before (perhaps by us, answer lost)
                raise

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        return self._answer("SendTaskSuccess", lambda: self.client.send_task_success(
            taskToken=token, output=json.dumps(output)))

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._answer("SendTaskFailure", lambda: self.client.send_task_failure(
            taskToken=token, error=error, cause=cause))

    def stop(self, order_id: str, cause: str) -> None:
        if self.state_machine_arn is None:
            raise ValueError("no order lifecycle state machine is configured")
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{order_id}"
        with transient_errors("Step Functions StopExecution"):
            self.client.stop_execution(executionArn=arn, cause=cause)

    @staticmethod
    def _answer(what: str, call: Callable[[], object]) -> bool:
        """False when the task is no longer waiting (token used, timed out, execution over)."""
        try:
            with transient_errors(f"Step Functions {what}"):
                call()
            return True
        except ClientError as error:
            if error_code(error) in TASK_OVER:
                return False
            raise
