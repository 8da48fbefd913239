import Client
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

/// Cross-module behaviour of the foundation: wiring through a location string, installing every
/// module, and composing module operations with the caller's own SQL in one transaction.
@Suite struct InstallAndCompositionTests {
    @Test(arguments: Engine.allCases)
    func theSuiteOpensALocationInstallsEveryModuleAndRecordsVersions(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        let database = try SuiteDatabase.open(location, drivers: Engine.drivers)
        let first = try await SuiteDatabase.install([], on: database)
        let second = try await SuiteDatabase.install([], on: database)
        let installed = try await SchemaInstaller.installedModules(on: database)
        try await database.close()
        await cleanUp()
        #expect(first.map(\.module).sorted() == SuiteDatabase.schemas.keys.sorted())
        // Dependencies install first: Ally keeps its credits in the Wallet ledger.
        let order = first.map(\.module)
        #expect(order.firstIndex(of: "wallet")! < order.firstIndex(of: "ally")!)
        #expect(first.allSatisfy { !$0.appliedVersions.isEmpty })
        #expect(second.allSatisfy { $0.appliedVersions.isEmpty })
        #expect(installed.map(\.module) == SuiteDatabase.schemas.keys.sorted())
        #expect(throws: StorageError.self) { try SuiteDatabase.open("mysql://nope", drivers: Engine.drivers) }
    }

    @Test func aPostgresURLWithoutThePostgresDriverSaysWhatToLink() async throws {
        // The default drivers are SQLite's alone: an app that links no PostgreSQL driver.
        let error = #expect(throws: StorageError.self) { try SuiteDatabase.open("postgres://app@127.0.0.1:1/app") }
        #expect(error?.code == .invalidLocation)
        #expect(error?.description == "this program has no PostgreSQL driver (it opens: SQLite); link SuitePostgres and pass .postgres in its drivers")
        let suite = await #expect(throws: StorageError.self) { try await ClientSuite.open("postgresql://app@127.0.0.1:1/app") }
        #expect(suite?.code == .invalidLocation)
        let empty = #expect(throws: StorageError.self) { try SuiteDatabase.open("  ") }
        #expect(empty?.description == "the database location is empty")
    }

    @Test(arguments: Engine.allCases)
    func aClientOperationAndTheCallersOwnWritesCommitOrRollBackTogether(engine: Engine) async throws {
        struct PaymentDeclined: Error {}
        try await engine.withDatabase { database in
            try await Clients.install(on: database)
            try await database.write { tx in
                try tx.execute("CREATE TABLE app_orders (id \(raw: tx.dialect.autoIncrementPrimaryKey), client_refid TEXT NOT NULL)")
            }
            let clients = Clients(database: database)
            let client = try await clients.make().name("Acme").email("a@acme.example").create()

            await #expect(throws: PaymentDeclined.self) {
                try await database.write { tx in
                    try clients.transition(.activate, client.refid, actor: "checkout", in: tx)
                    try tx.execute("INSERT INTO app_orders (client_refid) VALUES (\(client.refid))")
                    throw PaymentDeclined()
                }
            }
            #expect(try await clients.find(client.refid).status == .pending)
            let ordersAfterFailure = try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM app_orders") }
            #expect(ordersAfterFailure == 0)

            try await database.write { tx in
                try clients.transition(.activate, client.refid, actor: "checkout", in: tx)
                try tx.execute("INSERT INTO app_orders (client_refid) VALUES (\(client.refid))")
            }
            #expect(try await clients.find(client.refid).status == .active)
            let orders = try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM app_orders") }
            #expect(orders == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func clientsAnswerTheClientDirectoryBoundaryInsideATransaction(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Clients.install(on: database)
            let clients = Clients(database: database)
            let client = try await clients.make().name("Acme").email("a@acme.example").create()
            let directory: any ClientDirectory = clients
            let summary = try await database.read { tx in try directory.client(client.refid, in: tx) }
            #expect(summary?.status == .pending)
            #expect(summary?.email == "a@acme.example")
            let missing = try await database.read { tx in try directory.client(Refid(rawValue: "CL-NONE"), in: tx) }
            #expect(missing == nil)
        }
    }
}
