"""Narrow extensions of moto 5.2.1's EBS emulation, for what `flz capture` needs and moto lacks.

Why this exists: in moto, an account sees only its own snapshots. `describe_snapshots` answers from the caller's
backend (`ec2_backends[account][region]`) and `copy_snapshot` finds its source through that same method, so a
snapshot shared with another account (ModifySnapshotAttribute createVolumePermission) stays invisible to it and
cannot be copied: the forensic account's half of evidence capture could not run on the emulator at all. moto also
answers `LockSnapshot` with HTTP 500 (not implemented).

What this adds, and nothing else:
1. Sharing, as a real recipient account sees it: a snapshot whose createVolumePermission names account B (by user
   ID; public "all" sharing is left as moto has it) is returned to B by DescribeSnapshots (by ID, by `OwnerIds`, by
   `RestorableByUserIds`, or with no selector) with its real owner, and B can CopySnapshot it. An unshared snapshot
   stays invisible to B (`InvalidSnapshot.NotFound`). `OwnerIds` and `RestorableByUserIds`, which moto ignores, are
   honoured. Only the owner can read or change the attribute (moto's own `get_snapshot` is left alone).
2. EBS Snapshot Lock: `LockSnapshot` records a lock on the snapshot (validated as the API documents: mode,
   cool-off 1-72 h for compliance only, duration 1-36500 days or an expiration date; a compliance lock past its
   cool-off can only be extended) and `DescribeLockedSnapshots` returns the locks. The lock lives on moto's own
   snapshot object, so `/moto-api/reset` clears it with everything else.

3. Block data that follows the EBS semantics, so the EBS direct APIs (ListSnapshotBlocks, GetSnapshotBlock) can
   read the snapshots evidence capture makes. moto serves those APIs only for snapshots built with StartSnapshot /
   PutSnapshotBlock, and its EC2 side knows nothing of their data: a volume restored from such a snapshot is blank,
   its snapshots have no blocks, and so the forensic copies that `flz capture` makes could never be hashed. In EBS,
   a volume created from snapshot S starts with S's blocks; a snapshot of that volume (unchanged: the emulator has no
   instance writing to disks) holds the same blocks; CopySnapshot keeps the blocks, across regions and, for a shared
   snapshot, across accounts. So:
   - RegisterImage keeps its BlockDeviceMappings (moto drops them and invents one 15 GiB root snapshot), checks that
     each named snapshot exists, and DescribeImages returns them; RunInstances from such an image (directly or through
     a launch template or Auto Scaling) creates the instance's volumes from those snapshots, as EC2 does, instead of
     moto's blank 8 GiB root volume;
   - CreateVolume(SnapshotId=S), CreateSnapshot (and CreateSnapshots) and CopySnapshot carry the block data along,
     and the resulting snapshots answer the EBS direct APIs in their owner's account and region.
   Only known data is carried: a volume or snapshot whose blocks moto never knew (every seeded image, a blank
   volume) stays exactly as plain moto has it, so everything not built from StartSnapshot data behaves as before.
   The blocks are shared by reference (a block is never changed after PutSnapshotBlock), and live on moto's own
   volume objects and EBS backends, so `/moto-api/reset` clears them with everything else.

Everything else is plain moto. `apply()` is idempotent and is called by moto_flz.py before the server starts.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError, InvalidSnapshotIdError
from moto.ec2.models.elastic_block_store import EBSBackend, Snapshot
from moto.ec2.responses.elastic_block_store import ElasticBlockStore

_APPLIED = False


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


# --- 1. sharing -------------------------------------------------------------------------------------------------


def _shared_with(account_id: str, region: str) -> list[Snapshot]:
    """Snapshots of other accounts, in the same region, whose createVolumePermission names `account_id`."""
    from moto.ec2.models import ec2_backends

    found: list[Snapshot] = []
    # dict.items / dict.keys: look only at backends that exist; moto's own __getitem__ would create them.
    for owner, per_region in dict.items(ec2_backends):
        if owner == account_id or region not in dict.keys(per_region):
            continue
        backend = dict.__getitem__(per_region, region)
        for snap in list(backend.snapshots.values()):
            if account_id in snap.create_volume_permission_userids:
                found.append(snap)
    return found


def _restorable_by(snap: Snapshot, account_id: str) -> bool:
    return (
        snap.owner_id == account_id
        or account_id in snap.create_volume_permission_userids
        or "all" in snap.create_volume_permission_groups
    )


def describe_snapshots(
    self: EBSBackend,
    snapshot_ids: list[str] | None = None,
    filters: Any = None,
    owner_ids: list[str] | None = None,
    restorable_by_user_ids: list[str] | None = None,
) -> list[Snapshot]:
    """moto's describe_snapshots plus the snapshots shared with this account, and the two selectors moto ignores."""
    from moto.ec2.utils import generic_filter

    account_id: str = self.account_id  # type: ignore[attr-defined]
    region: str = self.region_name  # type: ignore[attr-defined]
    matches = list(self.snapshots.values()) + _shared_with(account_id, region)
    if snapshot_ids:
        matches = [snap for snap in matches if snap.id in snapshot_ids]
        if len(set(snapshot_ids)) > len(matches):
            raise InvalidSnapshotIdError()
    if owner_ids:
        wanted = {account_id if o == "self" else o for o in owner_ids}
        matches = [snap for snap in matches if snap.owner_id in wanted]
    if restorable_by_user_ids:
        users = [account_id if u == "self" else u for u in restorable_by_user_ids]
        matches = [snap for snap in matches if any(_restorable_by(snap, u) for u in users)]
    if filters:
        matches = generic_filter(filters, matches)
    return matches


def describe_snapshots_response(self: ElasticBlockStore) -> ActionResult:
    filters = self._filters_from_querystring()
    snapshots = self.ec2_backend.describe_snapshots(
        snapshot_ids=self._get_param("SnapshotIds", []),
        filters=filters,
        owner_ids=self._get_param("OwnerIds", []),
        restorable_by_user_ids=self._get_param("RestorableByUserIds", []),
    )
    return ActionResult({"Snapshots": snapshots})


# --- 2. snapshot lock -------------------------------------------------------------------------------------------


class _InvalidParameter(EC2ClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValue", message)


def _lock_state(lock: dict[str, Any], now: _dt.datetime) -> str:
    if lock["LockExpiresOn"] <= now:
        return "expired"
    if lock["Mode"] == "governance":
        return "governance"
    cool_off_end = lock.get("CoolOffPeriodExpiresOn")
    return "compliance-cooloff" if cool_off_end and now < cool_off_end else "compliance"


def _lock_view(snapshot_id: str, lock: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in lock.items() if k != "Mode" and v is not None}
    view["SnapshotId"] = snapshot_id
    view["LockState"] = _lock_state(lock, _utcnow())
    return view


def lock_snapshot_response(self: ElasticBlockStore) -> ActionResult:
    snapshot_id = self._get_param("SnapshotId")
    mode = self._get_param("LockMode")
    cool_off = self._get_int_param("CoolOffPeriod")
    duration = self._get_int_param("LockDuration")
    expiration = self._get_param("ExpirationDate")
    self.error_on_dryrun()
    snapshot = self.ec2_backend.get_snapshot(snapshot_id)  # only the owner may lock
    if mode not in ("compliance", "governance"):
        raise _InvalidParameter(f"LockMode {mode!r} is not valid: compliance or governance")
    if cool_off is not None and (mode != "compliance" or not 1 <= cool_off <= 72):
        raise _InvalidParameter("CoolOffPeriod is 1-72 hours and only for compliance mode")
    now = _utcnow()
    if (duration is None) == (expiration is None):
        raise _InvalidParameter("give exactly one of LockDuration (1-36500 days) and ExpirationDate")
    if duration is not None:
        if not 1 <= duration <= 36500:
            raise _InvalidParameter(f"LockDuration {duration} is not valid: 1-36500 days")
        expires = now + _dt.timedelta(days=duration)
    else:
        expires = expiration if isinstance(expiration, _dt.datetime) else _dt.datetime.fromisoformat(str(expiration).replace("Z", "+00:00"))
        expires = expires.astimezone(_dt.timezone.utc).replace(tzinfo=None) if expires.tzinfo else expires
        if expires <= now:
            raise _InvalidParameter("ExpirationDate must be in the future")
    previous = getattr(snapshot, "flz_lock", None)
    if previous and _lock_state(previous, now) == "compliance" and expires < previous["LockExpiresOn"]:
        raise _InvalidParameter("a compliance lock past its cool-off can only be extended, not shortened")
    lock = {
        "Mode": mode,
        "LockDuration": duration,
        "CoolOffPeriod": cool_off,
        "CoolOffPeriodExpiresOn": now + _dt.timedelta(hours=cool_off) if cool_off else None,
        "LockCreatedOn": previous["LockCreatedOn"] if previous else now,
        "LockDurationStartTime": now,
        "LockExpiresOn": expires,
    }
    snapshot.flz_lock = lock  # type: ignore[attr-defined]
    return ActionResult(_lock_view(snapshot_id, lock))


def describe_locked_snapshots_response(self: ElasticBlockStore) -> ActionResult:
    wanted = self._get_param("SnapshotIds", [])
    found = []
    for snap in list(self.ec2_backend.snapshots.values()):
        lock = getattr(snap, "flz_lock", None)
        if lock and (not wanted or snap.id in wanted):
            found.append(_lock_view(snap.id, lock))
    return ActionResult({"Snapshots": found})


# --- 3. block data along volumes, snapshots and images ----------------------------------------------------------


def _existing(backends: Any, account_id: str, region: str) -> Any:
    """The backend of an account and region if it exists (moto's own __getitem__ would create it)."""
    per_region = dict.get(backends, account_id)
    if per_region is None or region not in dict.keys(per_region):
        return None
    return dict.__getitem__(per_region, region)


def _snapshot_blocks(snapshot: Snapshot) -> dict[str, Any] | None:
    """The EBS direct blocks of an EC2 snapshot, when known: kept by moto's EBS backend of the owner and region."""
    from moto.ebs.models import ebs_backends

    backend = _existing(ebs_backends, snapshot.owner_id, snapshot.ec2_backend.region_name)
    ebs_snapshot = backend.snapshots.get(snapshot.id) if backend is not None else None
    return ebs_snapshot.blocks if ebs_snapshot is not None else None


def _publish_blocks(snapshot: Snapshot, blocks: dict[str, Any]) -> None:
    """Makes a snapshot answer the EBS direct APIs in its owner's account and region, with these blocks."""
    from moto.ebs.models import EBSSnapshot, ebs_backends

    ebs_snapshot = EBSSnapshot(account_id=snapshot.owner_id, snapshot=snapshot)
    ebs_snapshot.status = "completed"
    ebs_snapshot.blocks = dict(blocks)
    ebs_backends[snapshot.owner_id][snapshot.ec2_backend.region_name].snapshots[snapshot.id] = ebs_snapshot


_moto_create_volume = EBSBackend.create_volume
_moto_create_snapshot = EBSBackend.create_snapshot
_moto_copy_snapshot = EBSBackend.copy_snapshot


def create_volume(self: EBSBackend, *args: Any, **kwargs: Any) -> Any:
    """moto's create_volume; a volume created from a snapshot with known blocks starts with those blocks."""
    volume = _moto_create_volume(self, *args, **kwargs)
    snapshot_id = kwargs.get("snapshot_id")
    if snapshot_id:
        blocks = _snapshot_blocks(self.get_snapshot(snapshot_id))
        if blocks is not None:
            volume.flz_blocks = dict(blocks)  # type: ignore[attr-defined]
    return volume


def create_snapshot(self: EBSBackend, *args: Any, **kwargs: Any) -> Snapshot:
    """moto's create_snapshot; a snapshot of a volume with known blocks holds them."""
    snapshot = _moto_create_snapshot(self, *args, **kwargs)
    blocks = getattr(snapshot.volume, "flz_blocks", None)
    if blocks is not None:
        _publish_blocks(snapshot, blocks)
    return snapshot


def copy_snapshot(self: EBSBackend, *args: Any, **kwargs: Any) -> Snapshot:
    """moto's copy_snapshot (plus sharing, section 1); the copy keeps the source's known blocks."""
    source_id = kwargs.get("source_snapshot_id", args[0] if args else None)
    source_region = kwargs.get("source_region", args[1] if len(args) > 1 else None)
    copy = _moto_copy_snapshot(self, *args, **kwargs)
    from moto.ec2.models import ec2_backends

    source = ec2_backends[self.account_id][source_region].describe_snapshots(snapshot_ids=[source_id])[0]  # type: ignore[attr-defined]
    blocks = _snapshot_blocks(source)
    if blocks is not None:
        _publish_blocks(copy, blocks)
    return copy


def register_image_response(self: Any) -> ActionResult:
    """RegisterImage keeping its block-device mappings (each named snapshot must exist in the caller's account)."""
    name = self._get_param("Name")
    description = self._get_param("Description", "")
    root_device_name = self._get_param("RootDeviceName")
    mappings = []
    for mapping in self._get_param("BlockDeviceMappings", []):
        ebs = mapping.get("Ebs") or {}
        snapshot_id = ebs.get("SnapshotId")
        size = ebs.get("VolumeSize")
        if snapshot_id:
            snapshot = self.ec2_backend.get_snapshot(snapshot_id)  # InvalidSnapshot.NotFound, as EC2 answers
            size = int(size) if size else snapshot.volume.size
        if not mapping.get("DeviceName") or not size:
            raise _InvalidParameter("each block-device mapping needs a DeviceName and a SnapshotId or VolumeSize")
        mappings.append(
            {
                "DeviceName": mapping["DeviceName"],
                "Ebs": {
                    "SnapshotId": snapshot_id,
                    "VolumeSize": int(size),
                    "DeleteOnTermination": str(ebs.get("DeleteOnTermination", True)).lower() == "true",
                    "VolumeType": ebs.get("VolumeType") or "gp3",
                    "Encrypted": str(ebs.get("Encrypted", False)).lower() == "true",
                },
            }
        )
    self.error_on_dryrun()
    image = self.ec2_backend.register_image(name, description)
    if mappings:
        image.flz_block_device_mappings = mappings
        image.root_device_name = root_device_name or mappings[0]["DeviceName"]
        image.root_device_type = "ebs"
    return ActionResult({"ImageId": image.id})


def _image_block_device_mappings(self: Any) -> list[dict[str, Any]]:
    own = getattr(self, "flz_block_device_mappings", None)
    if own is not None:
        return own
    return _moto_ami_mappings.fget(self)  # type: ignore[no-any-return]


def setup_defaults(self: Any) -> None:
    """An instance of an image with kept mappings gets its volumes from the image's snapshots, as EC2 does."""
    image = self.ec2_backend.amis.get(self.image_id)
    mappings = getattr(image, "flz_block_device_mappings", None) if image is not None else None
    if not mappings:
        _moto_setup_defaults(self)
        return
    for mapping in mappings:
        ebs = mapping["Ebs"]
        self.add_block_device(
            ebs["VolumeSize"],
            mapping["DeviceName"],
            ebs["SnapshotId"],
            ebs["Encrypted"],
            ebs["DeleteOnTermination"],
            None,
            volume_type=ebs["VolumeType"],
        )


_moto_ami_mappings: Any = None
_moto_setup_defaults: Any = None


def apply() -> None:
    """Installs the extensions into moto's classes (in this process only)."""
    global _APPLIED
    if _APPLIED:
        return
    EBSBackend.describe_snapshots = describe_snapshots  # type: ignore[method-assign]
    ElasticBlockStore.describe_snapshots = describe_snapshots_response  # type: ignore[method-assign]
    ElasticBlockStore.lock_snapshot = lock_snapshot_response  # type: ignore[attr-defined]
    ElasticBlockStore.describe_locked_snapshots = describe_locked_snapshots_response  # type: ignore[attr-defined]
    global _moto_ami_mappings, _moto_setup_defaults
    from moto.ec2.models.amis import Ami
    from moto.ec2.models.instances import Instance
    from moto.ec2.responses.amis import AmisResponse

    EBSBackend.create_volume = create_volume  # type: ignore[method-assign]
    EBSBackend.create_snapshot = create_snapshot  # type: ignore[method-assign]
    EBSBackend.copy_snapshot = copy_snapshot  # type: ignore[method-assign]
    AmisResponse.register_image = register_image_response  # type: ignore[method-assign]
    _moto_ami_mappings = Ami.block_device_mappings
    Ami.block_device_mappings = property(_image_block_device_mappings)  # type: ignore[method-assign,assignment]
    _moto_setup_defaults = Instance.setup_defaults
    Instance.setup_defaults = setup_defaults  # type: ignore[method-assign]
    _APPLIED = True
