public import Ally
public import Client
import Foundation
public import Forge
public import Logging
public import SuiteCore
public import SuiteStorage
public import Wallet
public import Wave

/// The four modules connected on one database through their boundary protocols — one call:
///
/// ```swift
/// let suite = try await ClientSuite.open("app.sqlite")          // or a postgres:// URL; installs every module
/// let reseller = try await suite.allies.make().user("u-1").company("Northwind").gold().create()
/// let result = try await suite.workflows.provision(reseller: reseller.refid, client: client.refid,
///                                                 product: "pro-1y", idempotencyKey: "order-42")
/// try await suite.close()
/// ```
///
/// Wiring: Client checks resellers through Ally (`ResellerDirectory`); Ally counts acquisitions
/// through Client (`ClientAcquisitions`); Forge checks clients through Client (`ClientDirectory`)
/// and products through Wave (`ProductCatalog`); Wave invoices clients through Client and runs
/// ``SuiteFulfilment`` inside every transaction that pays an invoice, which activates the client
/// and mints its licences. All modules publish on one ``events`` bus.
public struct ClientSuite: Sendable {
    public let database: any Database
    public let events: DomainEventBus
    public let clock: any WallClock
    public let clients: Clients
    public let ledger: Ledger
    public let allies: Allies
    public let products: Products
    public let licences: Licences
    public let gateway: LocalCheckoutGateway
    public let invoices: Invoices
    /// What a paid invoice delivers (client activation and licences), run inside the payment.
    public let fulfilment: SuiteFulfilment
    /// The two end-to-end workflows: reseller provisioning and standalone purchase.
    public let workflows: Workflows

    /// Opens `location` (a SQLite path, `:memory:`, or a `postgres://` URL), installs every module
    /// (idempotent; `install: false` requires them installed) and wires them.
    public static func open(_ location: String, install: Bool = true,
                            clientConfiguration: ClientConfiguration = .defaults, clock: any WallClock = SystemWallClock(),
                            logger: Logger = Logger(label: "clientsuite")) async throws -> ClientSuite {
        let database = try SuiteDatabase.open(location, logger: logger)
        do {
            if install {
                try await SuiteDatabase.install([], on: database)
            } else {
                try await database.read { tx in
                    for schema in SuiteDatabase.schemas.values.sorted(by: { $0.module < $1.module }) {
                        try SchemaInstaller.requireInstalled(schema, in: tx)
                    }
                }
            }
            return ClientSuite(database: database, clientConfiguration: clientConfiguration, clock: clock, logger: logger)
        } catch {
            try? await database.close()
            throw error
        }
    }

    /// Wires the modules over an open database where they are installed.
    /// - Parameters:
    ///   - webhookSecret: the local checkout gateway's signing secret; nil keeps one in the database.
    public init(database: any Database, clientConfiguration: ClientConfiguration = .defaults,
                clock: any WallClock = SystemWallClock(), events: DomainEventBus = DomainEventBus(),
                checkoutBaseURL: URL = URL(string: "http://localhost/checkout/")!, webhookSecret: Data? = nil,
                logger: Logger = Logger(label: "clientsuite")) {
        self.init(database: database, clientConfiguration: clientConfiguration, clock: clock, events: events,
                  checkoutBaseURL: checkoutBaseURL, webhookSecret: webhookSecret, failpoint: nil, logger: logger)
    }

    /// The same wiring with a test hook (`package` access: the package's own tests only), called
    /// after each workflow step inside its transaction; throwing from it aborts the step's transaction.
    package init(database: any Database, clientConfiguration: ClientConfiguration = .defaults,
                 clock: any WallClock = SystemWallClock(), events: DomainEventBus = DomainEventBus(),
                 checkoutBaseURL: URL = URL(string: "http://localhost/checkout/")!, webhookSecret: Data? = nil,
                 failpoint: WorkflowFailpoint?, logger: Logger = Logger(label: "clientsuite")) {
        self.database = database
        self.events = events
        self.clock = clock
        // Each side of the Client ↔ Ally pair gets a plain instance of the other as its directory.
        let clients = Clients(database: database, configuration: clientConfiguration,
                              resellers: Allies(database: database, clock: clock), clock: clock, events: events)
        self.clients = clients
        self.ledger = Ledger(database: database, clock: clock)
        self.allies = Allies(database: database, events: events,
                             acquisitions: Clients(database: database, configuration: clientConfiguration, clock: clock),
                             clock: clock)
        self.products = Products(database: database, clock: clock)
        self.licences = Licences(database: database, products: products, clients: clients, clock: clock, events: events)
        self.gateway = LocalCheckoutGateway(database: database, baseURL: checkoutBaseURL, webhookSecret: webhookSecret, clock: clock)
        let fulfilment = SuiteFulfilment(clients: clients, products: products, licences: licences, events: events,
                                         clock: clock, failpoint: failpoint)
        self.fulfilment = fulfilment
        self.invoices = Invoices(database: database, clients: clients, gateway: gateway, events: events,
                                 fulfilment: fulfilment, clock: clock, logger: logger)
        self.workflows = Workflows(database: database, clients: clients, allies: allies, products: products,
                                   licences: licences, invoices: invoices, fulfilment: fulfilment, clock: clock,
                                   failpoint: failpoint)
    }

    /// The receiver of the local gateway's signed webhooks.
    public func webhooks(tolerance: Int64 = 300) async throws -> CheckoutWebhooks {
        CheckoutWebhooks(invoices: invoices, signer: try await gateway.signer(tolerance: tolerance))
    }

    /// Closes the database.
    public func close() async throws { try await database.close() }
}
