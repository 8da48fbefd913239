import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport

/// A reseller directory over a fixed list — a boundary implementation for tests until Ally exists.
struct KnownResellers: ResellerDirectory {
    var resellers: [String: Bool]  // refid → active
    func reseller(_ refid: Refid, in transaction: any Transaction) throws -> ResellerSummary? {
        resellers[refid.rawValue].map { ResellerSummary(refid: refid, isActive: $0) }
    }
}

/// A user directory over a fixed list of accounts.
struct KnownUsers: UserDirectory {
    var accounts: [UserAccount]
    func user(id: String, in transaction: any Transaction) throws -> UserAccount? {
        accounts.first { $0.id == id }
    }
    func user(email: String, in transaction: any Transaction) throws -> UserAccount? {
        accounts.first { $0.email?.lowercased() == email }
    }
}

let reseller1 = Refid(rawValue: "RS-ALPHA")
let reseller2 = Refid(rawValue: "RS-BETA")
let suspendedReseller = Refid(rawValue: "RS-FROZEN")
let testResellers = KnownResellers(resellers: [reseller1.rawValue: true, reseller2.rawValue: true, suspendedReseller.rawValue: false])

/// 2026-03-15T12:00:00Z
let referenceDate = Date(timeIntervalSince1970: 1_773_576_000)

extension Engine {
    /// A fresh database with the Client module installed, and a `Clients` service over it.
    func withClients<T: Sendable>(
        inMemory: Bool = true,
        configuration: ClientConfiguration = .defaults,
        users: any UserDirectory = OpaqueUserIDs(),
        clock: ManualWallClock = ManualWallClock(now: referenceDate),
        events: DomainEventBus = DomainEventBus(),
        _ body: @Sendable (Clients) async throws -> T
    ) async throws -> T {
        try await withDatabase(inMemory: inMemory) { database in
            try await Clients.install(on: database)
            let clients = Clients(database: database, configuration: configuration, resellers: testResellers,
                                  users: users, clock: clock, events: events)
            return try await body(clients)
        }
    }
}

extension Clients {
    func count(_ table: String = "client_clients") async throws -> Int64 {
        try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM \(raw: table)") ?? -1 }
    }

    /// Creates a client and walks it into `status` along allowed transitions.
    func client(in status: ClientStatus, email: String) async throws -> Client {
        let client = try await make().name("Client \(email)").email(email).create()
        switch status {
        case .pending: return client
        case .active: return try await activate(client.refid)
        case .suspended:
            try await activate(client.refid)
            return try await suspend(client.refid)
        case .inactive: return try await deactivate(client.refid)
        }
    }
}

func expectClientError<T>(_ code: ClientError.Code, _ body: () async throws -> T,
                   sourceLocation: SourceLocation = #_sourceLocation) async -> ClientError? {
    await expectError(code, body, sourceLocation: sourceLocation)
}

import Testing
