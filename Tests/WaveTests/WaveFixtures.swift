import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet
import Wave

let waveStart = Date(timeIntervalSince1970: 1_772_323_200)  // 2026-03-01T00:00:00Z

/// Wave wired to a real Client module on one database, with a clock the test moves.
struct WaveFixture: Sendable {
    let database: any Database
    let clock: ManualWallClock
    let clients: Clients
    let products: Products
    let invoices: Invoices
    let gateway: LocalCheckoutGateway

    func client(_ name: String) async throws -> Client {
        try await clients.make().name(name).email("\(name.lowercased())@example.com").create()
    }

    /// Rows in every table a Wave write could touch, to prove a refused call wrote nothing.
    func rowCounts() async throws -> [String: Int64] {
        let tables = ["wave_products", "wave_product_audit", "wave_invoices", "wave_invoice_lines", "wave_invoice_counters",
                      "wave_invoice_audit", "wave_payments", "wave_checkout_sessions", "wallet_accounts", "wallet_transfers",
                      "wallet_entries", "wave_webhook_events", "wave_settings"]
        return try await database.read { tx in
            var counts: [String: Int64] = [:]
            for table in tables { counts[table] = try tx.queryInt64(SQL(raw: "SELECT count(*) FROM \(table)")) ?? -1 }
            return counts
        }
    }

    func balance(_ client: Refid, _ currency: String = "USD") async throws -> Int64 {
        try await invoices.wallet(of: client, currency: currency).balance
    }
}

extension Engine {
    func withWave<T: Sendable>(inMemory: Bool = true, gateway: Bool = false,
                               _ body: @Sendable (WaveFixture) async throws -> T) async throws -> T {
        try await withDatabase(inMemory: inMemory) { database in
            try await Clients.install(on: database)
            try await WaveModule.install(on: database)
            let clock = ManualWallClock(now: waveStart)
            let clients = Clients(database: database, configuration: try ClientConfiguration(defaultStatus: .active), clock: clock)
            let local = LocalCheckoutGateway(database: database, clock: clock)
            let invoices = Invoices(database: database, clients: clients, gateway: gateway ? local : nil, clock: clock)
            return try await body(WaveFixture(database: database, clock: clock, clients: clients,
                                              products: Products(database: database, clock: clock), invoices: invoices,
                                              gateway: local))
        }
    }
}

@discardableResult
func expectWaveError<T>(_ code: WaveError.Code, _ body: () async throws -> T,
                   sourceLocation: SourceLocation = #_sourceLocation) async -> WaveError? {
    await expectError(code, body, sourceLocation: sourceLocation)
}

struct Abort: Error {}
