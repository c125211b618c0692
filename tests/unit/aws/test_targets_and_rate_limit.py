import pytest

from tests.support.virtual_time import VirtualTime
from ws_autopilot.aws.accounts import AccountSessions
from ws_autopilot.aws.rate_limit import TokenBucket
from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.member_access import MemberFunction, read_only
from ws_autopilot.core.models import Target
from ws_autopilot.core.settings import AccessSettings
from ws_autopilot.core.targets import account_of_function_arn, partition_of_arn, plan_targets
from ws_autopilot.cost.settings import RunSettings


def test_targets_cover_every_account_and_region_once_deployment_account_first():
    assert plan_targets(
        "111111111111", ["222222222222", "111111111111", "222222222222"], ["us-east-1", "eu-west-1"]
    ) == [
        Target("111111111111", "us-east-1"),
        Target("111111111111", "eu-west-1"),
        Target("222222222222", "us-east-1"),
        Target("222222222222", "eu-west-1"),
    ]


def test_the_deployment_account_comes_from_the_function_arn():
    assert account_of_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:x") == "123456789012"
    with pytest.raises(ValueError, match="not a Lambda function ARN"):
        account_of_function_arn("function-x")


def test_run_settings_default_to_the_deployment_region():
    settings = RunSettings.from_env(
        {
            "MAP_CONCURRENCY": "4",
            "AWS_REGION": "eu-central-1",
            "LEDGER_TABLE": "autopilot-ledger",
            "REPORT_BUCKET": "autopilot-reports",
        }
    )
    assert (settings.regions, settings.member_accounts, settings.organization_parents) == (
        ("eu-central-1",),
        (),
        (),
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"REGIONS": "us-east-1,Europe"},
            "REGIONS (template parameter Regions): entry 'Europe' is not an AWS region",
        ),
        ({"MEMBER_ACCOUNTS": "12345"}, "entry '12345' is not a 12-digit account id"),
        ({"ORGANIZATION_PARENT_IDS": "o-abc"}, "entry 'o-abc' is not an organization root or OU id"),
    ],
)
def test_invalid_run_settings_name_the_entry(env, message):
    with pytest.raises(ConfigurationError) as raised:
        RunSettings.from_env({"MAP_CONCURRENCY": "4", "AWS_REGION": "us-east-1", **env})
    assert message in str(raised.value)


ACCESS = {
    "MEMBER_ROLE_NAME": "Member",
    "EXTERNAL_ID": "ext",
    "WORKSPACES_API_RATE": "2",
    "WORKSPACES_API_BURST": "5",
    "DRY_RUN": "true",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"WORKSPACES_API_RATE": "fast"},
            "WORKSPACES_API_RATE (template parameter WorkSpacesApiRate): must be from 0.1",
        ),
        ({"WORKSPACES_API_RATE": "0"}, "got '0'"),
        ({"WORKSPACES_API_BURST": "0"}, "WORKSPACES_API_BURST (template parameter WorkSpacesApiBurst)"),
        ({"MEMBER_ROLE_NAME": "a role"}, "'a role' is not an IAM role name"),
    ],
)
def test_invalid_access_settings_name_the_parameter(env, message):
    with pytest.raises(ConfigurationError) as raised:
        AccessSettings.from_env({**ACCESS, **env})
    assert message in str(raised.value)


def test_token_bucket_allows_the_burst_then_the_rate(monkeypatch):
    clock = VirtualTime().install(monkeypatch)
    bucket = TokenBucket(rate=2, burst=5)
    sent = []
    for _ in range(25):
        bucket.acquire()
        sent.append(clock.now())
    assert sent[4] - sent[0] < 0.01, "the first five go at once"
    assert sent[24] - sent[4] == pytest.approx(10, abs=0.05), "then two per second"
    assert bucket.waited == pytest.approx(10, abs=0.05)


def test_token_bucket_refills_while_idle_but_never_beyond_the_burst(monkeypatch):
    clock = VirtualTime().install(monkeypatch)
    bucket = TokenBucket(rate=2, burst=5)
    for _ in range(5):
        bucket.acquire()
    clock.sleep(60)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(0.5, abs=0.01)


def test_token_bucket_rejects_a_rate_of_zero():
    with pytest.raises(ValueError, match="rate must be > 0"):
        TokenBucket(rate=0, burst=5)


@pytest.mark.parametrize(
    ("function_arn", "partition"),
    [
        ("arn:aws:lambda:eu-west-1:123456789012:function:x", "aws"),
        ("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:x", "aws-us-gov"),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:x", "aws-cn"),
    ],
)
def test_member_roles_are_assumed_in_the_functions_own_partition_under_its_session_name(
    function_arn, partition
):
    access = read_only(MemberFunction.LOGIN_EVENTS)
    sessions = AccountSessions(function_arn, "Member", "ext", api_rate=2, api_burst=5, access=access)
    assert partition_of_arn(function_arn) == partition
    assert sessions.home_account == "123456789012"
    assert sessions.assume_role_request("222222222222") == {
        "RoleArn": f"arn:{partition}:iam::222222222222:role/Member",
        "RoleSessionName": "ws-autopilot-login-events",
        "ExternalId": "ext",
        "DurationSeconds": 3600,
        "Policy": access.session_policy(),
    }
    with pytest.raises(ValueError, match="not an ARN"):
        partition_of_arn("function-x")
