public import SuiteCore
public import Wave

/// The invoice a payment acted on, beside the ``PaymentOutcome`` in JSON (`dock wave pay --json`
/// and `POST /v1/invoices/{refid}/pay` answer the same shape): its refid, its number, and the
/// licences the payment issued (keys shown once).
///
/// ```swift
/// let outcome = try await suite.invoices.attemptPayment(invoice.refid)
/// let issued = outcome.isPaid ? try suite.fulfilment.takeIssued(for: invoice.refid) ?? [] : []
/// try SuiteJSON.encoder().encode(Merged(outcome, PaidInvoice(invoice, licences: issued)))
/// ```
public struct PaidInvoice: Hashable, Sendable, Encodable {
    /// The invoice's refid.
    public var invoice: Refid
    /// The invoice's number.
    public var number: String
    /// The licences the payment issued.
    public var licences: [IssuedLicence]

    /// The invoice and the licences its payment issued.
    public init(_ invoice: Invoice, licences: [IssuedLicence] = []) {
        self.invoice = invoice.refid
        self.number = invoice.number
        self.licences = licences
    }
}
