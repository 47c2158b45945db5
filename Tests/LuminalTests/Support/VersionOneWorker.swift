@testable import Luminal

extension PhotonFolder {
    /// Writes a worker written from protocol version 1 alone, in Python without the runtime: photon
    /// `photon` with `echo` (answered with its params) and `hang` (never answered). It is strict
    /// where version 1 allows leniency, so that anything newer reaching it shows: a message type
    /// or a call member version 1 did not define, unless its hello declared the feature that
    /// brings it, makes it say why on stderr and exit 65. Its hello declares `features` and
    /// `idempotent` only when they are not empty; with `replyTwiceToCancel` it answers a cancel
    /// with two error replies to the cancelled id.
    @discardableResult
    func versionOneWorker(_ name: String, photon: String, features: [String] = [], idempotent: [String] = [],
                          replyTwiceToCancel: Bool = false) -> String {
        func list(_ values: [String]) -> String { "[" + values.map { "'\($0)'" }.joined(separator: ", ") + "]" }
        return write(name, """
            #!/usr/bin/env python3
            import json, os, sys
            FEATURES, IDEMPOTENT, REPLY_TWICE = \(list(features)), \(list(idempotent)), \(replyTwiceToCancel ? "True" : "False")
            CALL_MEMBERS = {"type", "id", "photon", "method", "params"} | ({"deadline_ms"} if "deadline" in FEATURES else set())

            def send(msg):
                data = json.dumps(msg).encode()
                os.write(4, len(data).to_bytes(4, "big") + data)

            def read(n):
                data = b""
                while len(data) < n:
                    chunk = os.read(3, n - len(data))
                    if not chunk:
                        os._exit(0)
                    data += chunk
                return data

            def refuse(why):
                os.write(2, f"version-1 worker: {why}\\n".encode())
                os._exit(65)

            photon = {"name": "\(photon)", "kinds": ["IPhoton"], "methods": ["echo", "hang"]}
            if IDEMPOTENT:
                photon["idempotent"] = IDEMPOTENT
            hello = {"type": "hello", "protocol": 1, "pid": os.getpid(), "photons": [photon]}
            if FEATURES:
                hello["features"] = FEATURES
            send(hello)
            while True:
                msg = json.loads(read(int.from_bytes(read(4), "big")))
                kind = msg.get("type")
                if kind in ("start", "stop"):
                    send({"type": "result", "id": msg["id"], "value": None})
                elif kind == "ping":
                    send({"type": "pong", "id": msg["id"]})
                elif kind == "shutdown":
                    os._exit(0)
                elif kind == "call":
                    extra = sorted(set(msg) - CALL_MEMBERS)
                    if extra:
                        refuse(f"a call with members version 1 does not define: {extra}")
                    if msg["method"] == "echo":
                        send({"type": "result", "id": msg["id"], "value": msg.get("params")})
                elif kind == "cancel" and "cancel" in FEATURES:
                    for _ in range(2 if REPLY_TWICE else 0):
                        send({"type": "error", "id": msg["id"], "code": "cancelled", "message": "cancelled"})
                else:
                    refuse(f"a message type version 1 does not define: {kind!r}")

            """, mode: 0o755)
    }
}
