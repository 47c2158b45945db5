/// A plain text table: columns padded to their widest cell, two spaces apart.
struct Table {
    /// Column headings.
    let headings: [String]
    /// Cells, row by row; `decorate` may colour a cell after padding.
    var rows: [[String]] = []

    /// The lines to print; `decorate(column, padded)` styles each cell.
    func render(style: Style, decorate: (Int, String) -> String = { $1 }) -> [String] {
        var widths = headings.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String], _ styled: (Int, String) -> String) -> String {
            cells.enumerated().map { column, cell in
                let padded = column == cells.count - 1 ? cell : cell.padding(toLength: widths[column])
                return styled(column, padded)
            }.joined(separator: "  ")
        }
        return [style.bold(line(headings, { $1 }))] + rows.map { line($0, decorate) }
    }
}
