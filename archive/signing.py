"""Signed WACZ packages (webrecorder's WACZ Signing and Verification 0.1.0, anonymous mode).

``datapackage-digest.json`` gets ``signedData``: the ``hash`` of ``datapackage.json`` (``sha256:…``,
as py-wacz writes it), ``created`` (the package's own, as ``wacz validate`` requires), ``software``,
``version``, ``signature`` (ECDSA P-256 over the UTF-8 ``hash`` string with SHA-256, DER, base64)
and ``publicKey`` (the key's SubjectPublicKeyInfo, DER, base64). Anyone holding the public key
(given out of band, as the spec says of anonymous signatures) can check that nothing in the
package changed after it was signed. Keys are PEM files: ``govarchive keygen`` makes one; without
``--key`` the data directory's own key (``keys/signing.pem``, made on first use, mode 0600) signs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

from . import __version__
from .errors import GovArchiveError

KEY_DIR = "keys"
KEY_NAME = "signing.pem"


class SigningError(GovArchiveError):
    """A key cannot be read or made, or a package cannot be signed."""


def keygen(path: Path) -> str:
    """Write a new private key (PEM, mode 0600) to ``path``; return its public key (base64 SPKI)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if path.exists():
        raise SigningError(f"{path} exists: a key is never overwritten")
    if not path.parent.is_dir():
        raise SigningError(f"no directory {path.parent} for the key")
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return public_key_b64(key)


def public_key_b64(key) -> str:  # noqa: ANN001 - an EllipticCurvePrivateKey
    from cryptography.hazmat.primitives import serialization

    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(spki).decode()


def load_key(path: Path):  # noqa: ANN201 - an EllipticCurvePrivateKey
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SigningError(f"cannot read the key {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningError(f"{path} is not an ECDSA key (make one with `govarchive keygen`)")
    return key


def data_key(data: Path) -> Path:
    """The data directory's own signing key, made on first use."""
    path = data / KEY_DIR / KEY_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        keygen(path)
    return path


def sign_wacz(wacz: Path, key_path: Path) -> dict:
    """Sign a WACZ in place: ``datapackage-digest.json`` gains ``signedData``; return it."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = load_key(key_path)
    with zipfile.ZipFile(wacz) as z:
        package = z.read("datapackage.json")
    digest_hash = "sha256:" + hashlib.sha256(package).hexdigest()
    created = json.loads(package).get("created")
    signature = key.sign(digest_hash.encode(), ec.ECDSA(hashes.SHA256()))
    signed = {"hash": digest_hash, "created": created, "software": f"govarchive {__version__}",
              "version": "0.1.0", "signature": base64.b64encode(signature).decode(),
              "publicKey": public_key_b64(key)}
    digest = {"path": "datapackage.json", "hash": digest_hash, "signedData": signed}
    tmp = wacz.with_name(wacz.name + ".signing")
    with zipfile.ZipFile(wacz) as zin, zipfile.ZipFile(tmp, "w") as zout:
        for info in zin.infolist():
            if info.filename == "datapackage-digest.json":
                continue
            with zin.open(info) as src, zout.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        info = zipfile.ZipInfo("datapackage-digest.json", date_time=zin.getinfo("datapackage.json").date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        zout.writestr(info, json.dumps(digest, indent=2))
    os.replace(tmp, wacz)
    return signed


def verify_wacz(wacz: Path, public_key: str | None = None) -> tuple[list[str], list[str]]:
    """Check a WACZ offline: every file against ``datapackage.json``, that file against the digest,
    the signature (and that it is ``public_key``'s, when given). Return (failures, what held)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    name = wacz.name
    try:
        z = zipfile.ZipFile(wacz)
    except (OSError, zipfile.BadZipFile) as exc:
        raise GovArchiveError(f"{wacz} is not a WACZ (zip) file: {exc}") from None
    failures, held = [], []
    with z:
        names = set(z.namelist())
        if "datapackage.json" not in names:
            return [f"{name}: no datapackage.json"], held
        package_bytes = z.read("datapackage.json")
        package = json.loads(package_bytes)
        for res in package.get("resources", []):
            path, want = res.get("path"), res.get("hash", "")
            if path not in names:
                failures.append(f"{name}: {path} listed in datapackage.json is missing")
                continue
            h = hashlib.sha256()
            try:
                with z.open(path) as fh:
                    while block := fh.read(1 << 20):
                        h.update(block)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                failures.append(f"{name}: {path} is damaged ({exc})")
                continue
            if want != "sha256:" + h.hexdigest():
                failures.append(f"{name}: {path} does not match its hash in datapackage.json")
        held.append(f"{len(package.get('resources', []))} files match datapackage.json")
        if "datapackage-digest.json" not in names:
            failures.append(f"{name}: no datapackage-digest.json")
            return failures, held
        digest = json.loads(z.read("datapackage-digest.json"))
    actual = "sha256:" + hashlib.sha256(package_bytes).hexdigest()
    if digest.get("hash") != actual:
        failures.append(f"{name}: datapackage.json does not match datapackage-digest.json")
    signed = digest.get("signedData")
    if not signed:
        failures.append(f"{name}: not signed")
        return failures, held
    if signed.get("hash") != actual:
        failures.append(f"{name}: the signature is over another datapackage.json")
    try:
        key = serialization.load_der_public_key(base64.b64decode(signed["publicKey"]))
        key.verify(base64.b64decode(signed["signature"]), signed["hash"].encode(), ec.ECDSA(hashes.SHA256()))
        held.append(f"signed by key {signed['publicKey'][-16:]} at {signed.get('created')}")
    except (KeyError, ValueError, TypeError, InvalidSignature):
        failures.append(f"{name}: the signature does not verify")
    if public_key and signed.get("publicKey") != public_key:
        failures.append(f"{name}: signed by another key than the one given")
    return failures, held
