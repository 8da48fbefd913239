import Ally
import Client
import Foundation
import Suite
import SuitePostgres
import SuiteStorage
import SuiteTestSupport
import Synchronization
import Testing
import Wallet
import Wave

/// What each provisioning task saw: its keys that eventually succeeded, and the errors on the way.
private struct TaskReport: Sendable {
    var succeeded: [String: ProvisionResult] = [:]
    var failures: [StorageError.Code] = []
    var otherErrors: [String] = []
}

/// Shared between the provisioning tasks and the test.
private final class Progress: Sendable {
    let completed = Atomic<Int>(0)
}

/// A long-lived process (the suite opened once) keeps serving across a PostgreSQL crash and restart.
@Suite struct PostgresRestartFaultTests {
    /// 8 tasks provision with idempotency keys; the server is stopped with `pg_ctl -m immediate`
    /// mid-run and started again; every failed call is retried with its key. Afterwards every key
    /// was debited exactly once, licences match debits, the ledger reconciles, and the same suite
    /// keeps serving.
    @Test func provisioningAcrossAServerCrashDebitsEveryKeyExactlyOnce() async throws {
        let server = try RestartableServer()
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try PostgresDatabase(url: server.url.withQueryItem("pool", "1"))
        try await admin.write { tx in try tx.execute(SQL(raw: "CREATE SCHEMA \(schema)")) }
        try await admin.close()
        let location = server.url.withQueryItem("search_path", schema).withQueryItem("pool", "8").withQueryItem("connect_timeout", "3")

        let suite = try await ClientSuite.open(location, drivers: Engine.drivers)
        // A crash may lose commits the server acknowledged when synchronous_commit is off: the
        // exactly-once check below holds only for a server that keeps what it acknowledged.
        let durability = try await suite.database.commitDurability()
        try #require(durability.setting.hasPrefix("synchronous_commit=on"), "\(durability)")
        try await suite.products.create(name: "Pro (1 year)", slug: "pro-1y", price: 4_900, currency: "USD", licenceDays: 365)
        let reseller = try await suite.allies.make().user("restart-user").company("Restart Partners").gold().create()
        let credits: Int64 = 10_000_000
        try await suite.allies.addCredits(reseller.refid, credits)
        var clients: [Client] = []
        for index in 0..<8 {
            clients.append(try await suite.clients.make().name("Client \(index)").email("restart-\(index)@example.com")
                .reseller(reseller.refid).create())
        }

        let tasks = 8, keysPerTask = 30
        let progress = Progress()
        let reports = try await withThrowingTaskGroup(of: TaskReport.self) { group in
            for task in 0..<tasks {
                let client = clients[task].refid
                group.addTask {
                    var report = TaskReport()
                    for index in 0..<keysPerTask {
                        let key = "restart-\(task)-\(index)"
                        let giveUp = ContinuousClock.now + .seconds(90)
                        while report.succeeded[key] == nil {
                            do {
                                report.succeeded[key] = try await suite.workflows.provision(
                                    reseller: reseller.refid, client: client, product: "pro-1y", idempotencyKey: key)
                                progress.completed.add(1, ordering: .relaxed)
                            } catch let error as StorageError where ContinuousClock.now < giveUp {
                                report.failures.append(error.code)
                                try await Task.sleep(for: .milliseconds(100))
                            } catch {
                                report.otherErrors.append("\(key): \(error)")
                                break
                            }
                        }
                    }
                    return report
                }
            }
            // The crash, once a third of the work is done; the server comes back a second later.
            while progress.completed.load(ordering: .relaxed) < tasks * keysPerTask / 3 { try await Task.sleep(for: .milliseconds(20)) }
            try server.crash()
            // During the outage an operation fails fast, with a reason.
            let started = ContinuousClock.now
            let outage = await #expect(throws: StorageError.self) { try await suite.allies.balance(reseller.refid) }
            #expect(outage?.code == .unavailable, "\(String(describing: outage))")
            #expect(ContinuousClock.now - started < .seconds(5))
            try await Task.sleep(for: .seconds(1))
            try server.start()
            var all: [TaskReport] = []
            for try await report in group { all.append(report) }
            return all
        }

        let failures = reports.flatMap(\.failures)
        let seen = Dictionary(grouping: failures, by: \.rawValue).mapValues(\.count)
        print("calls failed during the outage, by code (each retried with its key): \(seen.sorted { $0.key < $1.key })")
        #expect(reports.flatMap(\.otherErrors).isEmpty, "\(reports.flatMap(\.otherErrors).prefix(5))")
        #expect(!failures.isEmpty, "the crash should have failed some calls")
        #expect(Set(failures).isSubset(of: [.unavailable, .commitOutcomeUnknown, .busy]), "\(Set(failures))")
        let results = reports.flatMap(\.succeeded.values)
        #expect(results.count == tasks * keysPerTask)

        // Every key debited exactly once: one provisioning transfer per key, one licence per debit.
        let (transfers, licences, spent) = try await suite.database.read { tx in
            (try tx.queryInt64("SELECT count(*) FROM wallet_transfers WHERE idempotency_key LIKE 'ally:provision:workflow:%'"),
             try tx.queryInt64("SELECT count(*) FROM forge_licences"),
             try tx.queryInt64("SELECT CAST(count(*) AS BIGINT) FROM workflow_runs WHERE kind = 'provision'"))
        }
        #expect(transfers == Int64(tasks * keysPerTask))
        #expect(licences == Int64(tasks * keysPerTask))
        #expect(spent == Int64(tasks * keysPerTask))
        #expect(Set(results.map(\.transfer)).count == tasks * keysPerTask)
        #expect(try await suite.allies.balance(reseller.refid) == credits - 4_165 * Int64(tasks * keysPerTask))
        #expect(try await suite.ledger.reconcile().isClean)
        let found = try await violations(at: location)
        #expect(found.values.allSatisfy { $0 == 0 }, "\(found)")

        // The same process keeps serving: a new key provisions at once.
        let after = try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid, product: "pro-1y",
                                                        idempotencyKey: "restart-after")
        #expect(after.isNew && after.licences.count == 1)
        try await suite.close()

        let cleanUp = try PostgresDatabase(url: server.url.withQueryItem("pool", "1"))
        try await cleanUp.write { tx in try tx.execute(SQL(raw: "DROP SCHEMA \(schema) CASCADE")) }
        try await cleanUp.close()
    }
}
