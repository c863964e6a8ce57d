"""The test homeserver and the fixtures work: these fail, never skip, without a server."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
import synapse_harness


def test_homeserver_answers_versions(homeserver_url):
    with urllib.request.urlopen(f"{homeserver_url}/_matrix/client/versions", timeout=10) as resp:
        assert "v1.1" in json.loads(resp.read())["versions"]


def test_register_gives_distinct_fresh_users(register):
    first, second = register(), register()
    assert first.user_id != second.user_id
    assert first.user_id == f"@{first.username}:localhost"
    assert first.access_token


def test_registering_a_taken_name_is_refused(homeserver_url, user):
    with pytest.raises(synapse_harness.HarnessError, match="M_USER_IN_USE"):
        synapse_harness.register_user(homeserver_url, user.username, "another-password")


def test_data_dir_is_fresh_and_empty(data_dir):
    assert os.path.isdir(data_dir) and os.listdir(data_dir) == []
