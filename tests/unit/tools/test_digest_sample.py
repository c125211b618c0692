"""docs/digest-sample.html, linked from the README, is what the product renders today."""

from tests.support.lambda_runtime import ROOT
from tools.digest_sample import sample


def test_the_committed_sample_is_what_the_digest_renders():
    committed = (ROOT / "docs" / "digest-sample.html").read_text()
    assert committed == sample(), (
        "regenerate: .venv/bin/python -m tools.digest_sample > docs/digest-sample.html"
    )
