import Foundation
import SuiteSQLite

extension Benchmarks {
    // MARK: 10–12. Forge: mint plus activate, online verify, offline verify

    /// Mint plus activate against the bare GRDB insert (three interleaved rounds, best of each);
    /// online verification of known keys in process, cold (nothing cached, each key once) and warmed
    /// (served by the verification cache), on 1 task and on one task per core;
    /// offline token verification against bare Ed25519 verification in the same run.
    mutating func measureForge() async throws {
        let (count, warmup, rounds) = (max(options.writeIterations / 4, 500), options.warmupIterations / 4, 3)
        print("\nforge at synchronous=NORMAL, against floors at NORMAL: mint+activate \(grouped(count)) per run, "
            + "best of \(rounds) interleaved rounds")
        var baseline = try BaselineInserts(path: workspace.file("forge-baseline.sqlite"), durability: .normal)
        var forge = try await ForgeFigures(path: workspace.file("forge.sqlite"))
        let floor = try await ForgeEngineFloor(path: workspace.file("forge-floor.sqlite"))
        _ = try await baseline.run(warmup)
        _ = try await forge.mintAndActivate(warmup)
        _ = try await floor.mintActivated(warmup)
        var best = (baseline: 0.0, mint: 0.0, twoStep: 0.0, floor: 0.0)
        for round in 1...rounds {
            print("  round \(round) (load \(loadAverage() ?? "unknown"))")
            best.baseline = max(best.baseline, try await timedRun("insert baseline") { try await baseline.run(count) })
            best.mint = max(best.mint, try await timedRun("mintActivated") { try await forge.mintAndActivate(count) })
            best.twoStep = max(best.twoStep, try await timedRun("mint, then activate") { try await forge.mintThenActivate(count / 2) })
            best.floor = max(best.floor, try await timedRun("mintActivated SQL, raw") { try await floor.mintActivated(count) })
        }
        try floor.close()
        report.add(writeRow("10. mintActivated(for:) (mint + activate)", best.mint, against: best.baseline, target: 0.50))
        report.add(writeRow("10d. mint() then activate() (diagnostic)", best.twoStep, against: best.baseline, target: nil))
        report.add(writeRow("10f. mintActivated's SQL on raw GRDB (diagnostic)", best.floor, against: best.baseline, target: nil))

        let cold = try await forge.verifyCold(count: min(forge.keys.count, 5_000))
        print("  online verify, cold: \(grouped(min(forge.keys.count, 5_000))) licences, each once, nothing cached: "
            + rateText(cold.perSecond))
        guard cold.allValid else { throw BenchmarkError(message: "a known key did not verify as valid") }

        let calls = options.writeIterations * 20
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("  online verify: \(grouped(calls)) calls over \(grouped(forge.keys.count)) licences, warmed (cached)")
        let single = try await forge.verify(calls: calls, tasks: 1)
        let parallel = try await forge.verify(calls: calls, tasks: cores)
        print("    1 task: \(rateText(single.perSecond)); \(cores) tasks: \(rateText(parallel.perSecond))")
        guard single.allValid && parallel.allValid else { throw BenchmarkError(message: "a known key did not verify as valid") }
        let online = max(single.perSecond, parallel.perSecond)
        report.add(ResultRow(name: "11. online verify (SQLite, in process, warmed: cached)", result: "\(grouped(Int(online))) /s",
                             target: "≥ 200,000 /s", verdict: verdict(online >= 200_000)))
        report.add(ResultRow(name: "11c. online verify, cold (nothing cached, 1 task)", result: "\(grouped(Int(cold.perSecond))) /s"))

        let offline = measureOfflineVerify(iterations: max(options.writeIterations, 2_000))
        print("  offline verify: bare Ed25519 \(grouped(Int(offline.bareEd25519PerSecond)))/s, token \(grouped(Int(offline.offlineVerifyPerSecond)))/s")
        let ratio = offline.offlineVerifyPerSecond / offline.bareEd25519PerSecond
        report.add(ResultRow(name: "12. offline token verify", result: "\(grouped(Int(offline.offlineVerifyPerSecond))) /s",
                             baseline: "\(grouped(Int(offline.bareEd25519PerSecond))) /s (bare Ed25519)",
                             ratio: "\(fixed(ratio * 100, 1))%", target: "≥ 80%", verdict: verdict(ratio >= 0.80)))
        try baseline.close()
        try await forge.close()
    }
}
