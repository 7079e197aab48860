"""The Kubernetes API as the Ingress provider uses it: credentials, lists, watches, status.

Written against the API's documented wire format
(https://kubernetes.io/docs/reference/using-api/api-concepts/) over routekit's h11 client:

- a collection is read with ``GET <prefix>/[namespaces/<ns>/]<plural>?limit=500``, page by page
  (``metadata.continue``), all at one ``metadata.resourceVersion``;
- it is followed with ``?watch=1&resourceVersion=R&allowWatchBookmarks=true&timeoutSeconds=N``,
  a chunked stream of JSON lines; bookmarks move R forward without a change, and an ``ERROR``
  event with a 410 Status (R compacted away) means: list again;
- errors are ``v1.Status`` objects whose ``message`` says what the API server refused (an
  RBAC 403 names the verb, resource and scope).

Credentials are found as Traefik finds them (``pkg/provider/kubernetes/ingress/client.go``):
inside a pod (``KUBERNETES_SERVICE_HOST``/``_PORT``) the service account's token and CA; else
the file named by ``KUBECONFIG``; else the configured endpoint, token and CA file.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import urllib.parse
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path
from typing import Any, Final, final

import attrs

from ..errors import ConfigError, MalformedResponse, ProviderError
from ..http import Client, ClientResponse, PoolLimits, client_context
from ._remote import MAX_RESPONSE, json_lines, parse_json, read_json

__all__ = ["SERVICE_ACCOUNT", "Credentials", "Gone", "KubeClient", "Resource", "RESOURCES"]

#: Where a pod's service account is mounted.
SERVICE_ACCOUNT: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_PAGE: Final = 500


@final
@attrs.frozen
class Resource:
    """One kind of object the provider follows."""

    prefix: str  # /api/v1, /apis/networking.k8s.io/v1…
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None) -> str:
        """The collection's path, in *namespace* or (``None``) across the cluster."""
        if namespace is None or not self.namespaced:
            return f"{self.prefix}/{self.plural}"
        return f"{self.prefix}/namespaces/{urllib.parse.quote(namespace, safe='')}/{self.plural}"


RESOURCES: Final = {
    "ingresses": Resource("/apis/networking.k8s.io/v1", "ingresses"),
    "services": Resource("/api/v1", "services"),
    "endpoint_slices": Resource("/apis/discovery.k8s.io/v1", "endpointslices"),
    "secrets": Resource("/api/v1", "secrets"),
    "ingress_classes": Resource("/apis/networking.k8s.io/v1", "ingressclasses", namespaced=False),
}


class Gone(ProviderError):
    """The resource version a watch started from was compacted away (410): list again."""


@final
@attrs.frozen(kw_only=True)
class Credentials:
    """Where the API server is and how to prove who we are.

    Attributes:
        server: ``https://host:port``.
        token: a bearer token (or empty).
        token_file: a file holding it, read again when it changes (service-account tokens
            are rotated by the kubelet).
        ca: a CA file or PEM text to trust, beside the system's.
        cert: a client certificate (file or PEM text), with *key*.
        key: its private key.
        insecure: skip the verification of the server's certificate.
        username: basic-auth user (with *password*), as kubeconfig allows.
        password: its password.
        origin: how these were found (in-cluster, a kubeconfig path, the options), for logs.
    """

    server: str
    token: str = ""
    token_file: str = ""
    ca: str = ""
    cert: str = ""
    key: str = ""
    insecure: bool = False
    username: str = ""
    password: str = ""
    origin: str = "options"

    @classmethod
    def find(
        cls,
        *,
        endpoint: str = "",
        token: str = "",
        ca_file: str = "",
        kubeconfig: str | None = None,
        service_account: Path = SERVICE_ACCOUNT,
        environ: Mapping[str, str] | None = None,
    ) -> Credentials:
        """As Traefik: in-cluster, else ``KUBECONFIG`` (or *kubeconfig*), else the options.

        Raises:
            ConfigError: nothing says where the API server is, or a file cannot be read.
        """
        env = os.environ if environ is None else environ
        host, port = env.get("KUBERNETES_SERVICE_HOST", ""), env.get("KUBERNETES_SERVICE_PORT", "")
        if host and port:
            server = endpoint or f"https://{f'[{host}]' if ':' in host else host}:{port}"
            ca = service_account / "ca.crt"
            return cls(
                server=server,
                token_file=str(service_account / "token"),
                ca=str(ca) if ca.exists() else "",
                origin="in-cluster service account",
            )
        path = kubeconfig if kubeconfig is not None else env.get("KUBECONFIG", "")
        if path:
            return load_kubeconfig(path.split(os.pathsep)[0])
        if not endpoint:
            raise ConfigError(
                "kubernetes: no endpoint: set endpoint (and token, certAuthFilePath) outside a "
                "cluster, or KUBECONFIG"
            )
        if token and Path(token).is_file():  # Traefik's FileOrContent: a path or the token
            return cls(server=endpoint, token_file=token, ca=ca_file)
        return cls(server=endpoint, token=token, ca=ca_file)


def load_kubeconfig(path: str) -> Credentials:
    """The credentials of a kubeconfig file's current context.

    A kubeconfig is YAML (JSON is YAML too): read with PyYAML when it is installed
    (``pip install 'routekit[kubernetes]'``), else as JSON.

    Raises:
        ConfigError: the file is missing, unreadable, or lacks what the context names.
    """
    where = f"kubeconfig {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot be read: {exc}") from None
    data = _parse_kubeconfig(text, where)
    base = Path(path).resolve().parent

    def named(section: str, name: str) -> Mapping[str, Any]:
        for item in data.get(section) or []:
            if isinstance(item, Mapping) and item.get("name") == name:
                inner = item.get(section[:-1])
                if isinstance(inner, Mapping):
                    return inner
        raise ConfigError(f"{where}: no {section[:-1]} named {name!r}")

    current = data.get("current-context")
    if not isinstance(current, str) or not current:
        raise ConfigError(f"{where}: no current-context")
    context = named("contexts", current)
    cluster = named("clusters", str(context.get("cluster", "")))
    user = named("users", str(context.get("user", ""))) if context.get("user") else {}
    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        raise ConfigError(f"{where}: cluster {context.get('cluster')!r} has no server")

    def file_or_data(mapping: Mapping[str, Any], field: str) -> str:
        inline = mapping.get(f"{field}-data")
        if isinstance(inline, str) and inline:
            try:
                return base64.b64decode(inline, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise ConfigError(f"{where}: {field}-data is not base64 PEM") from None
        named_file = mapping.get(field)
        if isinstance(named_file, str) and named_file:
            return str(base / named_file)
        return ""

    token_file = user.get("tokenFile")
    return Credentials(
        server=server,
        token=str(user.get("token") or ""),
        token_file=str(base / token_file) if isinstance(token_file, str) and token_file else "",
        ca=file_or_data(cluster, "certificate-authority"),
        cert=file_or_data(user, "client-certificate"),
        key=file_or_data(user, "client-key"),
        insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
        username=str(user.get("username") or ""),
        password=str(user.get("password") or ""),
        origin=where,
    )


def _parse_kubeconfig(text: str, where: str) -> Mapping[str, Any]:
    try:
        import yaml
    except ImportError:
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigError(
                f"{where}: reading a YAML kubeconfig needs PyYAML: "
                "pip install 'routekit[kubernetes]'"
            ) from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: not YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping at the top")
    return data


@final
class KubeClient:
    """Requests to one API server with one set of credentials."""

    def __init__(self, credentials: Credentials, *, timeout: float) -> None:
        self.credentials = credentials
        self.server = credentials.server.rstrip("/")
        parts = urllib.parse.urlsplit(self.server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"kubernetes: endpoint must be an http(s) URL, got {self.server!r}")
        self._context = None
        if parts.scheme == "https":
            self._context = client_context(
                root_cas=(credentials.ca,) if credentials.ca else (),
                certificates=((credentials.cert, credentials.key),) if credentials.cert else (),
                insecure_skip_verify=credentials.insecure,
                what="kubernetes",
            )
        self.timeout = timeout
        self._token_seen: tuple[float, str] = (-1.0, "")

    def client(self, *, watch: float | None = None) -> Client:
        """A connection pool; *watch* is the read timeout of a watch stream."""
        read = self.timeout if watch is None else watch
        t = self.timeout
        return Client(PoolLimits(connect=t, read=read, write=t, pool=t), ssl_context=self._context)

    def _headers(self, accept: bytes = b"application/json") -> list[tuple[bytes, bytes]]:
        headers = [(b"accept", accept), (b"user-agent", b"routekit")]
        token = self._token()
        if token:
            headers.append((b"authorization", b"Bearer " + token.encode()))
        elif self.credentials.username:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            headers.append((b"authorization", b"Basic " + base64.b64encode(pair)))
        return headers

    def _token(self) -> str:
        path = self.credentials.token_file
        if not path:
            return self.credentials.token
        try:
            changed = os.stat(path).st_mtime
            if changed != self._token_seen[0]:
                self._token_seen = (changed, Path(path).read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError) as exc:
            raise ProviderError(f"kubernetes: the token file {path}: {exc}") from None
        return self._token_seen[1]

    async def collection(
        self, client: Client, path: str, selector: str = ""
    ) -> tuple[list[Mapping[str, Any]], str]:
        """Every object of a collection, page by page at one version; and that version."""
        items: list[Mapping[str, Any]] = []
        token = ""
        while True:
            query = {"limit": str(_PAGE)}
            if selector:
                query["labelSelector"] = selector
            if token:
                query["continue"] = token
            body = await self._get(client, path, query)
            meta = body.get("metadata")
            found = body.get("items")
            if not isinstance(meta, Mapping) or not isinstance(found, list | type(None)):
                raise MalformedResponse(f"kubernetes: {path}: not a list (no metadata/items)")
            for item in found or []:
                if not isinstance(item, Mapping):
                    raise MalformedResponse(f"kubernetes: {path}: an item is not an object")
                items.append(item)
            version = meta.get("resourceVersion")
            token = meta.get("continue") or ""
            if not token:
                if not isinstance(version, str) or not version:
                    raise MalformedResponse(f"kubernetes: {path}: no metadata.resourceVersion")
                return items, version

    async def watch(
        self, client: Client, path: str, version: str, selector: str = "", *, seconds: int = 300
    ) -> AsyncGenerator[list[tuple[str, Mapping[str, Any]]], None]:
        """The changes after *version*, a burst at a time, until the server ends the watch.

        Raises:
            Gone: *version* is too old (410): the caller lists again.
        """
        # Spread the ends of the watches, as client-go does, so that many gateways do not
        # come back to the API server at the same instant.
        query = {
            "watch": "1",
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(int(seconds * (1 + random.random()))),
        }
        if selector:
            query["labelSelector"] = selector
        response = await self._send(client, "GET", path, query)
        if response.status != 200:
            await self._refuse(response, path)
        lines = json_lines(response.iter_bytes(), f"kubernetes: {path}")
        try:
            async for batch in lines:
                events = []
                for event in batch:
                    kind, obj = _event(event, path)
                    if kind == "ERROR":
                        code = obj.get("code")
                        message = obj.get("message", "")
                        if code == 410:
                            raise Gone(f"kubernetes: {path}: {message or 'resource version gone'}")
                        raise ProviderError(f"kubernetes: {path}: watch error {code}: {message}")
                    events.append((kind, obj))
                yield events
        finally:
            await lines.aclose()
            await response.aclose()

    async def patch_status(self, client: Client, path: str, status: Mapping[str, Any]) -> None:
        """Merge-patch an object's ``status`` subresource."""
        body = json.dumps({"status": status}).encode()
        response = await self._send(
            client, "PATCH", f"{path}/status", {}, body, b"application/merge-patch+json"
        )
        if response.status != 200:
            await self._refuse(response, f"{path}/status")
        await response.read()

    async def _get(self, client: Client, path: str, query: Mapping[str, str]) -> Mapping[str, Any]:
        response = await self._send(client, "GET", path, query)
        if response.status != 200:
            await self._refuse(response, path)
        data = await read_json(response, f"kubernetes: {path}", MAX_RESPONSE)
        if not isinstance(data, Mapping):
            raise MalformedResponse(f"kubernetes: {path}: expected an object")
        return data

    async def _send(  # noqa: PLR0917
        self,
        client: Client,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: bytes = b"",
        content_type: bytes = b"",
    ) -> ClientResponse:
        url = self.server + path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = self._headers()
        if content_type:
            headers.append((b"content-type", content_type))
        return await client.request(method, url, headers=headers, body=body)

    async def _refuse(self, response: ClientResponse, path: str) -> None:
        raw = await response.read()
        message = ""
        try:
            data = parse_json(raw[:65536], path)
            if isinstance(data, Mapping):
                message = str(data.get("message") or "")
        except MalformedResponse:
            message = raw[:200].decode("utf-8", "replace")
        code = response.status
        hint = {
            401: " (check the token or the kubeconfig's user)",
            403: " (give routekit's service account the RBAC rules of "
            "examples/kubernetes/rbac.yaml)",
        }.get(code, "")
        if code == 410:
            raise Gone(f"kubernetes: {path}: {message or 'gone'}")
        raise ProviderError(f"kubernetes: {path}: {code} {message or 'refused'}{hint}")


def _event(event: object, path: str) -> tuple[str, Mapping[str, Any]]:
    if not isinstance(event, Mapping):
        raise MalformedResponse(f"kubernetes: {path}: a watch event is not an object")
    kind, obj = event.get("type"), event.get("object")
    if kind not in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR") or not isinstance(
        obj, Mapping
    ):
        raise MalformedResponse(f"kubernetes: {path}: a watch event without type/object")
    return str(kind), obj
