public import SuiteStorage
import Wallet

/// The Wave module: products, invoices, payment and subscriptions, on the Wallet ledger.
///
/// Wave is a few values over one database:
/// - ``Products``: the one-time product catalogue; it implements `ProductCatalog` for Forge.
/// - ``Invoices``: invoices with gap-free yearly numbers, their status machine and audit trail,
///   client wallets, and payment (``Invoices/attemptPayment(_:idempotencyKey:actor:)``).
/// - ``PaymentGateway``: where a payment goes when the wallet is short (``LocalCheckoutGateway``).
/// - ``Subscriptions``: ``Plans`` billed every period through invoices, renewed by
///   ``Subscriptions/renewDue(now:limit:actor:progress:)`` (``SubscriptionRenewalService``).
/// - ``WaveAnalytics``: revenue trends, totals and MRR (`invoices.analytics()`).
///
/// ```swift
/// try await WaveModule.install(on: database)
/// let invoices = Invoices(database: database, clients: clients, gateway: LocalCheckoutGateway(database: database))
/// let invoice = try await invoices.make().for(client.refid).currency("USD").line("Pro licence", amount: 4_900).create()
/// switch try await invoices.attemptPayment(invoice.refid) { … }
/// ```
public enum WaveModule {
    /// The module's name in `suite_migrations` and `dock install`.
    public static let name = "wave"

    /// Installs the Wave tables and the ledger they need. Idempotent.
    @discardableResult
    public static func install(on database: any Database) async throws -> [InstallReport] {
        try await SchemaInstaller.install([Ledger.schema, schema], on: database)
    }
}
