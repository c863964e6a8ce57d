"""A `SessionStore` in a file, as the app's keystore (or the keychain item an app
shares with its notification extension): for the tests and their child
interpreters alike."""

from __future__ import annotations

import os
import threading

from matrix_mobile_core import Session, SessionStore


class FileStore(SessionStore):
    """Each save written to a temporary file and renamed over the last; the first
    `fail_first` saves raise as a full disk would."""

    def __init__(self, path, fail_first: int = 0) -> None:
        self.path = path
        self.fail_first = fail_first
        self.calls = 0
        self.threads = set()

    def save(self, session: Session) -> None:
        self.calls += 1
        self.threads.add(threading.get_ident())
        if self.calls <= self.fail_first:
            raise OSError("disk full")
        tmp = self.path.with_suffix(".tmp")
        fields = [session.user_id, session.device_id, session.access_token,
                  session.refresh_token or "", session.homeserver_url]
        tmp.write_text("\n".join(fields))
        os.replace(tmp, self.path)

    def load(self):
        if not self.path.exists():
            return None
        user_id, device_id, access, refresh, url = self.path.read_text().split("\n")
        return Session(user_id=user_id, device_id=device_id, access_token=access,
                       refresh_token=refresh or None, homeserver_url=url)
