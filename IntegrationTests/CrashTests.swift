import Foundation
import Suite
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet

private func dock(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = builtProduct("dock")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// What must hold after any crash: counts of violations, each of which must be zero.
func violations(at location: String) async throws -> [String: Int64] {
    let database = try SuiteDatabase.open(location, drivers: Engine.drivers)
    do {
        let counts = try await database.read { tx in
            let checks: [String: String] = [
                // A provisioning debit without its active licence.
                "debit without licence": """
                    SELECT count(*) FROM wallet_transfers t WHERE t.idempotency_key LIKE 'ally:provision:workflow:%'
                    AND NOT EXISTS (SELECT 1 FROM workflow_licences l JOIN forge_licences f ON f.refid = l.licence_refid
                                    WHERE l.transfer_refid = t.refid AND f.status = 'active')
                    """,
                // A licence with neither its debit nor its paid invoice.
                "licence without debit or paid invoice": """
                    SELECT count(*) FROM forge_licences f WHERE NOT EXISTS (
                        SELECT 1 FROM workflow_licences l WHERE l.licence_refid = f.refid AND (
                            (l.source = 'provision' AND EXISTS (SELECT 1 FROM wallet_transfers t WHERE t.refid = l.transfer_refid))
                            OR (l.source = 'purchase' AND EXISTS (SELECT 1 FROM wave_invoices i WHERE i.refid = l.invoice_refid AND i.status = 'paid'))))
                    """,
                // A paid invoice without exactly one payment and one licence, or an unpaid one with a licence.
                "invoice paid twice or not delivered once": """
                    SELECT count(*) FROM wave_invoices i WHERE
                        (i.status = 'paid' AND ((SELECT count(*) FROM wave_payments p WHERE p.invoice_id = i.id) <> 1
                                                OR (SELECT count(*) FROM workflow_licences l WHERE l.invoice_refid = i.refid) <> 1))
                        OR (i.status <> 'paid' AND EXISTS (SELECT 1 FROM workflow_licences l WHERE l.invoice_refid = i.refid))
                    """,
                // A purchase whose invoice is paid but whose client was not activated.
                "paid buyer not active": """
                    SELECT count(*) FROM wave_invoices i JOIN client_clients c ON c.refid = i.client_refid
                    WHERE i.status = 'paid' AND c.status <> 'active'
                    """,
                // A provisioning record without its debit.
                "run without debit": """
                    SELECT count(*) FROM workflow_runs r WHERE r.kind = 'provision'
                    AND NOT EXISTS (SELECT 1 FROM wallet_transfers t WHERE t.refid = r.transfer_refid)
                    """,
            ]
            var counts: [String: Int64] = [:]
            for (name, sql) in checks { counts[name] = try tx.queryInt64(SQL(raw: sql)) ?? -1 }
            return counts
        }
        let report = try await Ledger(database: database).reconcile()
        try await database.close()
        var all = counts
        all["wallets not reconciling"] = report.isClean ? 0 : Int64(max(1, report.mismatches.count))
        return all
    } catch {
        try? await database.close()
        throw error
    }
}

@Suite struct CrashTests {
    /// A child `dock` runs workflows (provisionings and purchases, by wallet and by signed
    /// webhook) and is killed with SIGKILL at random moments; after every kill the database is
    /// reopened and audited. A run to be killed is given 2,000 workflows, more than it can finish
    /// before its kill (200 take about a third of a second on SQLite, so most runs of 200 ended
    /// before their kill), and the test counts the runs that SIGKILL ended; the last run gets 200
    /// and is left to finish.
    @Test(arguments: Engine.allCases)
    func killingAWorkflowProcessAtRandomMomentsNeverLeavesAnythingPartial(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        defer { Task { await cleanUp() } }
        let install = try dock(["install", "--database", location])
        install.waitUntilExit()
        try #require(install.terminationStatus == 0)
        var generator = SystemRandomNumberGenerator()
        var kills = 0, endings: [String] = []
        let rounds = 7
        for round in 0...rounds {
            let count = round < rounds ? 2_000 : 200
            let child = try dock(["workflow", "soak", "--count", "\(count)", "--tag", "r\(round)-\(UUID().uuidString.prefix(6))",
                                  "--database", location])
            if round < rounds {
                // The kill waits on a thread of its own: a sleep on the test's task can resume
                // seconds late while other tests hold the few threads of the pool.
                let delay = UInt32(Int.random(in: 300...1_500, using: &generator)) * 1_000
                Thread.detachNewThread {
                    usleep(delay)
                    if child.isRunning { kill(child.processIdentifier, SIGKILL) }
                }
            }
            child.waitUntilExit()
            if round == rounds {
                #expect(child.terminationStatus == 0, "the last run must finish its 200 workflows")
            } else if child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL {
                kills += 1
            } else {
                endings.append("round \(round): exit status \(child.terminationStatus)")
            }
            let found = try await violations(at: location)
            #expect(found.values.allSatisfy { $0 == 0 }, "after round \(round): \(found)")
        }
        #expect(kills == rounds, "\(kills) of \(rounds) runs were killed mid-run; the others ended first: \(endings)")
        // Work was done: licences from both workflows exist.
        let database = try SuiteDatabase.open(location, drivers: Engine.drivers)
        let (provisioned, purchased) = try await database.read { tx in
            (try tx.queryInt64("SELECT count(*) FROM workflow_licences WHERE source = 'provision'") ?? 0,
             try tx.queryInt64("SELECT count(*) FROM workflow_licences WHERE source = 'purchase'") ?? 0)
        }
        try await database.close()
        #expect(provisioned >= 100 && purchased >= 100)
    }
}
