"""Which accounts and regions login events are taken from: those the product covers, resolved
as ListTargets resolves them (the deployment account, `MemberAccounts`, the ACTIVE accounts under
`OrganizationParentIds`; `Regions` or the deployment region).

The event bus policy already refuses other senders; this is the second check, in code, against
what the event itself says (`account`, `region`): a covered account could forward events it
received from an uncovered one, and the deployment region's default bus takes whatever its
account's rules send there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from ws_autopilot.aws.organization import OrganizationAccounts
from ws_autopilot.core.errors import UncoveredLoginEvent
from ws_autopilot.core.settings import CoverageSettings
from ws_autopilot.logins.policy import coverage_refusal

logger = Logger(child=True)

# How long the organization's accounts are trusted before they are read again, and how soon an
# event from an account not among them may cause a fresh read (an account just moved into an OU).
ORGANIZATION_KEPT = timedelta(hours=1)
ORGANIZATION_RECHECK = timedelta(minutes=5)


class LoginSources:
    def __init__(
        self,
        coverage: CoverageSettings,
        home_account: str,
        organization: Callable[[], OrganizationAccounts],
        clock: Callable[[], datetime],
    ) -> None:
        self.coverage = coverage
        self.listed = frozenset({home_account, *coverage.member_accounts})
        self.regions = frozenset(coverage.regions)
        self._organization = organization
        self.clock = clock
        self._discovered: frozenset[str] = frozenset()
        self._read_at: datetime | None = None

    def check(self, account_id: str, region: str) -> None:
        """Raises UncoveredLoginEvent when the event's account or region is not covered, and
        AwsCallFailed when the organization's accounts cannot be read (the event is retried)."""
        reason = coverage_refusal(account_id, region, self.listed | self._accounts(account_id), self.regions)
        if reason:
            raise UncoveredLoginEvent(account_id, region, reason)

    def _accounts(self, account_id: str) -> frozenset[str]:
        if not self.coverage.organization_parents or account_id in self.listed:
            return frozenset()
        now = self.clock()
        age = None if self._read_at is None else now - self._read_at
        stale = age is None or age >= ORGANIZATION_KEPT
        unknown_and_due = account_id not in self._discovered and (age is None or age >= ORGANIZATION_RECHECK)
        if stale or unknown_and_due:
            self._discovered = frozenset(
                self._organization().active_accounts(list(self.coverage.organization_parents))
            )
            self._read_at = now
            logger.info("organization accounts read", extra={"accounts": len(self._discovered)})
        return self._discovered
