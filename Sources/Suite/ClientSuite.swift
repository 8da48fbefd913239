public import Ally
public import Client
public import Foundation
public import Forge
public import Logging
public import SuiteCore
public import SuiteSQLite
public import SuiteStorage
public import Wallet
public import Wave

/// The one composition root: each module of the suite built once over one database, wired through
/// their boundary protocols. `dock`, the examples, the tests and a server get their modules here.
///
/// ```swift
/// let suite = try await ClientSuite.open("app.sqlite")          // installs every module; see `drivers` for PostgreSQL
/// let reseller = try await suite.allies.make().user("u-1").company("Northwind").gold().create()
/// let result = try await suite.workflows.provision(reseller: reseller.refid, client: client.refid,
///                                                 product: "pro-1y", idempotencyKey: "order-42")
/// try await suite.close()
/// ```
///
/// Modules are optional: `ClientSuite.open("app.sqlite", modules: [.client])` installs and wires
/// the Client module alone, and asking such a suite for ``allies`` throws
/// ``SuiteError/Code/moduleNotEnabled``. The accessors throw for that reason only, so
/// `try suite.clients` is the whole cost of the choice.
///
/// Wiring: Client checks resellers through Ally (`ResellerDirectory`); Ally counts acquisitions
/// through Client (`ClientAcquisitions`); Forge checks clients through Client (`ClientDirectory`)
/// and products through Wave (`ProductCatalog`); Ally and Wave keep their wallets in the one
/// ``Ledger``; Wave invoices clients through Client and, with the workflows, runs
/// ``SuiteFulfilment`` inside every transaction that pays an invoice, which activates the client
/// and mints its licences. Without a module its boundary falls back to the module's own default
/// (no resellers, no clients, any well-formed product code). All modules publish on one ``events`` bus.
public struct ClientSuite: Sendable {
    /// What a suite is built with: every boundary and setting a module takes from outside.
    public struct Configuration: Sendable {
        /// The Client module's settings (default status, metadata rules, secret key).
        public var client: ClientConfiguration
        /// Where every module reads the time.
        public var clock: any WallClock
        /// Where every module publishes its domain events after commit.
        public var events: DomainEventBus
        /// Where Wave sends a payment the client's wallet cannot cover; nil uses the suite's
        /// ``ClientSuite/gateway`` (the local checkout gateway).
        public var paymentGateway: (any PaymentGateway)?
        /// Who may be bound to a client as its user (nil: any opaque id).
        public var users: (any UserDirectory)?
        /// The product catalogue Forge checks codes against; nil uses Wave's products when Wave
        /// is part of the suite, and any well-formed code otherwise.
        public var products: (any ProductCatalog)?
        /// Tier discounts for Ally (nil: ``TierDiscounts/defaults``).
        public var discounts: TierDiscounts?
        /// Where the local checkout gateway's session URLs point.
        public var checkoutBaseURL: URL
        /// The local checkout gateway's signing secret; nil keeps one in the database.
        public var webhookSecret: Data?
        /// Where the modules log.
        public var logger: Logger

        /// Options with every default: a system clock, a fresh event bus, and the local checkout gateway.
        public init(client: ClientConfiguration = .defaults, clock: any WallClock = SystemWallClock(),
                    events: DomainEventBus = DomainEventBus(), paymentGateway: (any PaymentGateway)? = nil,
                    users: (any UserDirectory)? = nil, products: (any ProductCatalog)? = nil,
                    discounts: TierDiscounts? = nil,
                    checkoutBaseURL: URL = URL(string: "http://localhost/checkout/")!, webhookSecret: Data? = nil,
                    logger: Logger = Logger(label: "clientsuite")) {
            self.client = client
            self.clock = clock
            self.events = events
            self.paymentGateway = paymentGateway
            self.users = users
            self.products = products
            self.discounts = discounts
            self.checkoutBaseURL = checkoutBaseURL
            self.webhookSecret = webhookSecret
            self.logger = logger
        }
    }

    /// The one database every module of the suite shares.
    public let database: any Database
    /// The modules this suite was built with (each with the modules it needs).
    public let modules: Set<SuiteModule>
    /// Where every module publishes its domain events after commit.
    public let events: DomainEventBus
    /// Where every module reads the time.
    public let clock: any WallClock

    private let absence: SuiteError.Absence
    private let _clients: Clients?
    private let _ledger: Ledger?
    private let _allies: Allies?
    private let _products: Products?
    private let _licences: Licences?
    private let _gateway: LocalCheckoutGateway?
    private let _invoices: Invoices?
    private let _fulfilment: SuiteFulfilment?
    private let _workflows: Workflows?

    /// The Client module.
    public var clients: Clients { get throws { try require(_clients, .client) } }
    /// The Wallet ledger that holds Ally's credits and Wave's client wallets.
    public var ledger: Ledger { get throws { try require(_ledger, .wallet) } }
    /// The Ally module.
    public var allies: Allies { get throws { try require(_allies, .ally) } }
    /// Wave's product catalogue.
    public var products: Products { get throws { try require(_products, .wave) } }
    /// The Forge module.
    public var licences: Licences { get throws { try require(_licences, .forge) } }
    /// The local checkout gateway (sessions in this database, signed webhooks).
    public var gateway: LocalCheckoutGateway { get throws { try require(_gateway, .wave) } }
    /// Wave's invoices and payments.
    public var invoices: Invoices { get throws { try require(_invoices, .wave) } }
    /// Wave's subscriptions, billed through ``invoices``.
    public var subscriptions: Subscriptions { get throws { Subscriptions(invoices: try invoices) } }
    /// What a paid invoice delivers (client activation and licences), run inside the payment.
    public var fulfilment: SuiteFulfilment { get throws { try require(_fulfilment, .workflow) } }
    /// The two end-to-end workflows: reseller provisioning and standalone purchase.
    public var workflows: Workflows { get throws { try require(_workflows, .workflow) } }

    private func require<Module>(_ module: Module?, _ name: SuiteModule) throws -> Module {
        guard let module else { throw SuiteError.notEnabled(name, absence) }
        return module
    }

    /// Opens `location` (a SQLite path, `:memory:`, or, with `.postgres` among the drivers, a
    /// `postgres://` URL) and builds the suite.
    /// - Parameters:
    ///   - drivers: the engines this app links; SQLite by default (see ``SuiteDatabase/open(_:drivers:logger:)``).
    ///   - modules: the modules to build (with those they need); nil for every module when
    ///     installing, or for every module installed when not.
    ///   - install: installs the modules first (idempotent); false requires them installed.
    public static func open(_ location: String, drivers: [any DatabaseDriver] = [.sqlite], modules: Set<SuiteModule>? = nil,
                            install: Bool = true, configuration: Configuration = Configuration()) async throws -> ClientSuite {
        let database = try SuiteDatabase.open(location, drivers: drivers, logger: configuration.logger)
        do {
            let chosen: [SuiteModule]
            if install {
                chosen = SuiteModule.closure(of: modules ?? Set(SuiteModule.allCases))
                try await SchemaInstaller.install(chosen.map(\.schema), on: database)
            } else {
                chosen = try await SuiteDatabase.requireInstalled(modules, in: database)
            }
            return ClientSuite(database: database, modules: Set(chosen), configuration: configuration, failpoint: nil,
                               absence: modules == nil && !install ? .notInstalled : .notChosen)
        } catch {
            try? await database.close()
            throw error
        }
    }

    /// Builds the suite over an open database where `modules` are installed.
    public init(database: any Database, modules: Set<SuiteModule> = Set(SuiteModule.allCases),
                configuration: Configuration = Configuration()) {
        self.init(database: database, modules: modules, configuration: configuration, failpoint: nil)
    }

    /// The same wiring with a test hook (`package` access: the package's own tests only), called
    /// after each workflow step inside its transaction; throwing from it aborts the step's transaction.
    package init(database: any Database, modules: Set<SuiteModule> = Set(SuiteModule.allCases),
                 configuration: Configuration = Configuration(), failpoint: WorkflowFailpoint?) {
        self.init(database: database, modules: modules, configuration: configuration, failpoint: failpoint, absence: .notChosen)
    }

    private init(database: any Database, modules: Set<SuiteModule>, configuration: Configuration,
                 failpoint: WorkflowFailpoint?, absence: SuiteError.Absence) {
        self.absence = absence
        let modules = Set(SuiteModule.closure(of: modules))
        let clock = configuration.clock
        let events = configuration.events
        let logger = configuration.logger
        self.database = database
        self.modules = modules
        self.events = events
        self.clock = clock

        let ledger = modules.contains(.wallet) ? Ledger(database: database, clock: clock) : nil
        // Client ↔ Ally: each is the other's directory. Ally is built first and counts
        // acquisitions once Clients exists: one value, the same ledger, events and caches.
        let allies = ledger.flatMap { ledger in
            modules.contains(.ally)
                ? Allies(database: database, discounts: configuration.discounts, events: events, ledger: ledger,
                         clock: clock, logger: logger)
                : nil
        }
        let clients = modules.contains(.client)
            ? Clients(database: database, configuration: configuration.client,
                      resellers: allies.map { $0 as any ResellerDirectory } ?? NoResellers(),
                      users: configuration.users ?? OpaqueUserIDs(), clock: clock, events: events, logger: logger)
            : nil
        _ledger = ledger
        _clients = clients
        _allies = clients.flatMap { allies?.counting($0) } ?? allies

        let clientDirectory: any ClientDirectory = clients ?? NoClients()
        let products = modules.contains(.wave) ? Products(database: database, clock: clock, logger: logger) : nil
        _products = products
        let catalog: any ProductCatalog = configuration.products ?? products ?? OpenProductCatalog()
        let licences = modules.contains(.forge)
            ? Licences(database: database, products: catalog, clients: clientDirectory, clock: clock, events: events,
                       logger: logger)
            : nil
        _licences = licences

        let gateway = modules.contains(.wave)
            ? LocalCheckoutGateway(database: database, baseURL: configuration.checkoutBaseURL,
                                   webhookSecret: configuration.webhookSecret, clock: clock)
            : nil
        _gateway = gateway
        var fulfilment: SuiteFulfilment?
        if modules.contains(.workflow), let clients, let products, let licences {
            fulfilment = SuiteFulfilment(clients: clients, products: products, licences: licences, events: events,
                                         clock: clock, failpoint: failpoint)
        }
        _fulfilment = fulfilment
        let invoices = gateway.map { local in
            Invoices(database: database, clients: clientDirectory, gateway: configuration.paymentGateway ?? local,
                     events: events, fulfilment: fulfilment, ledger: ledger, clock: clock, logger: logger)
        }
        _invoices = invoices
        if let clients, let allies = _allies, let products, let licences, let invoices, let fulfilment {
            _workflows = Workflows(database: database, clients: clients, allies: allies, products: products,
                                   licences: licences, invoices: invoices, fulfilment: fulfilment, clock: clock,
                                   failpoint: failpoint)
        } else {
            _workflows = nil
        }
    }

    /// The receiver of the local gateway's signed webhooks.
    public func webhooks(tolerance: Int64 = 300) async throws -> CheckoutWebhooks {
        CheckoutWebhooks(invoices: try invoices, signer: try await gateway.signer(tolerance: tolerance))
    }

    /// Closes the database.
    public func close() async throws { try await database.close() }
}
