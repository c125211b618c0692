"""The product's domain exceptions. Each one is turned into a report row or a log line in one place."""


class AutopilotError(Exception):
    """Base class of the product's own errors."""


class ConfigurationError(AutopilotError):
    """A setting (an environment variable set from a template parameter) is missing or invalid."""

    def __init__(self, variable: str, parameter: str, problem: str) -> None:
        self.variable = variable
        self.parameter = parameter
        super().__init__(f"{variable} (template parameter {parameter}): {problem}")


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


class InvalidLoginEvent(AutopilotError):
    """A `WorkSpaces Access` event that does not match the documented format."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid WorkSpaces Access event: {reason}")
