public import SuiteCore

extension Products {
    /// The product named by `text`: its refid when it starts with `PR-`, else its slug. Throws
    /// "Product Not Found" if there is none.
    ///
    /// ```swift
    /// let product = try await products.find(refidOrSlug: "pro-1y")
    /// ```
    public func find(refidOrSlug text: String) async throws -> Product {
        let found = text.hasPrefix("PR-") ? try await find(Refid(rawValue: text)) : try await find(slug: text)
        guard let found else { throw WaveError(.notFound, message: "Product Not Found: no product \(text.prefix(64))") }
        return found
    }
}

extension Invoices {
    /// The invoice named by `text`: its number when it starts with `INV-`, else its refid. Throws
    /// "Invoice Not Found" if there is none.
    ///
    /// ```swift
    /// let invoice = try await invoices.find(refidOrNumber: "INV-2026-0001")
    /// ```
    public func find(refidOrNumber text: String) async throws -> Invoice {
        let found = text.hasPrefix("INV-") ? try await find(number: text) : try await find(Refid(rawValue: text))
        guard let found else { throw WaveError(.notFound, message: "Invoice Not Found: no invoice \(text.prefix(64))") }
        return found
    }
}
