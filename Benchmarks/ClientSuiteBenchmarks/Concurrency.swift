import Ally
import Client
import Foundation
import Suite
import SuiteCore
import SuiteSQLite

/// Figure 20: one SQLite file at FULL, one operation per transaction, first from one task and
/// then from eight at once (the same total), through the public API: client creates, and
/// provisioning for eight resellers (each task its own). A durable commit costs an fsync, so eight
/// tasks beat one only by sharing commits (``SQLiteDatabase``'s group commit).
struct ConcurrentWrites {
    struct Rates {
        /// Operations per second from one task, and from eight.
        var single: Double, eight: Double
        /// Writes per commit during the eight-task run.
        var writesPerCommit: Double
        /// This process's CPU time (user and system) per operation, from one task and from eight.
        var cpuPerOperation: (single: Double, eight: Double)
    }

    let suite: ClientSuite
    let database: SQLiteDatabase
    let count: Int

    /// A suite with every module on a new FULL file at `path`, committing with `synchronous=FULL` (read back).
    static func open(path: String, count: Int) async throws -> ConcurrentWrites {
        let (suite, database) = try await suiteOnNewFile(path: path, durability: .full)
        return ConcurrentWrites(suite: suite, database: database, count: count)
    }

    /// Client creates: `count` from one task, then `count` more from eight tasks.
    func clientCreates() async throws -> Rates {
        let clients = try suite.clients, count = count
        return try await rates { task, tasks, round in
            for index in stride(from: task, to: count, by: tasks) {
                _ = try await clients.make().name("Client \(round)-\(index)").email("client-\(round)-\(index)@bench.example").create()
            }
        }
    }

    /// Provisioning (one credit each): `count` for one reseller from one task, then `count` for
    /// eight resellers from eight tasks, each its own reseller.
    func provisions() async throws -> Rates {
        let allies = try suite.allies, count = count
        var resellers: [Refid] = []
        for index in 0..<8 {
            let reseller = try await allies.make().user("bench-reseller-\(index)").company("Bench \(index)").create()
            _ = try await allies.addCredits(reseller.refid, 1_000_000_000)
            resellers.append(reseller.refid)
        }
        return try await rates { [resellers] task, tasks, round in
            for index in stride(from: task, to: count, by: tasks) {
                _ = try await allies.provision(resellers[task], cost: 1, action: "seat", idempotencyKey: "provision-\(round)-\(index)")
            }
        }
    }

    /// Runs `work(task, tasks, round)` from one task, then from eight at once; each task does its
    /// share of `count` operations.
    private func rates(_ work: @escaping @Sendable (Int, Int, Int) async throws -> Void) async throws -> Rates {
        sync()
        let cpuBefore = clientUsage(children: false)
        let single = Double(count) / (try await measure { try await work(0, 1, 1) })
        let cpuSingle = clientUsage(children: false) - cpuBefore
        sync()
        let before = database.groupCommitCounts, cpuBetween = clientUsage(children: false)
        let eight = Double(count) / (try await measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 { group.addTask { try await work(task, 8, 2) } }
                try await group.waitForAll()
            }
        })
        let after = database.groupCommitCounts, cpuEight = clientUsage(children: false) - cpuBetween
        let commits = max(1, after.commits - before.commits)
        return Rates(single: single, eight: eight, writesPerCommit: Double(after.writes - before.writes) / Double(commits),
                     cpuPerOperation: (cpuSingle.seconds / Double(count), cpuEight.seconds / Double(count)))
    }

    func close() async throws { try await database.close() }
}
