"""The product's domain exceptions. Each one is turned into a report row or a log line in one place."""


class AutopilotError(Exception):
    """Base class of the product's own errors."""


MAX_SHOWN = 80


class ConfigurationError(AutopilotError):
    """A setting (an environment variable set from a template parameter) is missing or invalid.

    `problem` is a `str.format` template and the values it quotes are passed by name: a text
    value longer than MAX_SHOWN characters is cut there with an ellipsis, and the message ends
    by saying so with its full length, so a huge value cannot flood a log line. Without named
    values, `problem` is the message as it is.
    """

    def __init__(self, variable: str, parameter: str, problem: str, /, **values: object) -> None:
        self.variable = variable
        self.parameter = parameter
        long = {name: v for name, v in values.items() if isinstance(v, str) and len(v) > MAX_SHOWN}
        shown = {**values, **{name: f"{v[:MAX_SHOWN]}…" for name, v in long.items()}}
        message = problem.format(**shown) if values else problem
        if long:
            cut = "; ".join(
                f"{name} cut to {MAX_SHOWN} of its {len(v):,} characters" for name, v in long.items()
            )
            message = f"{message} ({cut})"
        super().__init__(f"{variable} (template parameter {parameter}): {message}")


class InvalidWorkspaceRecord(AutopilotError):
    """A DescribeWorkspaces entry lacks a field the rules need."""

    def __init__(self, workspace_id: str, problem: str) -> None:
        self.workspace_id = workspace_id
        super().__init__(f"malformed WorkSpace record {workspace_id or '<no id>'}: {problem}")


class AwsCallFailed(AutopilotError):
    """An AWS call failed even after botocore's retries. The state machine retries the
    transient kind (its Lambda error type is the class name) and reports the permanent one."""

    def __init__(self, operation: str, error_code: str) -> None:
        self.operation = operation
        self.error_code = error_code
        super().__init__(f"{operation} failed: {error_code}")


class TransientAwsError(AwsCallFailed):
    """Throttling, a 5xx answer or a network fault: worth trying again later."""


class PermanentAwsError(AwsCallFailed):
    """Access denied, a bad request, a missing resource: trying again will not help."""


class InvalidRunInput(AutopilotError):
    """A state machine payload asks for something the run does not cover (an account or region
    outside its targets, a continuation of another directory). Permanent: never retried."""


class InvalidLoginEvent(AutopilotError):
    """A `WorkSpaces Access` event that does not match the documented format."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid WorkSpaces Access event: {reason}")


class UncoveredLoginEvent(AutopilotError):
    """A `WorkSpaces Access` event from an account or region this deployment does not cover:
    the bus policy should have refused it, so it is refused again here and never recorded."""

    def __init__(self, account_id: str, region: str, reason: str) -> None:
        self.account_id = account_id
        self.region = region
        self.reason = reason
        super().__init__(f"login event from {account_id}/{region} refused: {reason}")
