"""The test suite. Imported before any test module or conftest, so the environment set here is
in place before the service's modules are: argon2id with its cheapest parameters (see
service.auth.secrets.password_hasher), inherited by the subprocesses the suite starts."""

import os

os.environ["GOODLOOP_TEST_PASSWORD_HASHING"] = "cheapest"
