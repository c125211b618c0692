"""Login checks, as pure functions: where a login came from, and whether that was allowed."""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.models import Target
from ws_autopilot.logins.events import WorkSpacesAccessEvent

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV4_PREFIX = 24
IPV6_PREFIX = 48


class AlertReason(StrEnum):
    OUTSIDE_ALLOWED_NETWORKS = "outside_allowed_networks"
    NO_CLIENT_IP = "no_client_ip"
    UNPARSEABLE_CLIENT_IP = "unparseable_client_ip"
    NEW_NETWORK = "new_network"


@dataclass(frozen=True, slots=True)
class Login:
    """One successful login, normalised: what is stored and what alerts describe."""

    event_id: str
    account_id: str
    region: str
    workspace_id: str
    directory_id: str
    user_name: str | None
    client_ip: str
    client_platform: str
    client_product: str
    client_version: str | None
    login_time: datetime

    @classmethod
    def from_event(cls, event: WorkSpacesAccessEvent, user_name: str | None) -> Login:
        detail = event.detail
        return cls(
            event_id=event.id,
            account_id=event.account,
            region=event.region,
            workspace_id=detail.workspace_id,
            directory_id=detail.directory_id,
            user_name=user_name,
            client_ip=detail.client_ip,
            client_platform=detail.client_platform,
            client_product=detail.client_product,
            client_version=detail.client_version,
            login_time=detail.login_time,
        )

    @property
    def target(self) -> Target:
        return Target(self.account_id, self.region)


def coverage_refusal(
    account_id: str, region: str, accounts: frozenset[str], regions: frozenset[str]
) -> str | None:
    """Why a login event from `account_id`/`region` is not taken, or None when it is: both must
    be among those the product covers (the deployment account, the member accounts, the regions)."""
    if account_id not in accounts:
        return f"account {account_id} is not covered (MemberAccounts, OrganizationParentIds)"
    if region not in regions:
        return f"region {region} is not covered (Regions: {', '.join(sorted(regions))})"
    return None


def parse_allow_list(
    text: str, variable: str = "ALLOWED_CLIENT_NETWORKS", parameter: str = "AllowedClientNetworks"
) -> tuple[IPNetwork, ...]:
    """Comma-separated CIDRs (IPv4 and IPv6; a bare address is a /32 or /128). Empty: no list.

    Raises ConfigurationError naming the first entry that is not an IP network, or that is one
    an operator cannot have meant:
    - host bits set (`10.0.0.7/8`): most likely a typo; the message names the network it would
      mean (10.0.0.0/8), to be written as such if that is the intent;
    - a /0 (`0.0.0.0/0`, `::/0`): it allows every address of its version, so it checks nothing
      there; an empty parameter is how to have no allow-list.
    """
    networks = []
    for raw in text.split(","):
        entry = raw.strip(string.whitespace)
        if not entry:
            continue
        try:
            network: IPNetwork | None = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            network = None
        # A zone index (fe80::1%eth0) names an interface of one host, not a network.
        if network is None or "%" in entry:
            raise ConfigurationError(variable, parameter, "entry {entry!r} is not an IP network", entry=entry)
        if network.prefixlen == 0:
            raise ConfigurationError(
                variable,
                parameter,
                "entry {entry!r} allows every IPv{version} address; "
                "to have no allow-list, leave the parameter empty",
                entry=entry,
                version=network.version,
            )
        if ipaddress.ip_interface(entry).ip != network.network_address:
            raise ConfigurationError(
                variable,
                parameter,
                "entry {entry!r} has host bits set; did you mean {network}?",
                entry=entry,
                network=str(network),
            )
        networks.append(network)
    return tuple(networks)


def parse_client_ip(text: str) -> IPAddress | None:
    """The client address, or None when empty or unparseable. IPv4-mapped IPv6 becomes IPv4."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def network_of(address: IPAddress) -> IPNetwork:
    """The network a login is attributed to: the /24 of an IPv4 address, the /48 of an IPv6 one."""
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def allow_list_violation(client_ip: str, allowed: tuple[IPNetwork, ...]) -> AlertReason | None:
    """Why a login breaks the allow-list, or None. An empty allow-list allows everything; while
    one is set, a login with an empty or unparseable address is a violation too."""
    if not allowed:
        return None
    if not client_ip.strip():
        return AlertReason.NO_CLIENT_IP
    address = parse_client_ip(client_ip)
    if address is None:
        return AlertReason.UNPARSEABLE_CLIENT_IP
    if any(address.version == network.version and address in network for network in allowed):
        return None
    return AlertReason.OUTSIDE_ALLOWED_NETWORKS


def is_new_network(network_seen_before: bool, workspace_has_history: bool) -> bool:
    """A network counts as new only for a WorkSpace with earlier logins in the retention window:
    a WorkSpace's first login teaches its network rather than alerting on it."""
    return workspace_has_history and not network_seen_before
