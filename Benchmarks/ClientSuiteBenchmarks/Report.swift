import Foundation

/// One line of the final table.
struct ResultRow {
    enum Verdict: String {
        case pass = "PASS"
        case below = "BELOW"
        case info = ""
        case skipped = "SKIPPED"
    }

    var name: String
    var result: String
    var baseline = ""
    var ratio = ""
    var target = ""
    var verdict = Verdict.info
}

/// The figures collected during the run, printed as one table at the end.
struct Report {
    private(set) var rows: [ResultRow] = []

    mutating func add(_ row: ResultRow) { rows.append(row) }

    /// A plain text table, columns padded to their widest cell (also valid Markdown).
    func render() -> String {
        let header = ["Benchmark", "Result", "Baseline", "Ratio", "Target", "Verdict"]
        let cells = rows.map { [$0.name, $0.result, $0.baseline, $0.ratio, $0.target, $0.verdict.rawValue] }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        func line(_ values: [String]) -> String {
            "| " + zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: " | ") + " |"
        }
        let rule = "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"
        return ([line(header), rule] + cells.map(line)).joined(separator: "\n")
    }
}

func verdict(_ passed: Bool) -> ResultRow.Verdict { passed ? .pass : .below }
