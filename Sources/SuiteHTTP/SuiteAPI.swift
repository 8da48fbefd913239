import Foundation
public import Hummingbird
public import HummingbirdAuth
import HTTPTypes
public import Logging
public import Forge
public import Prometheus
public import Suite
public import ServiceLifecycle
import Wallet
import Wave
import SuiteStorage

/// ClientSuite as an HTTP service: every route collection of the modules a suite has, behind
/// ``APIMiddleware``, on one Hummingbird router. `dock serve` runs it; a test drives its router
/// with HummingbirdTesting.
///
/// ```swift
/// let suite = try await ClientSuite.open("app.sqlite")
/// let app = SuiteAPI(suite: suite).application(host: "127.0.0.1", port: 8080)
/// let group = ServiceGroup(services: [suite.database, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
public struct SuiteAPI: Sendable {
    /// The suite the routes serve.
    public let suite: ClientSuite
    /// Where each request's log line goes.
    public let logger: Logger
    /// Where `GET /metrics` reads from, or nil for no metrics route. Requests are counted and
    /// timed through swift-metrics (Hummingbird's `MetricsMiddleware`), so the app bootstraps
    /// `MetricsSystem` with a `PrometheusMetricsFactory` over this registry, as `dock serve` does.
    public let metrics: PrometheusCollectorRegistry?
    /// The key that signs licence tokens, or nil (the token route answers 503, the key set is empty).
    public let signing: LicenceSigningKey?
    /// Where browsers and gateways reach this server (`http://127.0.0.1:8080`), or nil. With it,
    /// the local gateway's checkout page is served under `/checkout` and delivers its signed
    /// webhooks to `<publicURL>/v1/webhooks/checkout`; the suite's `checkoutBaseURL` should be
    /// `<publicURL>/checkout/`, as `dock serve` sets it.
    public let publicURL: URL?

    /// The API over `suite`.
    public init(suite: ClientSuite, logger: Logger = Logger(label: "clientsuite.http"), metrics: PrometheusCollectorRegistry? = nil,
                signing: LicenceSigningKey? = nil, publicURL: URL? = nil) {
        self.suite = suite
        self.logger = logger
        self.metrics = metrics
        self.signing = signing
        self.publicURL = publicURL
    }

    /// The request context of every route: Hummingbird's, with the request's ``APIKey``.
    public typealias Context = BasicAuthRequestContext<APIKey>

    /// Every endpoint the suite's modules serve.
    public var endpoints: [Endpoint] {
        HealthRoutes<Context>.endpoints
            + (metrics == nil ? [] : [Endpoint(.get, "/metrics")])
            + (suite.modules.contains(.client) ? ClientRoutes<Context>.endpoints : [])
            + (suite.modules.contains(.forge) ? LicenceRoutes<Context>.endpoints : [])
            + (suite.modules.contains(.ally) ? ResellerRoutes<Context>.endpoints : [])
            + (suite.modules.contains(.wave) ? BillingRoutes<Context>.endpoints + WebhookRoutes<Context>.endpoints : [])
            + (suite.modules.contains(.wave) && publicURL != nil ? CheckoutPage<Context>.endpoints : [])
            + (suite.modules.contains(.workflow) ? WorkflowRoutes<Context>.endpoints : [])
            + AnalyticsRoutes<Context>(suite: suite).endpoints
    }

    /// The keys requests are checked against (in the suite's database; reseller keys checked
    /// against the suite's resellers).
    public var keys: APIKeys {
        APIKeys(database: suite.database, resellers: (try? suite.allies).map { $0 as any ResellerDirectory } ?? NoResellers(),
                clock: suite.clock)
    }

    /// The router: health and the contract at the root, each module's routes under `/v1`. The
    /// module's tables must be installed (``HTTPTables/install(on:)``; `dock serve` does it).
    public func router() throws -> Router<Context> {
        let router = Router(context: Context.self)
        if let metrics {
            // Outermost, so that it counts every answer with its final status, problems included.
            router.add(middleware: MetricsMiddleware())
            router.get("metrics") { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        router.add(middleware: APIMiddleware(endpoints: endpoints, logger: logger))
        router.add(middleware: APIKeyAuthenticator(keys: keys))
        router.add(middleware: IdempotencyMiddleware(store: IdempotentRequests(database: suite.database, clock: suite.clock),
                                                     selfRecording: WorkflowRoutes<Context>.selfRecording))
        router.addRoutes(HealthRoutes(database: suite.database).collection)
        if suite.modules.contains(.client) {
            router.addRoutes(ClientRoutes(clients: try suite.clients).collection, atPath: "/v1/clients")
        }
        if suite.modules.contains(.forge) {
            router.addRoutes(LicenceRoutes(licences: try suite.licences, signing: signing).collection, atPath: "/v1/licences")
        }
        if suite.modules.contains(.ally) {
            router.addRoutes(ResellerRoutes(allies: try suite.allies).collection, atPath: "/v1/resellers")
        }
        if suite.modules.contains(.wave) {
            let invoices = try suite.invoices, gateway = try suite.gateway
            router.addRoutes(BillingRoutes(invoices: invoices, products: try suite.products, subscriptions: try suite.subscriptions,
                                           fulfilment: try? suite.fulfilment, gateway: gateway).collection, atPath: "/v1")
            router.addRoutes(WebhookRoutes(invoices: invoices, gateway: gateway).collection, atPath: "/v1/webhooks")
            if let publicURL {
                router.addRoutes(CheckoutPage(gateway: gateway, invoices: invoices,
                                              webhookURL: publicURL.appending(path: "v1/webhooks/checkout")).collection, atPath: "/checkout")
            }
        }
        if suite.modules.contains(.workflow) {
            router.addRoutes(WorkflowRoutes(workflows: try suite.workflows, clients: try suite.clients).collection, atPath: "/v1/workflows")
        }
        router.addRoutes(AnalyticsRoutes(suite: suite).collection, atPath: "/v1/analytics")
        return router
    }

    /// The background work a server of the suite runs beside its routes, each safe to run in any
    /// number of processes at once: pruning expired `Idempotency-Key` answers, and, with their
    /// modules, recording expired licences, releasing expired ledger holds and renewing due
    /// subscriptions. `dock serve` runs them in its service group.
    public func backgroundServices() throws -> [any Service] {
        var services: [any Service] = [IdempotencySweeper(store: IdempotentRequests(database: suite.database, clock: suite.clock), logger: logger)]
        if suite.modules.contains(.forge) { services.append(LicenceExpirySweeper(licences: try suite.licences, logger: logger)) }
        if suite.modules.contains(.wallet) { services.append(try HoldExpirySweeper(ledger: try suite.ledger, logger: logger)) }
        if suite.modules.contains(.wave) { services.append(SubscriptionRenewalService(subscriptions: try suite.subscriptions, logger: logger)) }
        return services
    }

    /// The application on `host:port` (port 0 picks a free one), logging to ``logger``. It is a
    /// ServiceLifecycle `Service`: on graceful shutdown it stops accepting connections and lets
    /// the requests in flight finish.
    public func application(host: String = "127.0.0.1", port: Int = 8080,
                            onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        Application(router: try router(), configuration: .init(address: .hostname(host, port: port), serverName: "ClientSuite"),
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
                    logger: logger)
    }
}
