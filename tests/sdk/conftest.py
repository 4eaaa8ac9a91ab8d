"""Test outcomes for docs/sdk-matrix.md (scripts/sdk-matrix.py).

When GAIA_SDK_RESULTS names a file (tests/sdk/run.sh sets it), every test's outcome is appended to it as one
JSON line — the call phase's, or the setup phase's when the test failed or was skipped before it ran:

    {"sdk": "openai-python", "api": "chat", "provider": "openai",
     "test": "tests/sdk/test_openai_sdk.py::test_…[openai/gpt-4o-mini]", "outcome": "passed"}

The SDK and the API come from the test's file (FILES), the provider from the prefix of the model the test is
parametrized with ("google" is Gemini); a test of no model has the provider "-". The Node SDK's reporter
(tests/sdk-node/matrix-reporter.mjs) writes the same lines.
"""

import json
import os
from pathlib import Path

import pytest

# Test file → (SDK, API). test_openai_embeddings.py is expected; it counts as soon as it exists.
FILES = {
    "test_openai_sdk.py": ("openai-python", "chat"),
    "test_openai_responses.py": ("openai-python", "responses"),
    "test_openai_structured.py": ("openai-python", "structured"),
    "test_openai_embeddings.py": ("openai-python", "embeddings"),
    "test_anthropic_sdk.py": ("anthropic-python", "messages"),
}
# Model id prefix → provider, as the matrix names them.
PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "google": "gemini", "openrouter": "openrouter"}


def sdk_and_api(path: Path) -> tuple[str, str]:
    """FILES' entry; for a file not listed yet, the SDK its name says and the rest of its name as the API."""
    if path.name in FILES:
        return FILES[path.name]
    stem = path.stem.removeprefix("test_")
    for sdk in ("anthropic", "openai"):
        if stem.startswith(sdk):
            return f"{sdk}-python", stem.removeprefix(sdk).strip("_").removesuffix("_sdk") or "-"
    return "-", stem


def provider(item: pytest.Item) -> str:
    """The provider of the model the test is parametrized with: the `model` parameter, else any parameter
    (or parametrized fixture) whose value is a model id of a known provider; "-" for a test of no model."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    candidates = [params["model"]] if "model" in params else []
    candidates += [value for key, value in params.items() if key != "model"]
    for value in candidates:
        if isinstance(value, str) and "/" in value:
            prefix = value.split("/", 1)[0]
            if prefix in PROVIDERS:
                return PROVIDERS[prefix]
    return "-"


def outcome(report: pytest.TestReport) -> str | None:
    """The outcome to record for this phase's report, or None when the phase records nothing."""
    if report.when == "call":
        return report.outcome
    if report.when == "setup" and not report.passed:
        return report.outcome  # failed (a fixture broke) or skipped (a skip mark or a skip in a fixture)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    destination = os.environ.get("GAIA_SDK_RESULTS")
    recorded = outcome(report) if destination else None
    if recorded is not None:
        sdk, api = sdk_and_api(Path(str(item.path)))
        line = {"sdk": sdk, "api": api, "provider": provider(item), "test": item.nodeid, "outcome": recorded}
        with open(destination, "a", encoding="utf-8") as results:
            results.write(json.dumps(line, ensure_ascii=False) + "\n")
    return report
