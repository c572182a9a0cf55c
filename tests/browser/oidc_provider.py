"""A tiny OpenID Connect provider for browser tests: it signs in whoever the test says, at once.

Discovery, /authorize (redirects straight back with a code), /token (an RS256 id_token),
/jwks and /userinfo, served by http.server in a thread on a free port of 127.0.0.1."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import authlib.deprecate  # noqa: F401  (it installs an "always" filter on import: let it, then override)

with warnings.catch_warnings():  # authlib.jose is deprecated in favour of joserfc, still fine here
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, jwt


class OIDCProvider:
    def __init__(self, client_id: str = "csc-test", client_secret: str = "csc-test-secret"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.email = "ana@council.gov.uk"  # who the next sign-in is; the test changes it
        self.email_verified: bool | None = True  # what the provider says of it (None: the claim is left out)
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True)
        self.kid = "test-key"
        self.codes: dict[str, dict] = {}  # code -> {email, nonce, redirect_uri}
        self.tokens: dict[str, str] = {}  # access token -> email
        self.requests: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.metadata_url = self.issuer + "/.well-known/openid-configuration"
        self.thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> OIDCProvider:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> OIDCProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- documents ---------------------------------------------------------------------------
    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "userinfo_endpoint": self.issuer + "/userinfo",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
        }

    def jwks(self) -> dict:
        public = self.key.as_dict(is_private=False)
        public.update(kid=self.kid, use="sig", alg="RS256")
        return {"keys": [public]}

    def claims(self, email: str) -> dict:
        claims = {
            "sub": "sub-" + email,
            "email": email,
            "email_verified": self.email_verified,
            "name": email.split("@")[0].title(),
        }
        if self.email_verified is None:
            del claims["email_verified"]
        return claims

    def id_token(self, email: str, nonce: str | None) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 600, **self.claims(email)}
        if nonce:
            payload["nonce"] = nonce
        header = {"alg": "RS256", "kid": self.kid}
        return jwt.encode(header, payload, self.key).decode()

    # -- HTTP --------------------------------------------------------------------------------
    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                provider.requests.append("GET " + url.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(provider.metadata())
                if url.path == "/jwks":
                    return self._json(provider.jwks())
                if url.path == "/authorize":
                    if q.get("client_id") != provider.client_id or q.get("response_type") != "code":
                        return self._json({"error": "invalid_request"}, 400)
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {
                        "email": provider.email, "nonce": q.get("nonce"), "redirect_uri": q.get("redirect_uri"),
                    }
                    back = {"code": code}
                    if "state" in q:
                        back["state"] = q["state"]
                    self.send_response(302)
                    self.send_header("Location", q["redirect_uri"] + "?" + urlencode(back))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    auth = self.headers.get("Authorization", "")
                    email = provider.tokens.get(auth.removeprefix("Bearer ").strip())
                    if not email:
                        return self._json({"error": "invalid_token"}, 401)
                    return self._json(provider.claims(email))
                return self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                url = urlparse(self.path)
                provider.requests.append("POST " + url.path)
                if url.path != "/token":
                    return self._json({"error": "not_found"}, 404)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                client_id, client_secret = form.get("client_id"), form.get("client_secret")
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                    client_id, client_secret = unquote(user), unquote(pw)
                if client_id != provider.client_id or client_secret != provider.client_secret:
                    return self._json({"error": "invalid_client"}, 401)
                grant = provider.codes.pop(form.get("code", ""), None)
                if form.get("grant_type") != "authorization_code" or grant is None:
                    return self._json({"error": "invalid_grant"}, 400)
                if form.get("redirect_uri") and form["redirect_uri"] != grant["redirect_uri"]:
                    return self._json({"error": "invalid_grant"}, 400)
                access = secrets.token_urlsafe(24)
                provider.tokens[access] = grant["email"]
                return self._json({
                    "access_token": access,
                    "token_type": "Bearer",
                    "expires_in": 600,
                    "scope": "openid email profile",
                    "id_token": provider.id_token(grant["email"], grant["nonce"]),
                })

        return Handler
