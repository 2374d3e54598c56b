"""amqtt plugins that give the embedded broker Mosquitto's accounts and ACL, from the same files.

The platform writes one password file (``$7$`` PBKDF2 hashes) and one ACL file for Mosquitto
(:mod:`backend.plugs.broker_auth`); these plugins read the same two files, re-reading them when
they change (Mosquitto reloads on SIGHUP), so a device has the same rights on either broker:
no anonymous clients, publish only to topics its ``write`` lines allow, and receive only what its
``read`` lines allow (a forbidden subscription is granted but delivers nothing, as Mosquitto does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from backend.plugs.broker_auth import Rules, parse_acl, parse_passwd, verify_mosquitto_hash


class _Watched:
    """A file parsed again whenever its modification time changes."""

    def __init__(self, path: str, parse) -> None:
        self.path, self.parse = Path(path), parse
        self._stamp: int | None = None
        self.value = parse("")

    def get(self):
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError:
            return self.parse("")  # no file: nobody is allowed anything
        if stamp != self._stamp:
            self.value, self._stamp = self.parse(self.path.read_text()), stamp
        return self.value


class PlatformAuthPlugin(BaseAuthPlugin):
    def __init__(self, context) -> None:
        super().__init__(context)
        self._users = _Watched(self.config.password_file, parse_passwd)

    async def authenticate(self, *, session) -> bool:
        if session is None or not session.username:
            return False
        stored = self._users.get().get(session.username)
        password = session.password or ""
        if isinstance(password, bytes):
            password = password.decode("utf-8", "replace")
        return stored is not None and verify_mosquitto_hash(password, stored)

    @dataclass
    class Config:
        password_file: str = ""


class PlatformAclPlugin(BaseTopicPlugin):
    def __init__(self, context) -> None:
        super().__init__(context)
        self._rules = _Watched(self.config.acl_file, parse_acl)

    async def topic_filtering(self, *, session=None, topic: str | None = None, action: Action | None = None) -> bool:
        if session is None or not session.username or not topic:
            return False
        rules: Rules | None = self._rules.get().get(session.username)
        if rules is None:
            return False
        if action == Action.PUBLISH:
            return rules.may_write(topic)
        if action == Action.RECEIVE:
            return rules.may_read(topic)
        return True  # SUBSCRIBE: granted; delivery is checked message by message

    @dataclass
    class Config:
        acl_file: str = ""
