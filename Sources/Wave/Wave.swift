/// The Wave module: products, invoices and payment, on the Wallet ledger.
///
/// This file marks the module; its types live beside it.
public enum WaveModule {
    /// The module's name in `suite_migrations` and `dock install`.
    public static let name = "wave"
}
