"""An independent enrolment client: shares no code with DentPro. It enrols a fresh Ed25519 key
at a real branch server (pinning the certificate by its SHA-256 fingerprint) and verifies the
checkpoint of the answer from the JSON exactly as sent, following the canonical signed form
documented in crates/sync/src/protocol.rs.

Usage: python3 enrol_and_verify_checkpoint.py ADDRESS CODE FINGERPRINT
Prints the checkpoint's tree size on success; exits non-zero otherwise.
"""

import hashlib
import http.client
import json
import ssl
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def main() -> int:
    address, code, fingerprint = sys.argv[1:4]
    host, port = address.rsplit(":", 1)

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    device_id = hashlib.sha256(public).hexdigest()[:32]
    enrol_message = b"dentpro/enrol/v1\0" + code.encode() + b"\0" + device_id.encode()
    body = json.dumps(
        {
            "code": code,
            "device_id": device_id,
            "public_key": public.hex(),
            "signature": key.sign(enrol_message).hex(),
            "label": "independent verifier",
            "app_version": "independent",
            "branch_id": None,
        }
    )

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # pinned by fingerprint below instead
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
    conn.connect()
    presented = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()
    if presented != fingerprint.lower():
        print(f"certificate fingerprint {presented} is not the pinned {fingerprint}")
        return 2
    conn.request("POST", "/v1/enrol", body, {"Content-Type": "application/json"})
    answer = conn.getresponse()
    raw = answer.read()
    if answer.status != 200:
        print(f"enrolment refused: {answer.status} {raw!r}")
        return 3

    sent = json.loads(raw)
    cp = sent["checkpoint"]
    # The canonical signed form: tag, tree size as u64 big-endian, the root's hex as sent, a
    # zero byte, issued_at as sent. Nothing is re-formatted.
    message = (
        b"dentpro/checkpoint/v1\0"
        + struct.pack(">Q", cp["tree_size"])
        + cp["root"].encode()
        + b"\0"
        + cp["issued_at"].encode()
    )
    server_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sent["server_key"]))
    try:
        server_key.verify(bytes.fromhex(cp["signature"]), message)
    except InvalidSignature:
        print(f"checkpoint signature does not verify over the sent bytes: {cp!r}")
        return 4
    print(cp["tree_size"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
