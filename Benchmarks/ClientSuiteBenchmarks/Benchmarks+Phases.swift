import Foundation
import SuiteSQLite

extension Benchmarks {
    // MARK: 17–19. The phases beside the PHP package, and verification under writes

    /// Issue 15's sequential phases (``Phase``), N operations each through the public API on a
    /// SQLite file, at NORMAL (17) and at FULL (18), each against the PHP package's figure and
    /// against the engine's floor measured in the same run (``InsertFloor``: a single-row insert
    /// transaction through SQLite's C API on the same file, at the same durability). Three rounds
    /// per durability, each on a fresh file, the floor before and after the phases of each round;
    /// every figure is the median of its three.
    mutating func measurePhases() async throws {
        let count = options.phaseOperations
        print("\nPhases beside the PHP package: \(grouped(count)) operations per phase, one per transaction, sequential, "
            + "3 rounds per durability on fresh files, medians; floor = single-row insert transaction through SQLite's C API on the same file")
        for (number, durability) in [(17, SQLiteDatabase.Durability.normal), (18, .full)] {
            var rates: [Phase: [Double]] = [:], floors: [Double] = [], grdbAsync: [Double] = [], grdbBlocking: [Double] = []
            for round in 1...3 {
                let path = workspace.file("phases-\(durability.rawValue)-\(round).sqlite")
                let phases = try await PhaseRound.open(path: path, durability: durability, count: count)
                let floor = try InsertFloor(path: path, durability: durability)
                floors.append(try floor.run(count))
                let measured = try await phases.run()
                floors.append(try floor.run(count))
                floor.close()
                let grdb = try GRDBFloors(path: path, durability: durability)
                grdbAsync.append(try await grdb.async(count))
                grdbBlocking.append(try grdb.blocking(count))
                try grdb.close()
                try await phases.close()
                for (phase, rate) in measured { rates[phase, default: []].append(rate) }
                print("  \(durability.pragmaName) round \(round) (load \(loadAverage() ?? "?")): floor \(grouped(Int(floors[floors.count - 2]))) and "
                    + "\(grouped(Int(floors[floors.count - 1]))) /s; GRDB async \(grouped(Int(grdbAsync.last ?? 0))), "
                    + "blocking \(grouped(Int(grdbBlocking.last ?? 0))) /s; "
                    + Phase.allCases.map { "\($0.rawValue) \(grouped(Int(measured[$0] ?? 0)))" }.joined(separator: ", "))
            }
            let floor = median(floors)
            report.add(ResultRow(name: "\(number). floor: single-row insert txn, SQLite C API, \(durability.pragmaName)",
                                 result: "\(grouped(Int(floor))) ops/s"))
            for (suffix, label, values) in [("w", "GRDB's async write (awaited; suite writes went this way before group commit)", grdbAsync),
                                            ("s", "GRDB's blocking write on the calling thread", grdbBlocking)] {
                let rate = median(values)
                report.add(ResultRow(name: "\(number)\(suffix). the floor's insert through \(label) (diagnostic)",
                                     result: "\(grouped(Int(rate))) ops/s", baseline: "\(grouped(Int(floor))) ops/s",
                                     ratio: "\(fixed(rate / floor * 100, 1))%"))
            }
            for (index, phase) in Phase.allCases.enumerated() {
                let rate = median(rates[phase] ?? [0])
                let php = phase.php(durability), target = phase.target(durability)
                let letter = String(UnicodeScalar(UInt8(97 + index)))
                report.add(ResultRow(
                    name: "\(number)\(letter). \(phase.rawValue), \(durability.pragmaName) (PHP \(grouped(Int(php)))/s)",
                    result: "\(grouped(Int(rate))) ops/s = \(fixed(rate / php, 2))× PHP",
                    baseline: "\(grouped(Int(floor))) ops/s", ratio: "\(fixed(rate / floor * 100, 1))%",
                    target: "≥ \(grouped(Int(target)))/s", verdict: verdict(rate >= target)))
            }
        }
        try await measureVerifyUnderWrites()
    }

    /// 19: verification reading each key once while another task commits 1,000 licence
    /// activations a second on the same file (FULL); 19c: the same with 100 keys repeated, which
    /// the verification cache serves between commits (labelled cached). Three rounds on fresh files, medians.
    private mutating func measureVerifyUnderWrites() async throws {
        let keys = options.phaseOperations * 5, cachedCalls = options.phaseOperations * 50, perSecond = 1_000
        var cold: [Double] = [], cached: [Double] = [], writes: [Double] = []
        for round in 1...3 {
            let bench = try await VerifyUnderWrites.open(path: workspace.file("verify-under-writes-\(round).sqlite"))
            let result = try await bench.run(keys: keys, activationsPerSecond: perSecond, cachedCalls: cachedCalls)
            try await bench.close()
            cold.append(result.coldRate)
            cached.append(result.cachedRate)
            writes += [result.activationRates.cold, result.activationRates.cached]
            print("  verify under writes, round \(round) (load \(loadAverage() ?? "?")): each key once \(grouped(Int(result.coldRate)))/s "
                + "with \(grouped(Int(result.activationRates.cold))) activations/s; 100 keys repeated (cached) \(grouped(Int(result.cachedRate)))/s "
                + "with \(grouped(Int(result.activationRates.cached))) activations/s")
        }
        let writeRate = "\(grouped(Int(median(writes)))) activations/s committed meanwhile (median)"
        report.add(ResultRow(name: "19. verify, each of \(grouped(keys)) keys once, while another task activates \(grouped(perSecond)) licences/s (FULL)",
                             result: "\(grouped(Int(median(cold))))/s; \(writeRate)", target: "≥ 40,000/s", verdict: verdict(median(cold) >= 40_000)))
        report.add(ResultRow(name: "19c. the same, 100 keys repeated (cached between commits)",
                             result: "\(grouped(Int(median(cached))))/s (cached)"))
    }
}
