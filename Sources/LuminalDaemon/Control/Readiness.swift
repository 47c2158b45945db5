import Luminal
import LuminalWire

/// Which photons and photon files are not as they should be: one judgement for
/// `luminal status --check` and the metrics endpoint's `/readyz`.
///
/// It reads the items `luminal status` shows (`ControlDispatcher.statusItems`): a photon is ready
/// when its snapshot is healthy (started and not unresponsive); a photon file that failed to load,
/// or whose first load is under way, never is.
public enum Readiness {
    /// The items among `status` (the status command's items) that are not ready.
    public static func unready(_ status: [JSONValue]) -> [JSONValue] {
        status.filter { $0["healthy"]?.boolValue != true }
    }

    /// The items of every photon and photon file of `loader` that are not ready.
    static func unready(of loader: Loader) async -> [JSONValue] {
        // With no targets nothing is looked up by name, so nothing can fail.
        unready((try? await ControlDispatcher(loader: loader, logBook: nil).statusItems([], usage: false)) ?? [])
    }

    /// One line saying which photon file `item` (an unready item) is and why it is not ready:
    /// "FILE: photon NAME is STATE", or "FILE: failed: CAUSE" or "FILE: loading".
    /// Control characters (a line feed in a file name among them) are written `\xNN`, so each
    /// item is one line whatever its names.
    public static func line(_ item: JSONValue) -> String {
        let file = escaped(item["file"]?.stringValue ?? "-")
        let state = escaped(item["state"]?.stringValue ?? "-")
        if let name = item["name"]?.stringValue { return "\(file): photon \(escaped(name)) is \(state)" }
        if let message = item["error"]?["message"]?.stringValue { return "\(file): \(state): \(escaped(message))" }
        return "\(file): \(state)"
    }

    /// `text` with every control character and line separator written as `\xNN` or `\uNNNN`.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0..<0x20, 0x7F: result += "\\x" + hex(scalar.value, digits: 2)
            case 0x80..<0xA0, 0x2028, 0x2029: result += "\\u" + hex(scalar.value, digits: 4)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `value` in lower-case hexadecimal, at least `digits` long.
    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
