import LuminalSystem
import LuminalWire

extension Manifest {
    /// Reads `sockets`: an array of addresses (each socket named `defaultName`, as systemd names
    /// a unit's sockets after it) or an object of names to addresses.
    static func parseSockets(_ value: JSONValue, package: String, defaultName: String,
                             invalid: (String) -> LoaderError) throws(LoaderError) -> [DeclaredSocket] {
        let form = "an array of addresses ([\"tcp:127.0.0.1:8080\", \"unix:run/app.sock\"]) or an object of names to addresses"
        var entries: [(name: String, address: JSONValue)] = []
        if let items = value.arrayValue {
            entries = items.map { (defaultName, $0) }
        } else if let object = value.objectValue {
            entries = object.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        } else {
            throw invalid("key 'sockets' must be \(form)")
        }
        guard entries.count <= HeldSockets.limit else {
            throw invalid("key 'sockets' declares \(entries.count) sockets; at most \(HeldSockets.limit) are allowed")
        }
        var sockets: [DeclaredSocket] = []
        for (name, item) in entries {
            guard PhotonDescriptor.isValidName(name) else {
                throw invalid("key 'sockets' has the name \(JSONValue.string(name)): a socket's name is letters, digits, '.', '_', '-', starting with a letter or digit, at most 128")
            }
            guard let text = item.stringValue else { throw invalid("key 'sockets' must be \(form); \(item) is not a string") }
            let address: SocketAddress
            do {
                address = try SocketAddress.parse(text, in: package)
            } catch {
                throw invalid("socket \(JSONValue.string(text)): \(error.reason)")
            }
            if sockets.contains(where: { $0.address == address }) {
                throw invalid("socket \(JSONValue.string(text)) is declared twice")
            }
            sockets.append(DeclaredSocket(name: name, address: address))
        }
        return sockets
    }
}
