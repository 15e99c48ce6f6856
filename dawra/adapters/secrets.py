"""Secrets from Secrets Manager through Powertools' parameters utility, cached for five minutes per container."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dawra.adapters import aws
from dawra.adapters.errors import transient_errors

if TYPE_CHECKING:  # imported when first needed, not at cold start
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

MAX_AGE_S = 300


class ParameterSecrets:
    def __init__(self, client: Any = None):
        self._client = client
        self._provider: SecretsProvider | None = None

    def get(self, name: str) -> str:
        if self._provider is None:
            from aws_lambda_powertools.utilities import parameters

            self._provider = parameters.SecretsProvider(boto3_client=self._client or aws.client("secretsmanager"))
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        with transient_errors("Secrets Manager GetSecretValue"):
            try:
                return str(self._provider.get(name, max_age=MAX_AGE_S))
            except GetParameterError as error:  # Powertools wraps the AWS error: classify what it wraps
                if error.__cause__ is not None:
                    raise error.__cause__ from error
                raise
