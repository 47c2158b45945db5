/// One metric family: its header, and how one subject's samples of it (a photon's, a photon
/// file's) are written from the figures the subject shows.
struct MetricsFamily<Subject, Figures>: Sendable {
    let name: String
    let kind: MetricsText.Kind
    let help: String
    let write: @Sendable (Subject, Figures, inout MetricsText) -> Void
}

/// One subject's samples, family by family, and the figures they were written from. They are
/// written again only when the figures differ: an idle photon costs a scrape a copy of its bytes.
struct KeptLines<Subject, Figures: Equatable> {
    private var figures: Figures?
    private var text = MetricsText()
    /// Where each family's samples end in `text`.
    private var ends: [Int] = []

    /// Keeps the samples of `subject` showing `figures`, written again unless they show them
    /// already; whether they were.
    mutating func update(_ subject: Subject, _ figures: Figures, families: [MetricsFamily<Subject, Figures>]) -> Bool {
        guard figures != self.figures else { return false }
        self.figures = figures
        text = MetricsText(reserving: text.bytes.count)
        ends.removeAll(keepingCapacity: true)
        for family in families {
            family.write(subject, figures, &text)
            ends.append(text.bytes.count)
        }
        return true
    }

    /// The samples of the family at `index` of those written; none before the first update.
    subscript(family index: Int) -> ArraySlice<UInt8> {
        guard index < ends.count else { return [] }
        return text.bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }
}
