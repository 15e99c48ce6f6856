"""Cognito: the operators' user pool (the back office's people and their roles), its groups and its app client.

Each pool in TOPOLOGY becomes: a user pool that only administrators add users to (no self sign-up), signed in to by
username or email (case-insensitive), with a strong password policy, optional TOTP MFA, the Plus feature plan with
threat protection enforced (compromised credentials and risky sign-ins are blocked; a few operators cost cents),
deletion protection and retention; one group per role; one app client without a secret (password, SRP and refresh
token flows; no OAuth hosted UI), whose read attributes decide what its ID tokens carry. API Gateway's Cognito
authorizer (infra/capabilities/api.py) accepts only this client's ID tokens.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from dawra.topology import Topology, UserPool

from .naming import pascal

ID_TOKEN_VALIDITY = Duration.hours(1)  # what API Gateway and the console accept before a refresh
REFRESH_TOKEN_VALIDITY = Duration.hours(12)  # one working day: sign in again the next morning


class Operators(Construct):
    def __init__(self, scope: Construct, id: str, *, topology: Topology, deletion_protection: bool) -> None:
        super().__init__(scope, id)
        self.pools: dict[str, cognito.UserPool] = {}
        self.clients: dict[str, cognito.UserPoolClient] = {}
        self.groups: dict[tuple[str, str], cognito.CfnUserPoolGroup] = {}
        for spec in topology.user_pools:
            self._pool(spec, deletion_protection)

    def _pool(self, spec: UserPool, deletion_protection: bool) -> None:
        cid = pascal(spec.id)
        pool = cognito.UserPool(
            self,
            f"{cid}UserPool",
            user_pool_name=spec.name,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)),
            custom_attributes={name: cognito.StringAttribute(min_len=1, max_len=32, mutable=True)
                               for name in spec.custom_attributes},
            password_policy=cognito.PasswordPolicy(
                min_length=spec.min_password_length, require_lowercase=True, require_uppercase=True,
                require_digits=True, require_symbols=True, temp_password_validity=Duration.days(3)),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=deletion_protection,
            removal_policy=RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY,
        )
        for precedence, group in enumerate(spec.groups):
            self.groups[(spec.id, group.name)] = cognito.CfnUserPoolGroup(
                self,
                f"{cid}{pascal(group.name)}Group",
                user_pool_id=pool.user_pool_id,
                group_name=group.name,
                description=group.description,
                precedence=precedence,
            )
        standard = [name for name in spec.client_read_attributes if not name.startswith("custom:")]
        custom = [name.removeprefix("custom:") for name in spec.client_read_attributes if name.startswith("custom:")]
        read_attributes = cognito.ClientAttributes().with_standard_attributes(
            **{name: True for name in standard}).with_custom_attributes(*custom)
        self.clients[spec.id] = pool.add_client(
            f"{cid}Client",
            user_pool_client_name=spec.client_name,
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),  # refresh is always allowed
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=ID_TOKEN_VALIDITY,
            access_token_validity=ID_TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
            read_attributes=read_attributes,
            write_attributes=cognito.ClientAttributes(),  # operators change nothing about themselves through it
        )
        self.pools[spec.id] = pool
