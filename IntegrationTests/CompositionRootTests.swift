import Ally
import Client
import Forge
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet
import Wave

/// `ClientSuite` as the one composition root: modules are optional, each is built once, and
/// every boundary the modules take from outside can be injected.
@Suite struct CompositionRootTests {
    @Test(arguments: Engine.allCases)
    func aSuiteOpenedWithClientAloneInstallsAndWiresOnlyClient(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        let suite = try await ClientSuite.open(location, drivers: Engine.drivers, modules: [.client])
        let installed = try await SchemaInstaller.installedModules(on: suite.database).map(\.module)
        let client = try await suite.clients.make().name("Acme").email("a@acme.example").create()
        let found = try await suite.clients.find(client.refid)
        let allies = #expect(throws: SuiteError.self) { try suite.allies }
        let workflows = #expect(throws: SuiteError.self) { try suite.workflows }
        // Without Ally no reseller exists, so a client naming one is refused, not half-checked.
        let withReseller = await #expect(throws: ClientError.self) {
            try await suite.clients.make().name("B").email("b@b.example").reseller(Refid(rawValue: "RS-NONE")).create()
        }
        try await suite.close()
        await cleanUp()
        #expect(installed == ["client"])
        #expect(suite.modules == [.client])
        #expect(found.email == "a@acme.example")
        #expect(allies?.code == .moduleNotEnabled)
        #expect(allies?.description == "the Ally module is not part of this suite (open the suite with modules: [.ally])")
        #expect(workflows?.code == .moduleNotEnabled)
        #expect(withReseller?.code == .invalidReseller)
    }

    @Test(arguments: Engine.allCases)
    func aSuiteOpenedWithoutInstallingTakesTheModulesTheDatabaseHas(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        // Ally brings the Wallet ledger it keeps credits in.
        let first = try await ClientSuite.open(location, drivers: Engine.drivers, modules: [.ally])
        let firstModules = first.modules
        try await first.close()

        let reopened = try await ClientSuite.open(location, drivers: Engine.drivers, install: false)
        let reseller = try await reopened.allies.make().user("u-1").company("Northwind").create()
        try await reopened.allies.addCredits(reseller.refid, 500)
        let balance = try await reopened.allies.balance(reseller.refid)
        let clients = #expect(throws: SuiteError.self) { try reopened.clients }
        let reopenedModules = reopened.modules
        try await reopened.close()

        let missing = await #expect(throws: StorageError.self) {
            try await ClientSuite.open(location, drivers: Engine.drivers, modules: [.forge], install: false)
        }
        await cleanUp()
        #expect(firstModules == [.wallet, .ally])
        #expect(reopenedModules == [.wallet, .ally])
        #expect(balance == 500)
        #expect(clients?.description == "the client module is not installed in this database (run `dock install client`)")
        #expect(missing?.description == "the forge module is not installed in this database (run `dock install forge`)")
    }

    @Test(arguments: Engine.allCases)
    func everyModuleReadsTheSuitesClockAndPublishesOnItsBus(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_790_000_000))
        let events = DomainEventBus()
        let stream = events.subscribe()
        let suite = try await ClientSuite.open(location, drivers: Engine.drivers, configuration: .init(clock: clock, events: events))
        let reseller = try await suite.allies.make().user("u-1").company("Northwind").create()
        clock.advance(by: 60)
        // Client checks the reseller through the suite's Allies: the same one the test registered with.
        let client = try await suite.clients.make().name("Acme").email("a@acme.example").reseller(reseller.refid).create()
        try await suite.allies.addCredits(reseller.refid, 1_000)
        try await suite.products.create(name: "Pro", slug: "pro", price: 400, currency: "USD", licenceDays: 30)
        clock.advance(by: 60)
        let provision = try await suite.workflows.provision(reseller: reseller.refid, client: client.refid, product: "pro",
                                                            idempotencyKey: "order-1")
        // Ally's credits live in the suite's one ledger.
        let wallet = try await suite.ledger.account(reseller.wallet)
        try await suite.close()
        await cleanUp()

        let expected: Set = ["ally.reseller_registered", "client.created", "ally.credits_added"]
        var names: Set<String> = []
        for await event in stream {
            names.insert(event.name)
            if names.isSuperset(of: expected) { break }
        }
        #expect(reseller.createdAt == Date(timeIntervalSince1970: 1_790_000_000))
        #expect(client.createdAt == Date(timeIntervalSince1970: 1_790_000_060))
        #expect(provision.licences.first?.licence.activatedAt == Date(timeIntervalSince1970: 1_790_000_120))
        #expect(wallet.balance == 1_000 - provision.cost)
        #expect(names.isSuperset(of: expected))
    }

    @Test(arguments: Engine.allCases)
    func anInjectedUserDirectoryDecidesWhoMayBeBoundToAClient(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        let database = try SuiteDatabase.open(location, drivers: Engine.drivers)
        try await SuiteDatabase.install(["client"], on: database)
        try await database.write { tx in
            try tx.execute("CREATE TABLE app_users (id TEXT PRIMARY KEY, email TEXT NOT NULL)")
            try tx.execute("INSERT INTO app_users (id, email) VALUES ('u-7', 'seven@app.example')")
        }
        let suite = ClientSuite(database: database, modules: [.client], configuration: .init(users: AppUsers()))
        let client = try await suite.clients.make().name("Acme").email("a@acme.example").create()
        let bound = try await suite.clients.bindUser("u-7", to: client.refid)
        let stranger = await #expect(throws: ClientError.self) {
            try await suite.clients.bindUser("u-8", to: client.refid)
        }
        try await suite.close()
        await cleanUp()
        #expect(bound.userID == "u-7")
        #expect(stranger?.code == .invalidUser)
    }
}

/// An app's own users table, as a host application would expose it to the Client module.
private struct AppUsers: UserDirectory {
    func user(id: String, in transaction: any Transaction) throws -> UserAccount? {
        try transaction.query("SELECT id, email FROM app_users WHERE id = \(id)").first.map {
            UserAccount(id: try $0.string("id"), email: try $0.string("email"))
        }
    }

    func user(email: String, in transaction: any Transaction) throws -> UserAccount? {
        try transaction.query("SELECT id, email FROM app_users WHERE email = \(email)").first.map {
            UserAccount(id: try $0.string("id"), email: try $0.string("email"))
        }
    }
}
