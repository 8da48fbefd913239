import Foundation
import SuiteSQLite

extension Benchmarks {
    // MARK: 20. Concurrency on one SQLite file at FULL

    /// Figure 20: client creates (20a) and provisioning for eight resellers (20b) from eight tasks
    /// at once on one FULL file, against the same operation from one task in the same round
    /// (target: at least 3×), and against the engine's floor (``InsertFloor`` at FULL on the same
    /// file). Three rounds on fresh files; medians.
    mutating func measureConcurrency() async throws {
        let count = options.phaseOperations
        print("\nConcurrency at FULL: \(grouped(count)) operations from one task, then \(grouped(count)) from 8 tasks at once, "
            + "one per transaction, 3 rounds on fresh files, medians")
        var creates: [ConcurrentWrites.Rates] = [], provisions: [ConcurrentWrites.Rates] = [], floors: [Double] = []
        for round in 1...3 {
            let path = workspace.file("concurrency-\(round).sqlite")
            let bench = try await ConcurrentWrites.open(path: path, count: count)
            let floor = try InsertFloor(path: path, durability: .full)
            floors.append(try floor.run(count))
            creates.append(try await bench.clientCreates())
            provisions.append(try await bench.provisions())
            floors.append(try floor.run(count))
            floor.close()
            try await bench.close()
            print("  round \(round) (load \(loadAverage() ?? "?")): floor \(grouped(Int(floors[floors.count - 2]))) and "
                + "\(grouped(Int(floors[floors.count - 1]))) /s; "
                + "client create \(grouped(Int(creates[round - 1].single))) → \(grouped(Int(creates[round - 1].eight)))/s "
                + "(\(describe(creates[round - 1]))); "
                + "provision \(grouped(Int(provisions[round - 1].single))) → \(grouped(Int(provisions[round - 1].eight)))/s "
                + "(\(describe(provisions[round - 1])))")
        }
        func describe(_ rates: ConcurrentWrites.Rates) -> String {
            "\(fixed(rates.writesPerCommit, 1)) writes per commit; CPU \(fixed(rates.cpuPerOperation.single * 1e6, 0)) → "
                + "\(fixed(rates.cpuPerOperation.eight * 1e6, 0)) µs per operation"
        }
        let floor = median(floors)
        report.add(ResultRow(name: "20. floor: single-row insert txn, SQLite C API, FULL, one task", result: "\(grouped(Int(floor))) ops/s"))
        for (letter, label, rates) in [("a", "client create", creates), ("b", "reseller provision, 8 resellers", provisions)] {
            let single = median(rates.map(\.single)), eight = median(rates.map(\.eight))
            let perCommit = median(rates.map(\.writesPerCommit))
            report.add(ResultRow(name: "20\(letter). \(label), 8 tasks at once, FULL (one task: \(grouped(Int(single)))/s)",
                                 result: "\(grouped(Int(eight))) ops/s = \(fixed(eight / single, 2))× one task; "
                                     + "\(fixed(perCommit, 1)) writes per commit",
                                 baseline: "\(grouped(Int(floor))) ops/s", ratio: "\(fixed(eight / floor * 100, 1))%",
                                 target: "≥ 3× one task", verdict: verdict(eight >= 3 * single)))
        }
    }
}
