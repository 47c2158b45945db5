@testable import Luminal
@testable import LuminalSystem
import Testing

@Suite struct DirectoryListing {
    /// Enough entries, of every name length, to fill the C library's directory buffer many
    /// times over, so that some entry sits at its very end: a listing must read each name only
    /// as far as its terminating NUL (AddressSanitizer, `Scripts/sanitize address`, catches a
    /// read of the whole 256-byte name field past the buffer).
    @Test func everyNameOfAFolderThatFillsTheReadBuffer() {
        let folder = PhotonFolder()
        defer { folder.remove() }
        let names = (0..<3000).map { index in String(repeating: "n", count: index % 200 + 1) + "-\(index)" }
        names.forEach { folder.write($0, "") }
        #expect(Paths.entries(of: folder.path) == names.sorted())
    }
}
