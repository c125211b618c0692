"""Sessions in the accounts and regions a run covers.

The deployment account uses the function's own credentials. A member account is reached by
assuming its role (created by member-account.yaml) with the external id, in the function's own
partition, under a session name and a session policy that give the function only what it and
its settings need (core/member_access.py); the credentials refresh themselves before they
expire, so a long run never fails on expiry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.credentials import RefreshableCredentials

from ws_autopilot.aws.clients import RETRY_CONFIG, aws_call, client
from ws_autopilot.aws.rate_limit import TokenBucket
from ws_autopilot.core.member_access import MemberAccess
from ws_autopilot.core.models import Target
from ws_autopilot.core.settings import AccessSettings
from ws_autopilot.core.targets import account_of_function_arn, partition_of_arn

CLIENTS_KEPT = 64
CREDENTIAL_SECONDS = 3600


class AccountSessions:
    """The clients of one function: `function_arn` is its own ARN (the deployment account and
    the partition, which member accounts share, come from it); `access` is what its member
    sessions may do."""

    def __init__(
        self,
        function_arn: str,
        role_name: str,
        external_id: str,
        api_rate: float,
        api_burst: int,
        access: MemberAccess,
        sts_client: Any | None = None,
        time_fetcher: Callable[[], datetime] | None = None,
    ) -> None:
        self.home_account = account_of_function_arn(function_arn)
        self.partition = partition_of_arn(function_arn)
        self.role_name = role_name
        self.external_id = external_id
        self.api_rate = api_rate
        self.api_burst = api_burst
        self.access = access
        self._sts = sts_client
        self._time_fetcher = time_fetcher
        self._credentials: dict[str, RefreshableCredentials] = {}
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: OrderedDict[tuple[str, Target], Any] = OrderedDict()
        self._buckets: dict[Target, TokenBucket] = {}
        self._lock = threading.RLock()  # boto3 does not create clients safely from several threads

    def role_arn(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{self.role_name}"

    def client(self, service: str, target: Target) -> Any:
        """The client for `service` in the target's account and region. The CLIENTS_KEPT most
        recently used are kept for these sessions' life (a client costs about 10 ms of CPU to
        make and about 0.3 MB to keep: a container that works through 2,000 pairs must not keep
        them all, though a caller may hold on to one); WorkSpaces clients carry the target's
        rate limit, which outlives them."""
        key = (service, target)
        with self._lock:
            if key in self._clients:
                self._clients.move_to_end(key)
                return self._clients[key]
            if target.account_id == self.home_account:
                made = client(service, region_name=target.region, own=True)
            else:
                made = self._session(target).client(service, region_name=target.region, config=RETRY_CONFIG)
            if service == "workspaces":
                self._buckets.setdefault(target, TokenBucket(self.api_rate, self.api_burst)).attach(made)
            self._clients[key] = made
            if len(self._clients) > CLIENTS_KEPT:
                self._clients.popitem(last=False)
            return made

    def assume_role_request(self, account_id: str) -> dict[str, Any]:
        """Always with the function's session policy: a session gets the intersection of the
        role's permissions and these, so the member role's broader grants (it serves every
        function) never reach a function that does not need them."""
        return {
            "RoleArn": self.role_arn(account_id),
            "RoleSessionName": self.access.session_name,
            "ExternalId": self.external_id,
            "DurationSeconds": CREDENTIAL_SECONDS,
            "Policy": self.access.session_policy(),
        }

    def _session(self, target: Target) -> boto3.Session:
        """One session per member account, whatever the region, all reading the service models
        through one loader: a session with a loader of its own loads them again (about 0.2 s of
        CPU per client) and keeps its own copy (megabytes per account)."""
        if target.account_id not in self._sessions:
            core = botocore.session.get_session()
            core.register_component("data_loader", _shared_loader())
            # botocore has no public setter for refreshable credentials on a session
            core._credentials = self._member_credentials(target.account_id)
            self._sessions[target.account_id] = boto3.Session(botocore_session=core)
        return self._sessions[target.account_id]

    def _member_credentials(self, account_id: str) -> RefreshableCredentials:
        if account_id not in self._credentials:
            refresh = self._refresher(account_id)
            first = refresh()
            options: dict[str, Any] = {"time_fetcher": self._time_fetcher} if self._time_fetcher else {}
            self._credentials[account_id] = RefreshableCredentials(
                access_key=first["access_key"],
                secret_key=first["secret_key"],
                token=first["token"],
                expiry_time=datetime.fromisoformat(first["expiry_time"]),
                refresh_using=refresh,
                method="sts-assume-role",
                **options,
            )
        return self._credentials[account_id]

    def _refresher(self, account_id: str) -> Callable[[], dict[str, str]]:
        def refresh() -> dict[str, str]:
            sts = self._sts or client("sts")
            with aws_call("AssumeRole"):
                credentials = sts.assume_role(**self.assume_role_request(account_id))["Credentials"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": credentials["Expiration"].isoformat(),
            }

        return refresh


@cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@cache
def function_sessions(function_arn: str, access: MemberAccess) -> AccountSessions:
    """The sessions of a Lambda container, kept for its life: member credentials refresh
    themselves, and each account and region's WorkSpaces rate limit carries over from one
    invocation to the next. The deployment account is the function's own."""
    settings = AccessSettings.from_env()
    return AccountSessions(
        function_arn,
        settings.member_role_name,
        settings.external_id,
        settings.api_rate,
        settings.api_burst,
        access,
    )
