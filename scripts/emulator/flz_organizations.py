"""Narrow extension of moto 5.2.1's Organizations emulation: delegated policy management, for `flz contain`.

Why this exists: session and credential revocation is an organisation-level quarantine (service control policies
tagged `flz:purpose = quarantine`) that the forensic account manages through Organizations' delegated policy
management: the management account publishes a resource-based delegation policy (PutResourcePolicy), and the
member account it names may then call the policy APIs (CreatePolicy, UpdatePolicy, AttachPolicy, ...), which act on
the organisation's policies. moto has no delegation at all: it answers every Organizations call from the caller's own
backend (`organizations_backends[account][partition]`), where a member account has no organisation, no policies and
no accounts (its CreatePolicy even fails with HTTP 500). It also cannot put an account with a chosen ID into an
organisation (CreateAccount picks a random ID), so the seeded accounts 222222222222, 333333333333, ... could never be
members.

What this adds, and nothing else:
1. PutResourcePolicy / DescribeResourcePolicy / DeleteResourcePolicy, from the management account only (the API
   reference: "can be called only from the organization's management account"; others get AccessDeniedException).
2. Routing: when a member account calls one of the policy operations below and the organisation's resource policy
   has an Allow statement whose Principal is in that account (`<id>`, `arn:...:iam::<id>:root`, or any role or user
   ARN of it), the call is answered by the management account's backend, i.e. it acts on the organisation's policies,
   as AWS does for a delegated administrator. Without such a statement the member gets AccessDeniedException. The
   statement's Action, Resource and Condition are NOT evaluated here: the emulator executes calls, it does not
   authorize them (the IAM evaluator does that over the same documents, in the tests).
3. InviteAccountToOrganization (target type ACCOUNT) and AcceptHandshake, so an existing account with a known ID
   joins the organisation the way AWS documents it (invitation from the management account, accepted from the
   invited account). The joined account gets the AWS-managed FullAWSAccess and RCPFullAWSAccess policies attached,
   as moto does for accounts it creates; unlike CreateAccount, no OrganizationAccountAccessRole is made (AWS makes
   none for invited accounts).

Also: moto keeps its member-to-management map (`organizations_backends.master_accounts`) across `/moto-api/reset`
while the organisations themselves are cleared, so after a reset a former member's DescribeOrganization would crash
(HTTP 500). A stale entry is dropped when that account next calls Organizations.

Everything else is plain moto (no SCP size or per-target limits, no DuplicatePolicyAttachmentException: the tests
cover those with aws-sdk-client-mock). State lives on moto's own backends, so `/moto-api/reset` clears it.
`apply()` is idempotent and is called by moto_flz.py before the server starts.
"""
from __future__ import annotations

import json
import random
import string
from typing import Any

from moto.core.utils import utcnow
from moto.organizations import utils as org_utils
from moto.organizations.exceptions import (
    AlreadyInOrganizationException,
    AWSOrganizationsNotInUseException,
    InvalidInputException,
    OrganizationsClientError,
)
from moto.organizations.models import FakeAccount, OrganizationsBackend, organizations_backends
from moto.organizations.responses import OrganizationsResponse

_APPLIED = False

# The operations a delegated administrator of policy management calls (the resource-based policy examples of the
# Organizations user guide: "Create, read, update, and delete policies", "Attach policies", "Tag and untag").
DELEGATED_ACTIONS = frozenset(
    {
        "CreatePolicy",
        "UpdatePolicy",
        "DeletePolicy",
        "DescribePolicy",
        "ListPolicies",
        "AttachPolicy",
        "DetachPolicy",
        "ListPoliciesForTarget",
        "ListTargetsForPolicy",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
        "DescribeResourcePolicy",
    }
)


class AccessDeniedException(OrganizationsClientError):
    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


class ResourcePolicyNotFoundException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__(
            "ResourcePolicyNotFoundException", "We can't find a resource policy request with the parameter that you specified."
        )


class HandshakeNotFoundException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__("HandshakeNotFoundException", "We can't find a handshake with the HandshakeId that you specified.")


# --- membership -------------------------------------------------------------------------------------------------


def _management_of(account_id: str) -> OrganizationsBackend | None:
    """The backend of the organisation `account_id` is a member of, or None (dropping a stale entry, see above)."""
    entry = organizations_backends.master_accounts.get(account_id)
    if entry is None:
        return None
    management_id, partition = entry
    backend = organizations_backends[management_id][partition]
    if backend.org is None or not any(a.id == account_id for a in backend.accounts):
        organizations_backends.master_accounts.pop(account_id, None)
        return None
    return backend


def _principal_accounts(statement: dict[str, Any]) -> set[str]:
    principal = statement.get("Principal")
    values: list[str] = []
    if isinstance(principal, dict):
        aws = principal.get("AWS", [])
        values = [aws] if isinstance(aws, str) else list(aws)
    elif isinstance(principal, str):
        values = [principal]
    accounts = set()
    for value in values:
        if value.isdigit() and len(value) == 12:
            accounts.add(value)
        elif value.startswith("arn:") and len(value.split(":")) > 4:
            accounts.add(value.split(":")[4])
    return accounts


def _delegated(management: OrganizationsBackend, account_id: str) -> bool:
    content = getattr(management, "flz_resource_policy", None)
    if content is None:
        return False
    try:
        document = json.loads(content["Content"])
    except (ValueError, KeyError, TypeError):
        return False
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return any(s.get("Effect") == "Allow" and account_id in _principal_accounts(s) for s in statements)


def _routed_backend(self: OrganizationsResponse) -> OrganizationsBackend:
    own = organizations_backends[self.current_account][self.partition]
    if own.org is not None:
        return own
    management = _management_of(self.current_account)
    if management is None or self._get_action() not in DELEGATED_ACTIONS:
        return own
    if not _delegated(management, self.current_account):
        raise AccessDeniedException("You don't have permissions to access this resource.")
    return management


# --- resource policy ----------------------------------------------------------------------------------------------


def _require_management(self: OrganizationsResponse) -> OrganizationsBackend:
    own = organizations_backends[self.current_account][self.partition]
    if own.org is None:
        if _management_of(self.current_account) is None:
            raise AWSOrganizationsNotInUseException
        raise AccessDeniedException("You don't have permissions to access this resource.")
    return own


def _resource_policy_view(backend: OrganizationsBackend) -> dict[str, Any]:
    policy = backend.flz_resource_policy  # type: ignore[attr-defined]
    org = backend.org
    assert org is not None
    return {
        "ResourcePolicy": {
            "ResourcePolicySummary": {
                "Id": policy["Id"],
                "Arn": f"arn:aws:organizations::{org.master_account_id}:resourcepolicy/{org.id}/{policy['Id']}",
            },
            "Content": policy["Content"],
        }
    }


def put_resource_policy(self: OrganizationsResponse) -> str:
    backend = _require_management(self)
    content = self._get_param("Content")
    try:
        json.loads(content)
    except (TypeError, ValueError):
        raise InvalidInputException("You provided a value that does not match the required pattern.")
    existing = getattr(backend, "flz_resource_policy", None)
    policy_id = existing["Id"] if existing else "rp-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
    backend.flz_resource_policy = {"Id": policy_id, "Content": content}  # type: ignore[attr-defined]
    return json.dumps(_resource_policy_view(backend))


def describe_resource_policy(self: OrganizationsResponse) -> str:
    # A delegated member reaches the management backend through the routing above.
    backend = self.organizations_backend
    if backend.org is None:
        raise AWSOrganizationsNotInUseException
    if getattr(backend, "flz_resource_policy", None) is None:
        raise ResourcePolicyNotFoundException
    return json.dumps(_resource_policy_view(backend))


def delete_resource_policy(self: OrganizationsResponse) -> str:
    backend = _require_management(self)
    if getattr(backend, "flz_resource_policy", None) is None:
        raise ResourcePolicyNotFoundException
    backend.flz_resource_policy = None  # type: ignore[attr-defined]
    return "{}"


# --- invitation -------------------------------------------------------------------------------------------------


def _handshake_view(handshake: dict[str, Any]) -> dict[str, Any]:
    return {"Handshake": handshake}


def invite_account_to_organization(self: OrganizationsResponse) -> str:
    backend = _require_management(self)
    target = self._get_param("Target") or {}
    if target.get("Type") != "ACCOUNT" or not str(target.get("Id", "")).isdigit():
        raise InvalidInputException("You specified an invalid value.")
    account_id = str(target["Id"])
    if organizations_backends[account_id][self.partition].org is not None or _management_of(account_id) is not None:
        raise AlreadyInOrganizationException
    org = backend.org
    assert org is not None
    handshake_id = "h-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=10))
    handshake = {
        "Id": handshake_id,
        "Arn": f"arn:aws:organizations::{org.master_account_id}:handshake/{org.id}/invite/{handshake_id}",
        "Parties": [
            {"Id": org.id, "Type": "ORGANIZATION"},
            {"Id": account_id, "Type": "ACCOUNT"},
        ],
        "State": "OPEN",
        "Action": "INVITE",
        "Resources": [{"Value": org.id, "Type": "ORGANIZATION"}],
    }
    handshakes = getattr(backend, "flz_handshakes", {})
    handshakes[handshake_id] = handshake
    backend.flz_handshakes = handshakes  # type: ignore[attr-defined]
    return json.dumps(_handshake_view(handshake))


def accept_handshake(self: OrganizationsResponse) -> str:
    handshake_id = self._get_param("HandshakeId")
    for management_id, per_partition in dict.items(organizations_backends):
        if self.partition not in dict.keys(per_partition):
            continue
        backend = dict.__getitem__(per_partition, self.partition)
        handshake = getattr(backend, "flz_handshakes", {}).get(handshake_id)
        if handshake is None:
            continue
        invited = next(p["Id"] for p in handshake["Parties"] if p["Type"] == "ACCOUNT")
        if invited != self.current_account or handshake["State"] != "OPEN":
            raise HandshakeNotFoundException
        org = backend.org
        assert org is not None
        # Built without FakeAccount.__init__: that would pick a random ID and create OrganizationAccountAccessRole.
        account = FakeAccount.__new__(FakeAccount)
        account.type = "ACCOUNT"
        account.region = org.region
        account.organization_id = org.id
        account.master_account_id = org.master_account_id
        account.create_account_status_id = org_utils.make_random_create_account_status_id()
        account.id = invited
        account.name = invited
        account.email = f"{invited}@example.invalid"
        account.create_time = utcnow()
        account.status = "ACTIVE"
        account.state = "ACTIVE"
        account.joined_method = "INVITED"
        account.parent_id = org.root_id
        account.attached_policies = []
        account.tags = {}
        backend.accounts.append(account)
        for policy_id in (org_utils.DEFAULT_SCP_POLICY_ID, org_utils.DEFAULT_RCP_POLICY_ID):
            backend.attach_policy(PolicyId=policy_id, TargetId=invited)
        organizations_backends.master_accounts[invited] = (management_id, self.partition)
        handshake["State"] = "ACCEPTED"
        return json.dumps(_handshake_view(handshake))
    raise HandshakeNotFoundException


def apply() -> None:
    """Installs the extension into moto (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    OrganizationsResponse.organizations_backend = property(_routed_backend)  # type: ignore[assignment]
    OrganizationsResponse.put_resource_policy = put_resource_policy  # type: ignore[attr-defined]
    OrganizationsResponse.describe_resource_policy = describe_resource_policy  # type: ignore[attr-defined]
    OrganizationsResponse.delete_resource_policy = delete_resource_policy  # type: ignore[attr-defined]
    OrganizationsResponse.invite_account_to_organization = invite_account_to_organization  # type: ignore[attr-defined]
    OrganizationsResponse.accept_handshake = accept_handshake  # type: ignore[attr-defined]
    _APPLIED = True
