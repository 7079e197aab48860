"""basicAuth: users and htpasswd hashes, checked as Traefik checks them.

As ``master:pkg/middlewares/auth/basic_auth.go``: the users are the lines of ``usersFile``
(blank lines and ``#`` comments skipped) followed by ``users`` (a later entry for a name wins);
a request without valid credentials gets 401 with ``WWW-Authenticate: Basic realm="…"``; an
unknown user is checked against some user's hash anyway, so that the answer takes as long.  On
success ``headerField`` (if set) carries the user name to the server and ``removeHeader``
drops ``Authorization``.

The hashes Traefik accepts (``abbot/go-http-auth``'s ``CheckSecret``): bcrypt (``$2y$``,
``$2a$``, ``$2b$``), ``{SHA}`` (base64 SHA-1), and MD5-crypt (``$apr1$``, ``$1$``); SHA-crypt
(``$5$``, ``$6$``) as well.  bcrypt is checked by the ``bcrypt`` package and the crypt
families by ``passlib`` (its maintained ``libpass`` release): the ``auth`` extra installs both.
A slow hash is checked in a worker thread; a successful check is remembered (by a keyed
digest of the credentials, never the password) so that a client's next requests cost a
dictionary lookup, not a bcrypt round.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from typing import Final

import anyio.to_thread

from ..config import BCRYPT_PREFIXES, CRYPT_PREFIXES, BasicAuth, hash_problem, load_users
from ..errors import ConfigError
from ..http import Response
from ._call import Call, Layer, Next, get_header, plain, remove_header, set_header

__all__ = ["Users", "basic_credentials", "check_secret"]

_CACHE_SIZE: Final = 1024
_BCRYPT: Final = BCRYPT_PREFIXES
_CRYPT: Final = CRYPT_PREFIXES


def check_secret(password: str, secret: str) -> bool:
    """Whether *password* matches the htpasswd *secret* (bcrypt, {SHA}, MD5- or SHA-crypt)."""
    given = password.encode("utf-8", "surrogateescape")
    if secret.startswith(_BCRYPT):
        import bcrypt

        hashed = secret.encode("ascii", "replace")
        if hashed.startswith(b"$2y$"):  # the same algorithm; the package names it $2b$
            hashed = b"$2b$" + hashed[4:]
        try:
            return bcrypt.checkpw(given[:72], hashed)
        except ValueError:
            return False
    if secret.startswith("{SHA}"):
        try:
            want = base64.b64decode(secret[5:], validate=True)
        except binascii.Error:
            return False
        return hmac.compare_digest(hashlib.sha1(given).digest(), want)
    from passlib.hash import (
        apr_md5_crypt,
        md5_crypt,
        sha256_crypt,
        sha512_crypt,
    )

    for prefix, handler in (
        ("$apr1$", apr_md5_crypt),
        ("$1$", md5_crypt),
        ("$5$", sha256_crypt),
        ("$6$", sha512_crypt),
    ):
        if secret.startswith(prefix):
            try:
                return bool(handler.verify(given, secret))
            except ValueError:
                return False
    return False


class Users:
    """The users of one basicAuth middleware, with the memory of recent good checks."""

    __slots__ = ("_fallback", "_good", "_key", "_users")

    def __init__(self, users: dict[str, str]) -> None:
        for name, secret in users.items():
            problem = hash_problem(secret)
            if problem is not None:
                raise ConfigError(f"user {name!r}: {problem}")
        _needs_extra(users.values())
        self._users = users
        self._fallback = next(iter(users.values()))
        self._key = secrets.token_bytes(32)
        self._good: OrderedDict[bytes, None] = OrderedDict()

    async def check(self, user: str, password: str) -> bool:
        """Whether *user* and *password* are valid (slow hashes in a worker thread)."""
        secret = self._users.get(user)
        mark = hmac.digest(
            self._key, f"{user}\0{password}\0{secret}".encode("utf-8", "surrogateescape"), "sha256"
        )
        if mark in self._good:
            self._good.move_to_end(mark)
            return True
        checked = secret if secret is not None else self._fallback
        if checked.startswith("{SHA}"):
            ok = check_secret(password, checked)
        else:
            ok = await anyio.to_thread.run_sync(check_secret, password, checked)
        if ok and secret is not None:
            self._good[mark] = None
            if len(self._good) > _CACHE_SIZE:
                self._good.popitem(last=False)
            return True
        return False


def _needs_extra(values: Iterable[str]) -> None:
    """Refuse at build time hashes whose package is not installed (not at the first login)."""
    values = list(values)
    for prefixes, module in ((_BCRYPT, "bcrypt"), (_CRYPT, "passlib")):
        if any(v.startswith(prefixes) for v in values):
            try:
                __import__(module)
            except ImportError:
                raise ConfigError(
                    f"checking these hashes needs the {module!r} package: "
                    "pip install 'routekit[auth]'"
                ) from None


def basic_credentials(value: bytes | None) -> tuple[str, str] | None:
    """The user and password of a ``Basic`` ``Authorization`` value, or ``None``."""
    if value is None:
        return None
    scheme, _, token = value.partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def build_basic_auth(model: BasicAuth) -> Layer:
    """The basicAuth layer (its users read and checked now)."""
    users = Users(load_users(model.users, model.users_file))
    realm = (model.realm or "traefik").replace('"', "")
    challenge = [(b"www-authenticate", f'Basic realm="{realm}"'.encode("latin-1", "replace"))]
    field = model.header_field.lower().encode("latin-1") if model.header_field else b""
    remove = model.remove_header

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            credentials = basic_credentials(get_header(call.headers, b"authorization"))
            if credentials is None or not await users.check(*credentials):
                if credentials is not None:
                    call.user = credentials[0]
                return plain(401, "401 Unauthorized", challenge)
            call.user = credentials[0]
            if field:
                set_header(call.headers, field, credentials[0].encode("utf-8", "surrogateescape"))
            if remove:
                remove_header(call.headers, b"authorization")
            return await next_(call)

        return handle

    return layer
