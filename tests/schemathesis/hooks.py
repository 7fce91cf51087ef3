"""Schemathesis hooks for Confab: each request carries the credential its
operation's `security` names (the document's table of which route needs
what), with tokens that run.sh obtained first, and yunbay requests are
signed as the server checks them (docs/yunbay.md).

Loaded with SCHEMATHESIS_HOOKS=tests/schemathesis/hooks.py. As a script,
`python3 hooks.py sign METHOD URL [BODY]` prints the X-Yf-Sign of a request
(run.sh signs its own setup requests with it).

The tokens come from the environment:
  CONFAB_ST_ADMIN_TOKEN    an OpenIM token of an admin user
  CONFAB_ST_USER_TOKEN     an OpenIM token of an ordinary user
  CONFAB_ST_SECRET         the server's admin_secret
  CONFAB_ST_APP_TOKEN      an Easemob app token
  CONFAB_ST_CLIENT_ID, CONFAB_ST_CLIENT_SECRET   the Easemob app credentials
  CONFAB_ST_SESSION_TOKEN  an app API session token
  CONFAB_ST_YUNBAY_APP, CONFAB_ST_YUNBAY_KEY      a yunbay app id and its key
  CONFAB_ST_YUNBAY_TOKEN   a yunbay user token
"""

import hashlib
import os
import sys
from urllib.parse import parse_qsl, quote, urlsplit


def env(name):
    return os.environ.get(name, "")


# --- yunbay's signature (crates/confab-api/src/yunbay/sign.rs) ---


def _is_escaped(path):
    hexdigits = "0123456789abcdefABCDEF"
    return any(
        path[i] == "%" and path[i + 1] in hexdigits and path[i + 2] in hexdigits
        for i in range(len(path) - 2)
    )


def canonical(path, query, headers, body, form):
    """The text X-Yf-Sign signs, without the key line."""
    if not _is_escaped(path):
        # Letters, digits, `_ - ~ .` and `/` stay as they are.
        path = quote(path, safe="/")
    arguments = parse_qsl(query or "", keep_blank_values=True)
    if form:
        arguments += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    # By name, then value, as given; Rust compares the UTF-8 bytes.
    arguments.sort(key=lambda kv: (kv[0].encode(), kv[1].encode()))
    arguments = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in arguments)
    names = sorted(
        {k.lower() for k in headers if k.lower().startswith("x-yf-") and k.lower() != "x-yf-sign"}
    )
    lines = []
    for name in names:
        values = sorted(str(v).strip() for k, v in headers.items() if k.lower() == name)
        lines.append(f"{name}:{','.join(values)}")
    digest = hashlib.sha1(body).hexdigest()
    return f"{path}\n{arguments}\n" + "\n".join(lines) + f"\n{';'.join(names)}\n{digest}"


def signature(path, query, headers, body, form, key):
    text = canonical(path, query, headers, body, form)
    return hashlib.sha1(f"{text}\n{key}".encode()).hexdigest()


def sign_prepared(request):
    """Signs a `requests` PreparedRequest in place: the bytes as sent."""
    url = urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    form = request.headers.get("Content-Type", "").startswith(
        "application/x-www-form-urlencoded"
    )
    request.headers["X-Yf-Sign"] = signature(
        url.path, url.query, dict(request.headers), body, form, env("CONFAB_ST_YUNBAY_KEY")
    )
    return request


# --- schemathesis ---

if __name__ != "__main__":
    import schemathesis

    def _schemes(case):
        """The schemes of the operation's first security requirement."""
        security = case.operation.definition.raw.get("security") or [{}]
        return set(security[0])

    def _set_body_field(case, name, value):
        # A generated body that is not an object (negative cases) has no
        # field to set: it is sent as generated.
        if isinstance(case.body, dict):
            case.body[name] = value

    @schemathesis.hook
    def before_call(context, case, kwargs):
        schemes = _schemes(case)
        headers = case.headers if case.headers is not None else {}
        if "openim_admin" in schemes:
            headers["token"] = env("CONFAB_ST_ADMIN_TOKEN")
        elif "openim_user" in schemes:
            headers["token"] = env("CONFAB_ST_USER_TOKEN")
        if "app_session" in schemes:
            headers["token"] = env("CONFAB_ST_SESSION_TOKEN")
        if "openim_secret" in schemes:
            _set_body_field(case, "secret", env("CONFAB_ST_SECRET"))
        if "easemob_app" in schemes:
            _set_body_field(case, "token", env("CONFAB_ST_APP_TOKEN"))
        if "easemob_client" in schemes:
            _set_body_field(case, "client_id", env("CONFAB_ST_CLIENT_ID"))
            _set_body_field(case, "client_secret", env("CONFAB_ST_CLIENT_SECRET"))
        if "yunbay_user" in schemes:
            headers["X-Yf-Token"] = env("CONFAB_ST_YUNBAY_TOKEN")
        if "yunbay_sign" in schemes:
            headers["X-Yf-AppId"] = env("CONFAB_ST_YUNBAY_APP")
            # Signed last, over the request as it goes out.
            kwargs["auth"] = sign_prepared
        # `trusted_network`: the run is on 127.0.0.1, which the server
        # trusts; nothing to add.
        case.headers = headers


if __name__ == "__main__":
    # python3 hooks.py sign METHOD URL [BODY]
    _, command, method, address, *rest = sys.argv
    assert command == "sign", "usage: hooks.py sign METHOD URL [BODY]"
    body = rest[0].encode() if rest else b""
    url = urlsplit(address)
    headers = {"X-Yf-AppId": env("CONFAB_ST_YUNBAY_APP")}
    print(signature(url.path, url.query, headers, body, False, env("CONFAB_ST_YUNBAY_KEY")))
