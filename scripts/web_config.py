#!/usr/bin/env python3
"""The web inbox's config.json from a stack's outputs.

Reads `aws cloudformation describe-stacks --output json` on standard input
and prints the config.json the page reads (web/src/config.ts): the API URL,
the live updates' URL, and the Cognito hosted sign-in (authorization code
with PKCE) when the stack has its user pool. With another identity provider
(the stack's JwtIssuer), pass its authority and client id as arguments.
"""

import json
import sys


def config(outputs, authority=None, client_id=None):
    """The page's configuration for `outputs` (OutputKey -> OutputValue)."""
    for key in ("ApiUrl", "LiveUrl", "WebUrl"):
        if not outputs.get(key):
            raise SystemExit(f"web_config: the stack has no {key} output")
    auth = {"kind": "oidc", "redirect_uri": outputs["WebUrl"], "scope": "openid email profile"}
    if authority and client_id:
        auth.update(authority=authority, client_id=client_id)
    elif outputs.get("UserPoolClientId") and outputs.get("JwtIssuerUrl"):
        auth.update(authority=outputs["JwtIssuerUrl"], client_id=outputs["UserPoolClientId"])
    else:
        raise SystemExit("web_config: no Cognito outputs; pass the identity provider's authority and client id")
    return {"api_url": outputs["ApiUrl"].rstrip("/"), "live_url": outputs["LiveUrl"], "auth": auth}


def main(argv):
    stacks = json.load(sys.stdin)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    authority, client_id = (argv[1], argv[2]) if len(argv) == 3 else (None, None)
    json.dump(config(outputs, authority, client_id), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
