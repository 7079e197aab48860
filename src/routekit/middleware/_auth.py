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
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

import anyio.to_thread

from ..config import (
    BCRYPT_PREFIXES,
    CRYPT_PREFIXES,
    BasicAuth,
    DigestAuth,
    hash_problem,
    load_users,
    valid_field,
)
from ..errors import ConfigError
from ..http import Response
from ._call import (
    Call,
    Layer,
    Step,
    get_header,
    plain,
    remove_header,
    set_header,
)

__all__ = ["Digest", "Users", "basic_credentials", "check_secret", "digest_fields"]

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


class _Flight:
    """A check under way, that the same credentials arriving meanwhile wait for."""

    __slots__ = ("done", "ok")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.ok = False


class Users:
    """The users of one basicAuth middleware, with the memory of recent good checks."""

    __slots__ = ("_fallback", "_flights", "_good", "_keyed", "_users")

    def __init__(self, users: dict[str, str]) -> None:
        for name, secret in users.items():
            problem = hash_problem(secret)
            if problem is not None:
                raise ConfigError(f"user {name!r}: {problem}")
        _needs_extra(users.values())
        self._users = users
        self._fallback = next(iter(users.values()))
        # A keyed BLAKE2b, its key set up once: each mark copies it (half the cost of a new one).
        self._keyed = hashlib.blake2b(key=secrets.token_bytes(32), digest_size=16)
        self._good: OrderedDict[bytes, str] = OrderedDict()
        self._flights: dict[bytes, _Flight] = {}

    def _mark(self, seen: bytes) -> bytes:
        # A keyed digest, not the password, is what is remembered.
        keyed = self._keyed.copy()
        keyed.update(seen)
        return keyed.digest()

    def remembered(self, header: bytes) -> str | None:
        """The user of an ``Authorization`` value that passed a check recently, or ``None``."""
        keyed = self._keyed.copy()  # `_mark`, inlined: this runs on every request
        keyed.update(header)
        mark = keyed.digest()
        user = self._good.get(mark)
        if user is not None:
            self._good.move_to_end(mark)
        return user

    async def check(self, user: str, password: str, header: bytes = b"") -> bool:
        """Whether *user* and *password* are valid (slow hashes in a worker thread); a good
        check is remembered by its ``Authorization`` *header* value."""
        secret = self._users.get(user)
        seen = header or f"{user}\0{password}".encode("utf-8", "surrogateescape")
        mark = self._mark(seen)
        if mark in self._good:
            self._good.move_to_end(mark)
            return True
        flight = self._flights.get(mark)
        if flight is not None:
            # The same credentials are being checked: one bcrypt round serves them all (as
            # Traefik's singleflight), not one per connection that arrived at once.
            await flight.done.wait()
            return flight.ok
        flight = self._flights[mark] = _Flight()
        try:
            checked = secret if secret is not None else self._fallback
            if checked.startswith("{SHA}"):
                ok = check_secret(password, checked)
            else:
                ok = await anyio.to_thread.run_sync(check_secret, password, checked)
            flight.ok = ok = ok and secret is not None
        finally:
            del self._flights[mark]
            flight.done.set()
        if ok:
            self._good[mark] = user
            if len(self._good) > _CACHE_SIZE:
                self._good.popitem(last=False)
        return ok


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
    if not colon or any(c in user for c in "\r\n\x00"):
        return None  # a name that could not go on in a header is no name
    return user, password


#: Who a request authenticates as (``None``: nobody), or an awaitable of it (a slow hash).
Check = Callable[[Call], "str | Awaitable[str | None] | None"]


def _auth_layer(
    model: BasicAuth | DigestAuth, check: Check, challenge: Callable[[], bytes]
) -> Step:
    """What basic and digest authentication share: refuse with 401 and the challenge, or pass
    with the user in ``headerField`` and (``removeHeader``) no ``Authorization``."""
    field = model.header_field.lower().encode("latin-1") if model.header_field else b""
    if field and not valid_field(field, b""):
        raise ConfigError(f"headerField {model.header_field!r} is not a header name")
    remove = model.remove_header

    changes = bool(field) or remove

    def answer(call: Call, user: str | None) -> Response | None:
        if user is None:
            return plain(401, "401 Unauthorized", [(b"www-authenticate", challenge())])
        if field:
            set_header(call.headers, field, user.encode("utf-8", "surrogateescape"))
        if remove:
            remove_header(call.headers, b"authorization")
        return None

    async def later(call: Call, pending: Awaitable[str | None]) -> Response | None:
        return answer(call, await pending)

    def before(call: Call) -> Response | Awaitable[Response | None] | None:
        user = check(call)
        if isinstance(user, str):  # known at once (remembered): no coroutine at all
            return answer(call, user) if changes else None
        return answer(call, None) if user is None else later(call, user)

    return Step(before)


def _realm(model: BasicAuth | DigestAuth) -> str:
    return (model.realm or "traefik").replace('"', "")


def build_basic_auth(model: BasicAuth) -> Layer:
    """The basicAuth layer (its users read and checked now)."""
    users = Users(load_users(model.users, model.users_file))
    challenge = f'Basic realm="{_realm(model)}"'.encode("latin-1", "replace")

    async def verify(user: str, password: str, header: bytes) -> str | None:
        return user if await users.check(user, password, header=header) else None

    def check(call: Call) -> str | Awaitable[str | None] | None:
        header = get_header(call.headers, b"authorization")
        if header is None:
            return None
        user = users.remembered(header)
        if user is not None:  # the common case: a client that logged in already
            call.user = user
            return user
        credentials = basic_credentials(header)
        if credentials is None:
            return None
        call.user = credentials[0]  # for the access log, accepted or not
        return verify(*credentials, header)

    step = _auth_layer(model, check, lambda: challenge)
    if model.header_field or model.remove_header or step.before is None:
        return step
    slow, remembered = step.before, users.remembered

    def before(call: Call) -> Response | Awaitable[Response | None] | None:
        # A client that logged in already, with nothing to change: one frame, one lookup.
        for name, value in call.headers:
            if name == b"authorization":
                user = remembered(value)
                if user is not None:
                    call.user = user
                    return None
                break
        return slow(call)

    return Step(before)


# --- digest (RFC 2617, as abbot/go-http-auth: MD5, qop=auth) -------------------------------

_NONCES: Final = 4096
_DIGEST_FIELD: Final = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


def digest_fields(value: bytes | None) -> dict[str, str] | None:
    """The parameters of a ``Digest`` ``Authorization`` value, or ``None``."""
    if value is None:
        return None
    scheme, _, rest = value.decode("latin-1").partition(" ")
    if scheme.lower() != "digest":
        return None
    return {
        m[1].lower(): m[2] if m[3] == "" and m[2] else m[3] or m[2]
        for m in _DIGEST_FIELD.finditer(rest)
    }


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8", "surrogateescape")).hexdigest()  # RFC 2617's MD5


class Digest:
    """The users and the issued nonces of one digestAuth middleware."""

    def __init__(self, users: dict[str, str], realm: str) -> None:
        self.users = users
        self.realm = realm
        self.opaque = secrets.token_hex(16)
        self._nonces: OrderedDict[str, int] = OrderedDict()

    def challenge(self) -> bytes:
        """A fresh ``WWW-Authenticate`` value (a new nonce is issued)."""
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = 0
        if len(self._nonces) > _NONCES:
            self._nonces.popitem(last=False)
        return (
            f'Digest realm="{self.realm}", nonce="{nonce}", opaque="{self.opaque}", '
            'algorithm="MD5", qop="auth"'
        ).encode("latin-1", "replace")

    def check(self, fields: dict[str, str], method: str, uri: str) -> str | None:
        """The user *fields* authenticate for a request (*method*, *uri*), or ``None``."""
        user, nonce = fields.get("username", ""), fields.get("nonce", "")
        ha1 = self.users.get(f"{user}:{self.realm}")
        if ha1 is None or nonce not in self._nonces or fields.get("uri") != uri:
            return None
        if fields.get("opaque", self.opaque) != self.opaque or fields.get("qop") != "auth":
            return None
        try:
            count = int(fields.get("nc", ""), 16)
        except ValueError:
            return None
        if count <= self._nonces[nonce]:  # a replayed (or reordered) nonce count
            return None
        ha2 = _md5(f"{method}:{uri}")
        want = _md5(f"{ha1}:{nonce}:{fields['nc']}:{fields.get('cnonce', '')}:auth:{ha2}")
        if not hmac.compare_digest(want, fields.get("response", "")):
            return None
        self._nonces[nonce] = count
        return user


def build_digest_auth(model: DigestAuth) -> Layer:
    """The digestAuth layer (users ``name:realm:ha1``, htdigest's format)."""
    digest = Digest(load_users(model.users, model.users_file, fields=3), _realm(model))

    def check(call: Call) -> str | None:
        fields = digest_fields(get_header(call.headers, b"authorization"))
        if fields is None:
            return None
        call.user = fields.get("username")
        return digest.check(fields, call.method.decode("ascii", "replace"), call.target)

    return _auth_layer(model, check, digest.challenge)
