/// A protocol fault: what a reader found wrong in a peer's bytes.
///
/// The `description` is the reason text of PROTOCOL.md §8: the kind's fixed prefix, a colon and
/// a detail, e.g. `oversize frame: length 20000000 exceeds the cap of 16777216 bytes`.
public struct ProtocolFault: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of a fault; the raw value is the reason-text prefix the protocol defines.
    public enum Kind: String, Sendable, CaseIterable {
        /// A frame length below 2.
        case badFrameLength = "bad frame length"
        /// A frame length above the reader's cap.
        case oversizeFrame = "oversize frame"
        /// End of stream in the middle of a frame.
        case truncatedFrame = "truncated frame"
        /// A payload that is not valid UTF-8.
        case invalidUTF8 = "invalid UTF-8"
        /// A payload that is not one JSON object (bad syntax, duplicate key, too deep, not an object).
        case invalidJSON = "invalid JSON"
        /// A missing or ill-typed member, or an unknown message type.
        case invalidMessage = "invalid message"
        /// A frame before `hello`, or a second `hello`.
        case outOfOrderHello = "out-of-order hello"
        /// A reply whose id is not awaiting a reply of that kind.
        case unknownReplyID = "unknown reply id"
        /// The worker closed its protocol pipe while it still runs.
        case closedProtocolPipe = "closed protocol pipe"
    }

    /// The class of the fault.
    public var kind: Kind
    /// What exactly was wrong, for humans (e.g. the member name or the byte offset).
    public var detail: String

    /// Creates a fault of `kind` with a human-readable `detail`.
    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// The reason text: `"<kind>: <detail>"`.
    public var description: String { "\(kind.rawValue): \(detail)" }
}
