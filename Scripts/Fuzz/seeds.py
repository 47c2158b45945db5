#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from protocol/vectors/ and the manifests in the tree.

Usage: seeds.py REPOSITORY OUT_DIR. Creates OUT_DIR/<target>/seed-<n> for the targets frame,
message, manifest and control-request, and adds the inputs kept in
protocol/vectors/fuzz/<target>/ (earlier crashes, now regression seeds).
"""
import json
import os
import sys

repo, out = sys.argv[1], sys.argv[2]
vectors = os.path.join(repo, "protocol", "vectors")


def load(name):
    with open(os.path.join(vectors, name)) as f:
        return json.load(f)["vectors"]


def save(target, inputs):
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    kept = os.path.join(vectors, "fuzz", target)
    if os.path.isdir(kept):
        for name in sorted(os.listdir(kept)):
            with open(os.path.join(kept, name), "rb") as f:
                inputs.append(f.read())
    for index, data in enumerate(inputs):
        with open(os.path.join(folder, "seed-%d" % index), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (target, len(inputs)))


frames = [bytes.fromhex(v["hex"]) for v in load("frames.json")]
# The frame target's first byte chooses the read size (byte % 16 + 1): whole-ish and bytewise.
save("frame", [bytes([split]) + stream for stream in frames for split in (0, 15)])

payloads = [v["json"].encode() for v in load("messages.json")]
for stream in frames:
    # Each complete frame's payload, as far as the header says.
    offset = 0
    while offset + 4 <= len(stream):
        length = int.from_bytes(stream[offset:offset + 4], "big")
        if length < 2 or offset + 4 + length > len(stream):
            break
        payloads.append(stream[offset + 4:offset + 4 + length])
        offset += 4 + length
save("message", payloads)

manifests = []
for root, dirs, files in os.walk(os.path.join(repo, "photons")):
    if "photon.json" in files:
        with open(os.path.join(root, "photon.json"), "rb") as f:
            manifests.append(f.read())
manifests += [
    b'{"exec": "run", "args": ["--fast"], "env": {"MODE": "demo"}, "timeouts": {"handshake": 10, "stop": 5, "kill": 5}, "watch": ["../x"]}',
    b'{"exec": "run", "restart": "always", "health": {"interval": 30, "timeout": 10}, "signal": "INT"}',
    b'{"exec": "run", "protocol": "none", "name": "plain", "ready": 0.5}',
    b'{"exec": "run", "health": {"interval": null}}',
    b'{"exec": "../outside"}',
    b'{"exec": "run", "sockets": ["tcp:127.0.0.1:8080", "tcp:[::1]:8080", "unix:run/app.sock"]}',
    b'{"exec": "run", "protocol": "none", "sockets": {"http": "tcp:0.0.0.0:80", "admin": "unix:admin.sock"}}',
]
save("manifest", manifests)

requests = [json.dumps(v["request"]).encode() for v in load("control.json")]
requests += [json.dumps(reply).encode() for reply in (
    {"ok": True, "result": [{"name": "a", "healthy": True}]},
    {"ok": False, "error": {"code": "rolledBack", "message": "m", "details": {"step": "handshake"}}},
    {"item": {"event": "loaded"}},
)]
save("control-request", requests)
