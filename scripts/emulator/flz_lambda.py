"""Narrow extension of moto 5.2.1's Lambda emulation: ListFunctionUrlConfigs, for `flz contain function`.

Why this exists: `flz contain function` closes every function URL of a function to the public, and finds them with
ListFunctionUrlConfigs (one call that lists the URL of the function itself and of each alias: "Returns a list of Lambda
function URLs for the specified function", Lambda API reference). moto 5.2.1 keeps function URLs (Create/Get/Update/
DeleteFunctionUrlConfig work) but has no route for `GET /2021-10-31/functions/<name>/urls`: the SDK gets moto's HTML
404 page and fails to parse it. The permission tour (`scripts/oracle/tour.ts`, product code that cannot use a test
mock) and the drill run the real command against the emulator, so the listing has to exist there.

What this adds, and nothing else: the route and the operation, answered from moto's own state (the one URL moto keeps
per function; moto has no URL per alias: its Qualifier parameter is ignored, so an alias URL cannot be emulated and the
tests cover qualified URLs with aws-sdk-client-mock). `FunctionUrlConfigs` items carry the members AWS documents
(FunctionUrl, FunctionArn, AuthType, Cors, CreationTime, LastModifiedTime, InvokeMode). No pagination (one URL per
function fits any page). State lives on moto's backends, so `/moto-api/reset` clears it. `apply()` is idempotent and
is called by moto_flz.py before the server starts.
"""
from __future__ import annotations

import json
from urllib.parse import unquote

from moto.awslambda import urls as lambda_urls
from moto.awslambda.exceptions import GenericResourcNotFound
from moto.awslambda.responses import LambdaResponse

_APPLIED = False

# The SDK's request URI for ListFunctionUrlConfigs (Lambda API reference: GET /2021-10-31/functions/FunctionName/urls).
_ROUTE = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"


def list_function_url_configs(self: LambdaResponse) -> str:
    """ListFunctionUrlConfigs from moto's own URL state: the function's URL, if it has one."""
    function_name = unquote(self.path.rstrip("/").split("/")[-2])
    function = self.backend._lambdas.get_function_by_name_or_arn_forbid_qualifier(function_name)
    try:
        configs = [function.get_url_config().to_dict()]
    except GenericResourcNotFound:
        configs = []
    return json.dumps({"FunctionUrlConfigs": configs})


def apply() -> None:
    """Installs the extension into moto (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    lambda_urls.url_paths[_ROUTE] = LambdaResponse.dispatch
    LambdaResponse.list_function_url_configs = list_function_url_configs  # type: ignore[attr-defined]
    _APPLIED = True
